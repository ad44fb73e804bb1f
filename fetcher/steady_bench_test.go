package fetcher

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/sync/errgroup"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// countingStore counts the article saves and the source state reads that
// reach the store.
type countingStore struct {
	*storage.Store
	saves atomic.Int64
	reads atomic.Int64
}

func (s *countingStore) SourceState(ctx context.Context, feedURL string) (storage.SourceState, bool, error) {
	s.reads.Add(1)
	return s.Store.SourceState(ctx, feedURL)
}

func (s *countingStore) SaveArticles(ctx context.Context, arts []storage.Article) (storage.SaveResult, error) {
	s.saves.Add(1)
	return s.Store.SaveArticles(ctx, arts)
}

// cpuTime is the user plus system CPU time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUnchangedPass measures the steady state the daemon spends most of
// its life in: a pass over 1,000 sources on 25 hosts whose feeds have not
// changed since the last pass. Three of four servers send an ETag, one in
// four only Last-Modified; all answer conditional requests with 304. It
// reports per pass the requests made, the share answered 304, the article
// saves that reached the store (the target is 0), the wall time and the CPU
// time of the whole process (fetcher, store and the in-process test server).
func BenchmarkUnchangedPass(b *testing.B) {
	const feeds, hosts = 1000, 25
	bodies := make([][]byte, feeds)
	for i := range bodies {
		bodies[i] = benchFeed(i)
	}
	lastModified := time.Date(2025, 8, 17, 12, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	var requests, notModified atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= feeds {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"feed-%d-v1"`, n)
		if n%4 == 3 {
			w.Header().Set("Last-Modified", lastModified)
			if r.Header.Get("If-Modified-Since") == lastModified {
				notModified.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
		} else {
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				notModified.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = w.Write(bodies[n])
	}))
	b.Cleanup(srv.Close)

	urls := make([]string, feeds)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://host%d.test/feed/%d", i%hosts, i)
	}
	cfg := testConfig(feedsAt(urls...)...)
	cfg.Fetch.Concurrency, cfg.Fetch.PerHost = 16, 2
	tr := newTransport(cfg.Fetch, nil)
	client := &http.Client{Transport: tr, CheckRedirect: checkRedirect}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	b.Cleanup(client.CloseIdleConnections)
	store := &countingStore{Store: newTestStore(b, nil)}
	f, err := New(cfg, store, Options{Client: client})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := f.FetchNow(ctx); err != nil { // stores items and validators
		b.Fatal(err)
	}
	requests.Store(0)
	notModified.Store(0)
	store.saves.Store(0)
	passes := 0
	cpu0, wall0 := cpuTime(b), time.Now()
	for b.Loop() {
		res, err := f.FetchNow(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil || r.Outcome != outcomeNotModified {
				b.Fatalf("%s: %+v", r.FeedURL, r)
			}
		}
		passes++
	}
	cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
	p := float64(passes)
	b.ReportMetric(float64(requests.Load())/p, "requests/pass")
	b.ReportMetric(100*float64(notModified.Load())/float64(max(requests.Load(), 1)), "%304")
	b.ReportMetric(float64(store.saves.Load())/p, "saves/pass")
	b.ReportMetric(float64(wall.Milliseconds())/p, "wall-ms/pass")
	b.ReportMetric(float64(cpu.Milliseconds())/p, "cpu-ms/pass")
}

// BenchmarkSteadyStart measures the scheduler at scale: 50,000 sources on
// "@every 1m", all on one loopback server that answers 304 to their stored
// ETag, as after a restart a minute after the last pass (each source's
// state seeded with its validator, its last fetch a minute ago and its next
// slot). Each iteration starts Fetcher.Run and reports the seconds until
// every source was polled once (the target is 75), the stored states read
// per source, and the CPU time of the whole process (test server
// included). One host takes every request, so its politeness limits are
// opened: per_host equal to concurrency and no host_interval.
func BenchmarkSteadyStart(b *testing.B) {
	const n = 50_000
	var polled atomic.Int64
	seen := make([]atomic.Bool, n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &i); err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		if !seen[i].Swap(true) {
			polled.Add(1)
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(benchFeed(i))
	}))
	b.Cleanup(srv.Close)
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/feed/%d", srv.URL, i)
	}
	cfg := testConfig(feedsAt(urls...)...)
	for i := range cfg.Feeds {
		cfg.Feeds[i].Cron = cron.Every(time.Minute)
	}
	cfg.Fetch.Concurrency, cfg.Fetch.PerHost, cfg.Fetch.HostInterval = 16, 16, 0
	store := &countingStore{Store: newTestStore(b, nil)}
	seedSteadyStates(b, cfg, store.Store)
	var worst time.Duration
	cpu0 := cpuTime(b)
	for b.Loop() {
		for i := range seen {
			seen[i].Store(false)
		}
		polled.Store(0)
		store.reads.Store(0)
		f, err := New(cfg, store, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(b.Context())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- f.Run(ctx) }()
		for polled.Load() < n && time.Since(start) < 5*time.Minute {
			time.Sleep(100 * time.Millisecond) // polls a counter; no result depends on it
		}
		took := time.Since(start)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		f.client.CloseIdleConnections()
		if polled.Load() < n {
			b.Fatalf("%d of %d sources polled after %v", polled.Load(), n, took)
		}
		worst = max(worst, took)
		b.ReportMetric(float64(store.reads.Load())/n, "reads/source")
	}
	b.ReportMetric(worst.Seconds(), "s-to-all-polled")
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/start")
}

// seedSteadyStates stores for every source of cfg the state of a fetch a
// minute ago that got ETag "v1": last fetch then, next due in its slot.
func seedSteadyStates(b *testing.B, cfg *config.Config, store *storage.Store) {
	f, err := New(cfg, store, Options{})
	if err != nil {
		b.Fatal(err)
	}
	last := time.Now().Add(-time.Minute)
	var g errgroup.Group
	g.SetLimit(256) // concurrent puts share commits
	for _, src := range f.sources {
		g.Go(func() error {
			return store.PutSourceState(b.Context(), storage.SourceState{
				FeedURL: src.feed.URL, ETag: `"v1"`, Outcome: outcomeNotModified,
				LastFetch: last, LastSuccess: last, NextDue: src.nextRun(last, 0),
			})
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIdleTick measures a scheduled pass on a tick where none of
// 50,000 sources is due (each was fetched a minute ago; on "@every 1h"),
// the common case between slots: "due-queue" is a pass as the scheduler
// runs it, "read-all-states" what every tick did before the due queue (read
// and judge every source's stored state). It reports the states read per
// tick.
func BenchmarkIdleTick(b *testing.B) {
	const n = 50_000
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://host%d.test/feed/%d", i%1000, i)
	}
	cfg := testConfig(feedsAt(urls...)...)
	for i := range cfg.Feeds {
		cfg.Feeds[i].Cron = cron.Every(time.Hour)
	}
	store := &countingStore{Store: newTestStore(b, nil)}
	seedSteadyStates(b, cfg, store.Store)
	f, err := New(cfg, store, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if err := f.due.load(ctx, f); err != nil {
		b.Fatal(err)
	}
	b.Run("due-queue", func(b *testing.B) {
		store.reads.Store(0)
		for b.Loop() {
			if res, err := f.RunOnce(ctx); err != nil || len(res) != 0 {
				b.Fatalf("%d fetched, %v", len(res), err)
			}
		}
		b.ReportMetric(float64(store.reads.Load())/float64(b.N), "reads/tick")
	})
	b.Run("read-all-states", func(b *testing.B) {
		store.reads.Store(0)
		for b.Loop() {
			if jobs, err := f.jobs(ctx, f.sources, true); err != nil || len(jobs) != 0 {
				b.Fatalf("%d due, %v", len(jobs), err)
			}
		}
		b.ReportMetric(float64(store.reads.Load())/float64(b.N), "reads/tick")
	})
}
