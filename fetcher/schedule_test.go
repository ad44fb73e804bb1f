package fetcher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func TestBackoff(t *testing.T) {
	now := time.Date(2025, 8, 18, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		spec  string
		fails int
		want  time.Duration // before jitter and before the next-run floor
		floor time.Duration // the schedule's next activation from now
	}{
		{"@every 15m", 1, 15 * time.Minute, 15 * time.Minute},
		{"@every 15m", 2, 30 * time.Minute, 15 * time.Minute},
		{"@every 15m", 5, 4 * time.Hour, 15 * time.Minute},
		{"@every 15m", 7, 16 * time.Hour, 15 * time.Minute},
		{"@every 15m", 8, 24 * time.Hour, 15 * time.Minute},
		{"@every 15m", 1000, 24 * time.Hour, 15 * time.Minute},
		{"@every 10s", 1, time.Minute, 10 * time.Second}, // base at least 1m
		{"@every 10s", 3, 4 * time.Minute, 10 * time.Second},
		{"0 6 * * *", 1, 24 * time.Hour, 20*time.Hour + 30*time.Minute},
		{"0 6 * * *", 4, 24 * time.Hour, 20*time.Hour + 30*time.Minute},
		{"@yearly", 2, 24 * time.Hour, 0}, // floor is next New Year
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.spec, tt.fails), func(t *testing.T) {
			sched, err := cron.ParseStandard(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			next := sched.Next(now)
			lo, hi := later(now.Add(tt.want*9/10), next), later(now.Add(tt.want*11/10), next)
			seen := map[time.Time]bool{}
			for range 200 {
				got := backoff(sched, tt.fails, now)
				if got.Before(lo) || got.After(hi) {
					t.Fatalf("backoff = now+%v, want within [%v, %v]", got.Sub(now), lo.Sub(now), hi.Sub(now))
				}
				seen[got] = true
			}
			if hi.Sub(lo) > time.Second && len(seen) < 2 {
				t.Errorf("backoff has no jitter: always %v", seen)
			}
		})
	}
}

func TestIsDue(t *testing.T) {
	now := time.Date(2025, 8, 18, 9, 30, 0, 0, time.UTC)
	cfg := testConfig(feedsAt("http://a.test/feed", "http://b.test/feed")...)
	for i := range cfg.Feeds {
		cfg.Feeds[i].Cron = cron.Every(5 * time.Minute)
	}
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	src := f.sources[0]
	f.hosts.deferHost("b.test", now.Add(time.Minute))
	tests := []struct {
		name     string
		st       storage.SourceState
		hasState bool
		want     bool
	}{
		{"never fetched", storage.SourceState{}, false, true},
		{"due", storage.SourceState{NextDue: now}, true, true},
		{"not yet", storage.SourceState{NextDue: now.Add(time.Second), LastFetch: now.Add(-time.Minute)}, true, false},
		{"schedule shortened", storage.SourceState{NextDue: now.Add(time.Hour), LastFetch: now.Add(-6 * time.Minute)}, true, true},
		{"backing off", storage.SourceState{NextDue: now.Add(time.Hour), LastFetch: now.Add(-6 * time.Minute), ConsecutiveFailures: 3}, true, false},
		{"gone", storage.SourceState{NextDue: now, Outcome: "gone"}, true, false},
		{"floor from max-age", storage.SourceState{NextDue: now.Add(time.Hour), LastFetch: now.Add(-6 * time.Minute), ServerInterval: time.Hour}, true, false},
		{"floor capped by max_interval", storage.SourceState{NextDue: now.Add(time.Hour), LastFetch: now.Add(-25 * time.Hour), FeedInterval: 72 * time.Hour}, true, true},
		{"host moved to a deferred host", storage.SourceState{NextDue: now, PermanentURL: "http://b.test/new"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.isDue(src, tt.st, tt.hasState, now); got != tt.want {
				t.Errorf("isDue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRunOnceDue(t *testing.T) {
	srv := newFeedServer(t)
	global := srv.set("/global", route{body: fetchFixture(t, "livemint-world.rss"), etag: `"g"`})
	fast := srv.set("/fast", route{body: fetchFixture(t, "perspectives.rss"), etag: `"f"`})
	broken := srv.set("/broken", route{status: http.StatusServiceUnavailable})
	cfg := testConfig(feedsAt(global, fast, broken)...)
	cfg.Feeds[1].Cron = cron.Every(5 * time.Minute)
	clock := newTestClock()
	store := newFakeStore()
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})

	// Two hours of minute ticks: record when each source is fetched.
	const tick = time.Minute
	start := clock.Now()
	fetched := map[string][]time.Duration{}
	for range 120 {
		res, err := f.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			fetched[r.FeedURL] = append(fetched[r.FeedURL], clock.Now().Sub(start))
		}
		clock.Advance(tick)
	}
	gaps := func(ts []time.Duration) []time.Duration {
		var g []time.Duration
		for i := 1; i < len(ts); i++ {
			g = append(g, ts[i]-ts[i-1])
		}
		return g
	}
	// Healthy sources: fetched at once, then in their own slot: the slot
	// lies between half and one and a half intervals later (where depends
	// on the URL, whose port is random), and the fetch happens at the first
	// tick at or after it; then the gaps are exactly one interval.
	for _, c := range []struct {
		url   string
		every time.Duration
	}{{global, 15 * time.Minute}, {fast, 5 * time.Minute}} {
		g := gaps(fetched[c.url])
		if len(fetched[c.url]) == 0 || fetched[c.url][0] != 0 || len(g) < 2 {
			t.Fatalf("%s fetched at %v", c.url, fetched[c.url])
		}
		if g[0] < c.every/2 || g[0] >= c.every*3/2+tick {
			t.Errorf("%s: first gap %v, want within [%v, %v)", c.url, g[0], c.every/2, c.every*3/2+tick)
		}
		for _, d := range g[1:] {
			if d != c.every {
				t.Errorf("%s: gaps %v, want %v after the first", c.url, g, c.every)
				break
			}
		}
	}
	// The broken source backs off: 15m, 30m, 1h (each ±10%, plus up to a tick).
	g := gaps(fetched[broken])
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour}
	if len(g) != len(want) {
		t.Fatalf("broken fetched at %v, want gaps about %v", fetched[broken], want)
	}
	for i, w := range want {
		if g[i] < w*9/10 || g[i] > w*11/10+time.Minute {
			t.Errorf("broken gap %d = %v, want %v ±10%%", i, g[i], w)
		}
	}
}

func TestRunOnceCanceled(t *testing.T) {
	f := newTestFetcher(t, testConfig(feedsAt("http://127.0.0.1:1/feed")...), newFakeStore(), Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.RunOnce(ctx); err == nil {
		t.Error("RunOnce with a cancelled context: no error")
	}
}

// countingTransport answers every request in memory: 304, or a block until
// the request is cancelled for URLs in stall.
type countingTransport struct {
	mu    sync.Mutex
	count map[string]int
	stall map[string]bool
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	c.mu.Lock()
	c.count[u]++
	stall := c.stall[u]
	c.mu.Unlock()
	if stall {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return &http.Response{
		StatusCode: http.StatusNotModified,
		Status:     "304 Not Modified",
		Header:     http.Header{},
		Body:       io.NopCloser(bytes.NewReader(nil)),
		Request:    req,
	}, nil
}

func (c *countingTransport) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{}
	for k, v := range c.count {
		m[k] = v
	}
	return m
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const everyMin, every5, global = "http://a.test/1m", "http://b.test/5m", "http://c.test/15m"
		cfg := testConfig(feedsAt(everyMin, every5, global)...)
		cfg.Feeds[0].Cron = cron.Every(1 * time.Minute)
		cfg.Feeds[1].Cron = cron.Every(5 * time.Minute)
		tr := &countingTransport{count: map[string]int{}}
		f, err := New(cfg, newFakeStore(), Options{Client: &http.Client{Transport: tr}, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- f.Run(ctx) }()

		synctest.Wait()
		want := map[string]int{everyMin: 1, every5: 1, global: 1}
		if got := tr.counts(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after start: %v, want %v", got, want)
		}
		time.Sleep(15*time.Minute + 30*time.Second)
		synctest.Wait()
		// Each source keeps a stable slot within its interval, at least half
		// an interval after its first fetch; the 10s tick finds each slot.
		want = map[string]int{everyMin: 16, every5: 4, global: 2}
		if got := tr.counts(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after 15m30s: %v, want %v", got, want)
		}

		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		default:
			t.Fatal("Run did not return after cancel")
		}
	})
}

func TestRunStopsInFlightPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const stuck, fine = "http://slow.test/feed", "http://fine.test/feed"
		cfg := testConfig(feedsAt(stuck, fine)...)
		cfg.Fetch.Timeout = time.Hour
		tr := &countingTransport{count: map[string]int{}, stall: map[string]bool{stuck: true}}
		store := newFakeStore()
		f, err := New(cfg, store, Options{Client: &http.Client{Transport: tr}, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- f.Run(ctx) }()

		time.Sleep(5 * time.Minute) // ticks come and are skipped: the first pass still runs
		synctest.Wait()
		if got := tr.counts(); got[stuck] != 1 || got[fine] != 1 {
			t.Errorf("requests = %v, want one each", got)
		}
		start := time.Now()
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Run did not return after cancel")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Run took %v to stop", d)
		}
		store.mu.Lock()
		_, stored := store.states[stuck]
		store.mu.Unlock()
		if stored {
			t.Error("a cancelled fetch stored a state")
		}
	})
}

// TestNewNeedsParsedSchedule checks that New takes a source's schedule
// parsed by config (no spec is parsed twice) and refuses a feed without one.
func TestNewNeedsParsedSchedule(t *testing.T) {
	cfg := testConfig(config.Feed{URL: "http://x.test/a"})
	cfg.Feeds[0].Cron = nil
	if _, err := New(cfg, newFakeStore(), Options{}); err == nil {
		t.Error("New with a feed without a parsed schedule: no error")
	}
	cfg = testConfig(config.Feed{URL: "http://x.test/a", Cron: cron.Every(time.Hour)})
	f, err := New(cfg, newFakeStore(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 8, 18, 9, 30, 0, 0, time.UTC)
	if got := f.sources[0].feed.Cron.Next(now); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("next run = %v", got)
	}
}

// TestScheduledPassReadsDueStatesOnly checks that the cost of a scheduled
// pass follows the sources due, not all sources: after the first pass, which
// reads every stored state once, each 10-second tick reads the state of the
// sources it fetches and no other, and over 30 minutes on "@every 15m"
// every source is fetched again, each from its own slot.
func TestScheduledPassReadsDueStatesOnly(t *testing.T) {
	const n = 300
	srv := newFeedServer(t)
	body := fetchFixture(t, "perspectives.rss")
	urls := make([]string, n)
	for i := range urls {
		urls[i] = srv.set(fmt.Sprintf("/feed/%d", i), route{body: body, etag: fmt.Sprintf(`"v%d"`, i)})
	}
	clock := newTestClock()
	store := &countingStore{Store: newTestStore(t, clock.Now)}
	cfg := testConfig(feedsAt(urls...)...)
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
	ctx := t.Context()
	if res, err := f.RunOnce(ctx); err != nil || len(res) != n {
		t.Fatalf("first pass: %d results, %v; want %d", len(res), err, n)
	}
	store.reads.Store(0)
	fetched := map[string]int{}
	for tick := range 30 * time.Minute / tickInterval {
		clock.Advance(tickInterval)
		res, err := f.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if reads := store.reads.Swap(0); reads != int64(len(res)) {
			t.Fatalf("tick %d fetched %d sources but read %d states", tick, len(res), reads)
		}
		for _, r := range res {
			if r.Outcome != outcomeNotModified {
				t.Errorf("%s: outcome %q, want not-modified", r.FeedURL, r.Outcome)
			}
			fetched[r.FeedURL]++
		}
	}
	for _, u := range urls {
		if c := fetched[u]; c < 1 || c > 3 {
			t.Errorf("%s fetched %d times in 30 minutes on @every 15m, want 1 to 3", u, c)
		}
	}
}

// TestScheduler checks the one scheduling path that serve and Run share:
// a pass at once, one per tick, ticks skipped (but still counted) while a
// pass runs, a kick that makes a pass follow the running one, a panic that
// ends only its pass, and a stop that waits for the pass in flight.
func TestScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var passes, ticks, inFlight, maxInFlight int
		hold := make(chan struct{}) // a pass waits on it while block is set
		block := false
		pass := func() {
			mu.Lock()
			passes++
			n := passes
			inFlight++
			maxInFlight = max(maxInFlight, inFlight)
			b := block
			mu.Unlock()
			defer func() {
				mu.Lock()
				inFlight--
				mu.Unlock()
			}()
			if b {
				<-hold
			}
			if n == 3 {
				panic("pass 3 exploded")
			}
		}
		counts := func() (int, int) {
			mu.Lock()
			defer mu.Unlock()
			return passes, ticks
		}
		kick := make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Scheduler{Pass: pass, Kick: kick, Logger: testLogger(t), Ticked: func() {
				mu.Lock()
				ticks++
				mu.Unlock()
			}}.Run(ctx)
		}()
		synctest.Wait()
		if p, tk := counts(); p != 1 || tk != 1 {
			t.Fatalf("at start: %d passes, %d ticks; want 1, 1", p, tk)
		}
		time.Sleep(Tick)
		synctest.Wait()
		if p, tk := counts(); p != 2 || tk != 2 {
			t.Fatalf("after one tick: %d passes, %d ticks; want 2, 2", p, tk)
		}
		time.Sleep(Tick) // pass 3 panics
		synctest.Wait()
		mu.Lock()
		block = true
		mu.Unlock()
		time.Sleep(Tick) // pass 4 starts and blocks
		synctest.Wait()
		time.Sleep(3 * Tick) // three ticks skipped
		kick <- struct{}{}
		synctest.Wait()
		if p, tk := counts(); p != 4 || tk != 7 {
			t.Fatalf("while a pass blocks: %d passes, %d ticks; want 4, 7", p, tk)
		}
		mu.Lock()
		block = false
		mu.Unlock()
		hold <- struct{}{} // pass 4 ends; the kicked pass 5 follows at once
		synctest.Wait()
		if p, _ := counts(); p != 5 {
			t.Fatalf("after the kick: %d passes, want 5", p)
		}
		mu.Lock()
		block = true
		mu.Unlock()
		time.Sleep(Tick) // pass 6 blocks
		synctest.Wait()
		cancel()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Run returned while a pass was in flight")
		default:
		}
		hold <- struct{}{}
		<-done
		if p, _ := counts(); p != 6 || maxInFlight != 1 {
			t.Errorf("%d passes, at most %d at once; want 6, 1", p, maxInFlight)
		}
	})
}

// TestPushedSourcePolledAgainWhenPushesStop checks that the due queue
// looks at a source whose documents are pushed on its own schedule: while
// pushed it is polled only every fetch.max_interval, and once its pushes
// stop (a lease that lapses) scheduled passes poll it on its schedule again,
// without waiting for the safety-net poll.
func TestPushedSourcePolledAgainWhenPushesStop(t *testing.T) {
	srv := newFeedServer(t)
	u := srv.set("/pushed", route{body: fetchFixture(t, "perspectives.rss"), etag: `"p"`})
	cfg := testConfig(feedsAt(u)...)
	cfg.Fetch.MaxInterval = 24 * time.Hour
	clock := newTestClock()
	var pushed atomic.Bool
	pushed.Store(true)
	f := newTestFetcher(t, cfg, newFakeStore(), Options{Now: clock.Now, Pushed: func(string) bool { return pushed.Load() }})
	fetches := func(d time.Duration) int {
		n := 0
		for range d / tickInterval {
			clock.Advance(tickInterval)
			res, err := f.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			n += len(res)
		}
		return n
	}
	if n := fetches(tickInterval); n != 1 {
		t.Fatalf("first pass fetched %d, want 1", n)
	}
	if n := fetches(2 * time.Hour); n != 0 {
		t.Errorf("a pushed source on @every 15m was polled %d times in 2h, want 0", n)
	}
	pushed.Store(false)
	if n := fetches(30 * time.Minute); n < 1 {
		t.Errorf("30 minutes after its pushes stopped the source was polled %d times, want at least 1", n)
	}
}
