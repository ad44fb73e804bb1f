package fetcher

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// inFlight counts concurrent requests, overall and per Host header.
type inFlight struct {
	mu               sync.Mutex
	now, max         int
	perHost, maxHost map[string]int
}

func (c *inFlight) enter(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now++
	c.max = max(c.max, c.now)
	c.perHost[host]++
	c.maxHost[host] = max(c.maxHost[host], c.perHost[host])
}

func (c *inFlight) leave(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now--
	c.perHost[host]--
}

func TestConcurrencyLimits(t *testing.T) {
	body := fetchFixture(t, "perspectives.rss")
	count := &inFlight{perHost: map[string]int{}, maxHost: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.enter(r.Host)
		defer count.leave(r.Host)
		time.Sleep(30 * time.Millisecond)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)

	// Five hosts of six sources each, all answered by srv.
	var urls []string
	for h := range 5 {
		for s := range 6 {
			urls = append(urls, fmt.Sprintf("http://host%d.test/feed/%d", h, s))
		}
	}
	cfg := testConfig(feedsAt(urls...)...)
	cfg.Fetch.Concurrency = 4
	cfg.Fetch.PerHost = 2
	tr := newTransport(cfg.Fetch, nil)
	client := &http.Client{Transport: tr, CheckRedirect: checkRedirect}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	f := newTestFetcher(t, cfg, newFakeStore(), Options{Client: client})
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.FeedURL != urls[i] || r.Outcome != "ok" {
			t.Errorf("result %d = %s %q, want %s ok", i, r.FeedURL, r.Outcome, urls[i])
		}
	}
	if count.max > cfg.Fetch.Concurrency || count.max < 2 {
		t.Errorf("max requests in flight = %d, want 2..%d", count.max, cfg.Fetch.Concurrency)
	}
	for host, n := range count.maxHost {
		if n > cfg.Fetch.PerHost {
			t.Errorf("max requests in flight to %s = %d, want <= %d", host, n, cfg.Fetch.PerHost)
		}
	}
}

func TestRoundRobin(t *testing.T) {
	hosts := []string{"a", "a", "a", "b", "c", "c"}
	var jobs []job
	for _, h := range hosts {
		jobs = append(jobs, job{src: &source{host: h}})
	}
	if got, want := roundRobin(jobs), []int{0, 3, 4, 1, 5, 2}; !slices.Equal(got, want) {
		t.Errorf("roundRobin = %v, want %v", got, want)
	}
}

func TestPanicRecovery(t *testing.T) {
	srv := newFeedServer(t)
	a := srv.set("/a", route{body: fetchFixture(t, "livemint-world.rss")})
	b := srv.set("/b", route{body: fetchFixture(t, "perspectives.rss")})
	c := srv.set("/c", route{body: fetchFixture(t, "bloomberg-politics.atom")})
	store := newFakeStore()
	store.panicOn = b
	f := newTestFetcher(t, testConfig(feedsAt(a, b, c)...), store, Options{})
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r := res[1]; r.Outcome != "panic" || r.Err == nil || !strings.Contains(r.Err.Error(), "exploded") || r.FeedURL != b {
		t.Errorf("panicking source: %+v", r)
	}
	for _, r := range []Result{res[0], res[2]} {
		if r.Outcome != "ok" || r.New == 0 {
			t.Errorf("%s: %+v, want ok", r.FeedURL, r)
		}
	}
}

func TestFetchNowUnknownURL(t *testing.T) {
	srv := newFeedServer(t)
	known := srv.set("/feed", route{body: fetchFixture(t, "perspectives.rss")})
	f := newTestFetcher(t, testConfig(feedsAt(known)...), newFakeStore(), Options{})
	_, err := f.FetchNow(t.Context(), known, "https://nowhere.example/rss")
	if err == nil || !strings.Contains(err.Error(), "https://nowhere.example/rss") {
		t.Fatalf("FetchNow with an unknown URL: err = %v", err)
	}
	if n := len(srv.seen("/feed")); n != 0 {
		t.Errorf("the known source was fetched %d times despite the error", n)
	}
}

func TestFetchNowSubsetInConfigOrder(t *testing.T) {
	srv := newFeedServer(t)
	var urls []string
	for i := range 4 {
		urls = append(urls, srv.set(fmt.Sprintf("/f%d", i), route{body: fetchFixture(t, "perspectives.rss")}))
	}
	f := newTestFetcher(t, testConfig(feedsAt(urls...)...), newFakeStore(), Options{})
	res, err := f.FetchNow(t.Context(), urls[3], urls[1], urls[3])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.FeedURL)
	}
	if want := []string{urls[1], urls[3]}; !slices.Equal(got, want) {
		t.Errorf("results for %v, want %v", got, want)
	}
}

func TestPassesDoNotOverlap(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	active, maxActive := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		active++
		maxActive = max(maxActive, active)
		mu.Unlock()
		<-release
		mu.Lock()
		active--
		mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
	}))
	t.Cleanup(srv.Close)
	f := newTestFetcher(t, testConfig(feedsAt(srv.URL)...), newFakeStore(), Options{})

	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := f.FetchNow(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if maxActive != 1 {
		t.Errorf("%d passes ran at once, want 1", maxActive)
	}
	// A scheduled tick skips instead of waiting while a pass runs.
	f.pass <- struct{}{}
	f.scheduledPass(t.Context())
	<-f.pass
}

// newTestStore opens a bbolt store in a temporary directory; cleanup checks
// its invariants and closes it.
func newTestStore(t testing.TB, now func() time.Time) *storage.Store {
	t.Helper()
	s, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{Now: now})
	if err != nil {
		t.Fatalf("storage.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("store check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return s
}

func TestIntegrationStorage(t *testing.T) {
	srv := newFeedServer(t)
	// Three kinds of server: validators and 304s, no validators (body hash),
	// and a body that changes on every request while its items do not.
	livemint := srv.set("/livemint", route{body: fetchFixture(t, "livemint-world.rss"), contentType: "application/rss+xml; charset=utf-8", etag: `"lm-1"`})
	bloomberg := srv.set("/bloomberg", route{body: fetchFixture(t, "bloomberg-politics.atom"), contentType: "application/atom+xml"})
	var hits atomic.Int32
	persp := string(fetchFixture(t, "perspectives.rss"))
	perspectives := srv.set("/perspectives", route{handler: func(w http.ResponseWriter, _ *http.Request) {
		n := hits.Add(1)
		body := strings.Replace(persp, "<channel>", fmt.Sprintf("<channel><!-- request %d -->", n), 1)
		_, _ = w.Write([]byte(body))
	}})

	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	cfg := testConfig(
		config.Feed{URL: livemint, SourceCategories: true, Categories: []string{"World"}},
		config.Feed{URL: bloomberg, Title: "Bloomberg Politics", SourceCategories: true},
		config.Feed{URL: perspectives, Categories: []string{"Commentary"}},
	)
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
	ctx := t.Context()

	first, err := f.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range first {
		// Bloomberg's only item is the story Mint syndicated: whichever
		// of the two is saved second merges into the first.
		if r.Err != nil || r.Outcome != "ok" || (r.New == 0 && r.FeedURL != bloomberg) {
			t.Errorf("first pass %s: %+v", r.FeedURL, r)
		}
		total += r.New
	}
	if first[1].Title != "Bloomberg Politics" {
		t.Errorf("configured title not used: %q", first[1].Title)
	}
	latest, err := store.Latest(ctx, storage.AllSlug, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != total {
		t.Errorf("Latest returned %d articles, the pass saved %d", len(latest), total)
	}
	perSource := map[string]int{}
	for _, a := range latest {
		perSource[a.Source.FeedURL]++
	}
	if n := first[0].New + first[1].New; n != 2 {
		t.Errorf("Mint and Bloomberg stored %d new stories, want 2 (the syndicated one once)", n)
	}
	merged := 0
	for _, a := range latest {
		if len(a.Via) == 0 {
			continue
		}
		merged++
		pair := []string{a.Source.FeedURL, a.Via[0].Source.FeedURL}
		if len(a.Via) != 1 || !slices.Contains(pair, livemint) || !slices.Contains(pair, bloomberg) {
			t.Errorf("story %q from %s via %+v, want Mint and Bloomberg", a.Title, a.Source.FeedURL, a.Via)
		}
		// Bloomberg published it first (14:21:05Z, Mint 14:26:19Z): the
		// story is attributed to Bloomberg whichever copy came first.
		if a.Source.FeedURL != bloomberg {
			t.Errorf("story %q attributed to %s, want Bloomberg, its earliest copy", a.Title, a.Source.FeedURL)
		}
	}
	if merged != 1 {
		t.Errorf("%d merged stories, want 1", merged)
	}
	if got, want := []int{perSource[livemint] + perSource[bloomberg], perSource[perspectives]}, []int{first[0].New + first[1].New, first[2].New}; !slices.Equal(got, want) {
		t.Errorf("stories stored from Mint and Bloomberg, Perspectives: %v, reported new %v", got, want)
	}
	for _, u := range []string{livemint, bloomberg, perspectives} {
		st, ok, err := store.SourceState(ctx, u)
		// @every 15m: the source's own slot, at least 7m30s away.
		if err != nil || !ok || st.Outcome != "ok" || !inSlotRange(st.NextDue, clock.Now(), 15*time.Minute) {
			t.Errorf("state of %s = %+v, %v, %v", u, st, ok, err)
		}
	}

	clock.Advance(23 * time.Minute) // past every source's slot
	second, err := f.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome := []string{"not-modified", "not-modified", "ok"}
	for i, r := range second {
		if r.Err != nil || r.Outcome != wantOutcome[i] || r.New != 0 || r.Updated != 0 {
			t.Errorf("second pass %s: %+v, want %s with nothing written", r.FeedURL, r, wantOutcome[i])
		}
	}
	if r := second[2]; r.Unchanged != perSource[perspectives] {
		t.Errorf("second pass of the changing body: %d unchanged, want %d", r.Unchanged, perSource[perspectives])
	}
	if h := srv.seen("/livemint"); len(h) != 2 || h[1].Get("If-None-Match") != `"lm-1"` {
		t.Errorf("livemint requests: %v", h)
	}
}

// inSlotRange reports whether next is where nextRun may put the next fetch
// of an "@every every" source fetched at from: in [from+every/2, from+3*every/2).
func inSlotRange(next, from time.Time, every time.Duration) bool {
	return !next.Before(from.Add(every/2)) && next.Before(from.Add(every*3/2))
}
