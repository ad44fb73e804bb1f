package fetcher

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHostSpacingAndGzip(t *testing.T) {
	const spacing = 80 * time.Millisecond
	var mu sync.Mutex
	var starts []time.Time
	var encodings []string
	srv := newFeedServer(t)
	body := fetchFixture(t, "perspectives.rss")
	var urls []string
	for i := range 5 {
		urls = append(urls, srv.set(fmt.Sprintf("/f%d", i), route{handler: func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			encodings = append(encodings, r.Header.Get("Accept-Encoding"))
			mu.Unlock()
			_, _ = w.Write(body)
		}}))
	}
	cfg := testConfig(feedsAt(urls...)...)
	cfg.Fetch.PerHost = 2
	cfg.Fetch.HostInterval = spacing
	// Request starts are taken as the client sends them, so that a busy
	// test server cannot make them look closer than they were.
	client := newHTTPClient(cfg.Fetch, nil)
	client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return newHTTPClient(cfg.Fetch, nil).Transport.RoundTrip(r)
	})
	f := newTestFetcher(t, cfg, newFakeStore(), Options{Client: client})
	if _, err := f.FetchNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 5 {
		t.Fatalf("%d requests, want 5", len(starts))
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(starts); i++ {
		// The spacing holds between the ends of the waits; building each
		// request after it may take a little more or less time.
		if d := starts[i].Sub(starts[i-1]); d < spacing-5*time.Millisecond {
			t.Errorf("requests %d and %d to one host %v apart, want at least %v", i-1, i, d, spacing)
		}
	}
	for i, e := range encodings {
		if e != "gzip" {
			t.Errorf("request %d Accept-Encoding = %q, want gzip", i, e)
		}
	}
}

// TestSlotsSpreadSources checks, with a fake clock, that 1,000 sources on
// one schedule get slots spread over their interval, and that scheduled
// passes then fetch each once per interval in small groups.
func TestSlotsSpreadSources(t *testing.T) {
	const n = 1000
	var feeds []string
	for i := range n {
		feeds = append(feeds, fmt.Sprintf("http://h%d.test/feed/%d", i%50, i))
	}
	cfg := testConfig(feedsAt(feeds...)...)
	cfg.Fetch.Concurrency = 64
	tr := &countingTransport{count: map[string]int{}}
	clock := newTestClock()
	store := newFakeStore()
	f := newTestFetcher(t, cfg, store, Options{Client: &http.Client{Transport: tr}, Now: clock.Now})

	// Slots: by the second, as nextRun computes them from one instant.
	perSecond := map[time.Time]int{}
	for _, src := range f.sources {
		perSecond[src.nextRun(clock.Now(), 0).Truncate(time.Second)]++
	}
	most := 0
	for _, c := range perSecond {
		most = max(most, c)
	}
	if most > 8 || len(perSecond) < 500 {
		t.Errorf("slots of %d sources: %d distinct seconds, at most %d in one; want spread over the 15m interval", n, len(perSecond), most)
	}

	// Passes on the scheduler's ticks: the first fetches every (new) source;
	// then each tick fetches only the sources whose slot passed.
	res, err := f.RunOnce(t.Context())
	if err != nil || len(res) != n {
		t.Fatalf("first pass: %d results, %v", len(res), err)
	}
	perTick := []int{}
	for range 30 * time.Minute / tickInterval {
		clock.Advance(tickInterval)
		res, err := f.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		perTick = append(perTick, len(res))
	}
	total := 0
	for _, c := range perTick {
		total += c
		if avg := n * int(tickInterval) / int(15*time.Minute); c > 3*avg {
			t.Errorf("a tick fetched %d sources, want about %d (per-tick counts %v)", c, avg, perTick)
		}
	}
	// 30 minutes: every source once or twice more, never more often.
	for u, c := range tr.counts() {
		if c < 2 || c > 3 {
			t.Errorf("%s fetched %d times in 30m, want 2 or 3", u, c)
		}
	}
	t.Logf("fetches per %v tick over 30 minutes: %v (%d in all)", tickInterval, perTick, total)
}

// TestSourceNeverRunsTwiceAtOnce races scheduled and forced passes over
// sources whose server counts requests in flight per path.
func TestSourceNeverRunsTwiceAtOnce(t *testing.T) {
	var mu sync.Mutex
	inFlight, worst := map[string]int{}, 0
	srv := newFeedServer(t)
	body := fetchFixture(t, "perspectives.rss")
	var urls []string
	for i := range 4 {
		urls = append(urls, srv.set(fmt.Sprintf("/f%d", i), route{handler: func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight[r.URL.Path]++
			worst = max(worst, inFlight[r.URL.Path])
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			inFlight[r.URL.Path]--
			mu.Unlock()
			_, _ = w.Write(body)
		}}))
	}
	cfg := testConfig(feedsAt(urls...)...)
	cfg.Fetch.PerHost = 4
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = f.RunOnce(t.Context())
			} else {
				_, _ = f.FetchNow(t.Context(), urls...)
			}
		})
	}
	wg.Wait()
	if worst != 1 {
		t.Errorf("a source had %d requests in flight at once, want 1", worst)
	}
}

func TestRetryAfterDefersHost(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter func(now time.Time) string
	}{
		{"429 seconds", http.StatusTooManyRequests, func(time.Time) string { return "600" }},
		{"503 http date", http.StatusServiceUnavailable, func(now time.Time) string {
			return now.Add(10 * time.Minute).Format(http.TimeFormat)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			srv := newFeedServer(t)
			limited := srv.set("/limited", route{handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", tt.retryAfter(clock.Now()))
				w.WriteHeader(tt.status)
			}})
			sibling := srv.set("/sibling", route{body: fetchFixture(t, "perspectives.rss")})
			other := strings.Replace(srv.set("/other", route{body: fetchFixture(t, "livemint-world.rss")}), "127.0.0.1", "localhost", 1)
			cfg := testConfig(feedsAt(limited, sibling, other)...)
			cfg.Fetch.Concurrency, cfg.Fetch.PerHost = 1, 1 // in config order
			store := newFakeStore()
			f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})

			res, err := f.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range res {
				got[r.FeedURL] = r.Outcome
			}
			want := map[string]string{limited: "rate-limited", sibling: "deferred", other: "ok"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("outcomes %v, want %v", got, want)
			}
			if n := len(srv.seen("/sibling")); n != 0 {
				t.Errorf("sibling on the deferred host asked %d times", n)
			}
			if st := store.state(t, limited); !st.RetryAfter.Equal(clock.Now().Add(10*time.Minute)) || st.ConsecutiveFailures != 1 {
				t.Errorf("limited state: RetryAfter %v, failures %d", st.RetryAfter, st.ConsecutiveFailures)
			}

			// Within the wait: no request to the host at all, even after a
			// restart (a new Fetcher over the same store).
			for _, restart := range []bool{false, true} {
				clock.Advance(4 * time.Minute)
				if restart {
					f = newTestFetcher(t, cfg, store, Options{Now: clock.Now})
				}
				if _, err := f.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				if n := len(srv.seen("/limited")) + len(srv.seen("/sibling")); n != 1 {
					t.Errorf("restart=%v: host asked %d times during its Retry-After", restart, n)
				}
			}
			// After it (and the backoff) both are asked again, and the host,
			// now healthy, serves them.
			srv.set("/limited", route{body: fetchFixture(t, "bloomberg-politics.atom")})
			clock.Advance(30 * time.Minute)
			if _, err := f.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			if len(srv.seen("/limited")) != 2 || len(srv.seen("/sibling")) != 1 {
				t.Errorf("after the wait: limited asked %d, sibling %d times; want 2 and 1",
					len(srv.seen("/limited")), len(srv.seen("/sibling")))
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2025, 8, 18, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{now.Add(time.Hour).Format(http.TimeFormat), time.Hour, true},
		{"99999999999999999999", 0, false}, // not an int64
		{"9999999999", maxRetryAfter, true},
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, false},
		{"0", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := retryAfter(tt.in, now)
			if ok != tt.ok || (ok && got.Sub(now) != tt.want) {
				t.Errorf("retryAfter(%q) = now+%v, %v; want now+%v, %v", tt.in, got.Sub(now), ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMaxAgeParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"max-age=3600", time.Hour},
		{"public, max-age=600, s-maxage=60", 10 * time.Minute},
		{`max-age="300"`, 5 * time.Minute},
		{"no-cache, max-age=600", 0},
		{"max-age=600, no-store", 0},
		{"max-age=-1", 0},
		{"max-age=abc", 0},
		{"", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := maxAge(tt.in); got != tt.want {
				t.Errorf("maxAge(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestIntervalFloors(t *testing.T) {
	ttlFeed := []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>120</ttl>
<item><title>a</title><link>http://x.test/a</link></item></channel></rss>`)
	syFeed := []byte(`<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>S</title>
<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
<item><title>a</title><link>http://x.test/a</link></item></channel></rss>`)
	weekly := []byte(`<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>W</title>
<sy:updatePeriod>weekly</sy:updatePeriod>
<item><title>a</title><link>http://x.test/a</link></item></channel></rss>`)
	plain := fetchFixture(t, "perspectives.rss")
	tests := []struct {
		name         string
		body         []byte
		cacheControl string
		wantLo       time.Duration // least NextDue - now
		wantHi       time.Duration
	}{
		{"none: the 15m slot", plain, "", 7*time.Minute + 30*time.Second, 22*time.Minute + 30*time.Second},
		{"short max-age does not shorten", plain, "max-age=60", 7*time.Minute + 30*time.Second, 22*time.Minute + 30*time.Second},
		{"max-age 1h", plain, "max-age=3600", time.Hour, time.Hour + 15*time.Minute},
		{"ttl 120 minutes", ttlFeed, "", 2 * time.Hour, 2*time.Hour + 15*time.Minute},
		{"sy hourly twice", syFeed, "", 30 * time.Minute, 45 * time.Minute},
		{"weekly capped by max_interval", weekly, "", 6 * time.Hour, 6*time.Hour + 15*time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFeedServer(t)
			u := srv.set("/feed", route{handler: func(w http.ResponseWriter, _ *http.Request) {
				if tt.cacheControl != "" {
					w.Header().Set("Cache-Control", tt.cacheControl)
				}
				_, _ = w.Write(tt.body)
			}})
			cfg := testConfig(feedsAt(u)...)
			cfg.Fetch.MaxInterval = 6 * time.Hour
			clock := newTestClock()
			store := newFakeStore()
			f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
			if r := fetchOne(t, f, u); r.Err != nil {
				t.Fatal(r.Err)
			}
			st := store.state(t, u)
			if d := st.NextDue.Sub(clock.Now()); d < tt.wantLo || d > tt.wantHi {
				t.Errorf("NextDue in %v, want within [%v, %v] (state %+v)", d, tt.wantLo, tt.wantHi, st)
			}
			// A scheduled pass before NextDue does not fetch it either.
			clock.Advance(tt.wantLo - time.Second)
			if res, _ := f.RunOnce(t.Context()); len(res) != 0 {
				t.Errorf("fetched again after %v", tt.wantLo-time.Second)
			}
		})
	}
}

func TestGoneStopsSource(t *testing.T) {
	srv := newFeedServer(t)
	u := srv.set("/feed", route{status: http.StatusGone})
	clock := newTestClock()
	store := newFakeStore()
	f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{Now: clock.Now})
	res, err := f.RunOnce(t.Context())
	if err != nil || len(res) != 1 || res[0].Outcome != "gone" || res[0].Err == nil {
		t.Fatalf("first pass: %+v, %v", res, err)
	}
	for range 3 {
		clock.Advance(48 * time.Hour)
		if res, _ := f.RunOnce(t.Context()); len(res) != 0 {
			t.Fatalf("a gone source was fetched by a scheduled pass: %+v", res)
		}
	}
	if n := len(srv.seen("/feed")); n != 1 {
		t.Errorf("gone source asked %d times, want 1", n)
	}
	if st := store.state(t, u); st.Outcome != "gone" || !strings.Contains(st.LastError, "410") {
		t.Errorf("state %+v, want outcome gone and the 410 in its error", st)
	}
	// The operator forces a fetch (tributary fetch -feed URL): it comes back.
	srv.set("/feed", route{body: fetchFixture(t, "perspectives.rss")})
	if r := fetchOne(t, f, u); r.Err != nil || r.Outcome != "ok" {
		t.Errorf("forced fetch: %+v", r)
	}
	clock.Advance(time.Hour)
	if res, _ := f.RunOnce(t.Context()); len(res) != 1 {
		t.Errorf("after recovery, scheduled passes fetch it again: %d results", len(res))
	}
}

func TestPermanentRedirectRemembered(t *testing.T) {
	srv := newFeedServer(t)
	srv.set("/new.xml", route{body: fetchFixture(t, "perspectives.rss"), etag: `"n1"`})
	old := srv.set("/old", route{status: http.StatusMovedPermanently, location: "/new.xml"})
	temp := srv.set("/temp", route{status: http.StatusFound, location: "/new.xml"})
	perm308 := srv.set("/old308", route{status: http.StatusPermanentRedirect, location: "/old"})
	store := newFakeStore()
	clock := newTestClock()
	f := newTestFetcher(t, testConfig(feedsAt(old, temp, perm308)...), store, Options{Now: clock.Now})
	newURL := srv.URL + "/new.xml"

	for i := range 3 {
		res, err := f.FetchNow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("fetch %d %s: %v", i, r.FeedURL, r.Err)
			}
		}
		clock.Advance(time.Hour)
		want := ""
		if i >= 1 {
			want = newURL // seen twice in a row
		}
		for _, u := range []string{old, perm308} {
			if got := store.state(t, u).PermanentURL; got != want {
				t.Errorf("after fetch %d: %s PermanentURL = %q, want %q", i, u, got, want)
			}
		}
		if got := store.state(t, temp).PermanentURL; got != "" {
			t.Errorf("a 302 was remembered: %q", got)
		}
	}
	// The third fetch went straight to the new URL, with its validator.
	if n := len(srv.seen("/old")); n != 2+2 { // twice for /old, twice through /old308
		t.Errorf("/old asked %d times, want 4 (then no more)", n)
	}
	if h := srv.seen("/new.xml"); h[len(h)-1].Get("If-None-Match") != `"n1"` {
		t.Errorf("last request to the new URL had If-None-Match %q", h[len(h)-1].Get("If-None-Match"))
	}
	if st := store.state(t, old); st.FeedURL != old {
		t.Errorf("state key changed to %q: the config URL stays the source's identity", st.FeedURL)
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
