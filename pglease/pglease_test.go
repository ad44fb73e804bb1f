package pglease

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
	"github.com/tributary/tributary/storage"
)

// TestOneFetchPerDueTime runs two and three instances, each with its own
// store and Coordinator on one database, over one farm: every source is
// fetched exactly once in their first passes, by one of them, and not
// again by the passes that follow (the others' due queues moved it to its
// next due time).
func TestOneFetchPerDueTime(t *testing.T) {
	for _, instances := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d instances", instances), func(t *testing.T) {
			pool := newPool(t)
			fm := newFarm(t)
			urls := fm.urls("s", 40)
			var fs []*fetcher.Fetcher
			for range instances {
				f, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 8, perHost: 8}, Options{})
				fs = append(fs, f)
			}
			fetchedBy := map[string]int{}
			for i, results := range runAll(t, fs...) {
				for _, r := range results {
					if r.Err != nil {
						t.Errorf("instance %d: %s: %v", i, r.FeedURL, r.Err)
					}
					fetchedBy[r.FeedURL]++
				}
			}
			if diff := cmp.Diff(paths(urls), fm.counts()); diff != "" {
				t.Errorf("requests per source after the first passes (-want +got):\n%s", diff)
			}
			if len(fetchedBy) != len(urls) {
				t.Errorf("%d sources in the Results, want %d", len(fetchedBy), len(urls))
			}
			for i, results := range runAll(t, fs...) {
				if len(results) != 0 {
					t.Errorf("instance %d fetched %d sources again in its second pass", i, len(results))
				}
			}
			if diff := cmp.Diff(paths(urls), fm.counts()); diff != "" {
				t.Errorf("requests per source after the second passes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHostLimitsAcrossInstances checks host_interval and per_host across
// two instances whose sources are all on one host: request arrivals at the
// server are host_interval apart, and no more than per_host are answered
// at once, where each instance alone would allow as many.
func TestHostLimitsAcrossInstances(t *testing.T) {
	t.Run("host_interval", func(t *testing.T) {
		const interval = 120 * time.Millisecond
		pool := newPool(t)
		fm := newFarm(t)
		urls := fm.urls("i", 6)
		settings := fetchSettings{concurrency: 4, perHost: 4, hostInterval: interval}
		a, _ := newInstance(t, pool, urls[:3], settings, Options{})
		b, _ := newInstance(t, pool, urls[3:], settings, Options{})
		runAll(t, a, b)
		starts := fm.arrivals()
		if len(starts) != len(urls) {
			t.Fatalf("%d requests, want %d", len(starts), len(urls))
		}
		for i := 1; i < len(starts); i++ {
			// A turn is taken on the database's clock a moment before its
			// request leaves; the slack covers how much that moment varies.
			if d := starts[i].Sub(starts[i-1]); d < interval-20*time.Millisecond {
				t.Errorf("requests %d and %d to one host arrived %v apart, want at least %v", i-1, i, d, interval)
			}
		}
	})
	t.Run("per_host", func(t *testing.T) {
		pool := newPool(t)
		fm := newFarm(t)
		urls := fm.urls("p", 8)
		hold := make(chan struct{})
		fm.hold = hold
		settings := fetchSettings{concurrency: 4, perHost: 2}
		a, _ := newInstance(t, pool, urls[:4], settings, Options{Poll: 10 * time.Millisecond})
		b, _ := newInstance(t, pool, urls[4:], settings, Options{Poll: 10 * time.Millisecond})
		done := make(chan struct{})
		go func() {
			defer close(done)
			runAll(t, a, b)
		}()
		// Let requests through one at a time once two are in flight: were
		// the limit per instance, four would be.
		for i := range urls {
			waitFor(t, func() bool {
				fm.mu.Lock()
				defer fm.mu.Unlock()
				return fm.inFlight >= min(2, len(urls)-i)
			})
			hold <- struct{}{}
		}
		<-done
		if fm.maxInFlight != 2 {
			t.Errorf("at most %d requests to one host at once, want 2 (per_host)", fm.maxInFlight)
		}
	})
}

// waitFor waits until cond holds, failing t after 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetryAfterHoldsForAll checks that a host's 429 with Retry-After seen
// by one instance keeps the other from asking it.
func TestRetryAfterHoldsForAll(t *testing.T) {
	pool := newPool(t)
	fm := newFarm(t)
	limited, other := fm.urls("r", 1)[0], fm.urls("o", 1)[0]
	fm.answer["/f/r0"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}
	a, _ := newInstance(t, pool, []string{limited}, fetchSettings{concurrency: 1, perHost: 1}, Options{})
	b, _ := newInstance(t, pool, []string{other}, fetchSettings{concurrency: 1, perHost: 1}, Options{})
	ra := runAll(t, a)[0]
	if len(ra) != 1 || ra[0].Outcome != "rate-limited" {
		t.Fatalf("first instance: %+v, want one rate-limited", ra)
	}
	rb := runAll(t, b)[0]
	if len(rb) != 1 || rb[0].Outcome != "deferred" {
		t.Errorf("second instance: %+v, want one deferred", rb)
	}
	if n := fm.counts()["/f/o0"]; n != 0 {
		t.Errorf("the second instance asked the host that asked to wait %d times, want 0", n)
	}
}

// TestDeadInstance checks that the sources leased by an instance that died
// (it stopped renewing without releasing them) are fetched by another once
// its leases end, and not before; and that a live instance's lease
// outlasts its first term (it is renewed).
func TestDeadInstance(t *testing.T) {
	const lease = 1500 * time.Millisecond
	pool := newPool(t)
	fm := newFarm(t)
	urls := fm.urls("d", 5)
	dead := newCoordinator(t, pool, Options{Lease: lease})
	live := newCoordinator(t, pool, Options{Lease: lease})
	now := time.Now()
	if granted, _, err := dead.Claim(t.Context(), urls[:4], now, false); err != nil || len(granted) != 4 {
		t.Fatalf("dead instance's claim: %v granted, %v", granted, err)
	}
	if granted, _, err := live.Claim(t.Context(), urls[4:], now, false); err != nil || len(granted) != 1 {
		t.Fatalf("live instance's claim: %v granted, %v", granted, err)
	}
	dead.halt()
	f, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 4, perHost: 4}, Options{Lease: lease})
	if res := runAll(t, f)[0]; len(res) != 0 {
		t.Errorf("fetched %d sources under other instances' leases", len(res))
	}
	var end time.Time
	if err := pool.QueryRow(t.Context(), `SELECT max(lease_until) FROM source_leases WHERE holder = $1`, dead.ID()).Scan(&end); err != nil {
		t.Fatal(err)
	}
	// Past the dead instance's leases, and the live one's first term.
	time.Sleep(time.Until(end.Add(lease / 2)))
	res := runAll(t, f)[0]
	got := map[string]string{}
	for _, r := range res {
		got[r.FeedURL] = r.Outcome
	}
	want := map[string]string{}
	for _, u := range urls[:4] {
		want[u] = "ok"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources fetched once the dead instance's leases ended (-want +got):\n%s", diff)
	}
}

// TestFetchNowTakesTheLease checks that the operator's FetchNow on one
// instance does not fetch a source another instance is fetching: it
// reports it leased, and the source is asked once.
func TestFetchNowTakesTheLease(t *testing.T) {
	pool := newPool(t)
	fm := newFarm(t)
	urls := fm.urls("n", 1)
	hold := make(chan struct{})
	fm.hold = hold
	a, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 1, perHost: 1}, Options{})
	b, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 1, perHost: 1}, Options{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := a.FetchNow(context.Background()); err != nil {
			t.Errorf("first FetchNow: %v", err)
		}
	})
	waitFor(t, func() bool { return fm.counts()["/f/n0"] == 1 })
	res, err := b.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != "leased" || res[0].Err == nil {
		t.Errorf("second FetchNow while the first fetches: %+v, want one leased with an error", res)
	}
	close(hold)
	wg.Wait()
	if n := fm.counts()["/f/n0"]; n != 1 {
		t.Errorf("source asked %d times, want 1", n)
	}
	res, err = b.FetchNow(t.Context())
	if err != nil || len(res) != 1 || res[0].Outcome != "ok" {
		t.Errorf("FetchNow once the first fetch ended: %+v, %v; want one ok", res, err)
	}
}

// TestLongFetchKeepsItsLease checks that a fetch that outlasts several
// leases keeps its source: its instance renews the lease meanwhile, and
// another instance's pass does not fetch the source.
func TestLongFetchKeepsItsLease(t *testing.T) {
	const lease = 1500 * time.Millisecond
	pool := newPool(t)
	fm := newFarm(t)
	urls := fm.urls("l", 1)
	hold := make(chan struct{})
	fm.hold = hold
	a, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 1, perHost: 1}, Options{Lease: lease})
	b, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 1, perHost: 1}, Options{Lease: lease})
	var wg sync.WaitGroup
	wg.Go(func() { runAll(t, a) })
	waitFor(t, func() bool { return fm.counts()["/f/l0"] == 1 })
	time.Sleep(2 * lease) // the lease would have ended twice, unrenewed
	if res := runAll(t, b)[0]; len(res) != 0 {
		t.Errorf("another instance fetched %d sources during the long fetch", len(res))
	}
	close(hold)
	wg.Wait()
	if n := fm.counts()["/f/l0"]; n != 1 {
		t.Errorf("source asked %d times, want 1", n)
	}
}

// TestGoneWaitsForTheOperator checks that a source one instance found gone
// (410) is not fetched by the scheduled passes of another, which moves it
// a day ahead, while the operator's FetchNow still fetches it.
func TestGoneWaitsForTheOperator(t *testing.T) {
	pool := newPool(t)
	fm := newFarm(t)
	urls := fm.urls("g", 1)
	fm.answer["/f/g0"] = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }
	a, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 1, perHost: 1}, Options{})
	b, _ := newInstance(t, pool, urls, fetchSettings{concurrency: 1, perHost: 1}, Options{})
	if res := runAll(t, a)[0]; len(res) != 1 || res[0].Outcome != "gone" {
		t.Fatalf("first instance: %+v, want one gone", res)
	}
	if res := runAll(t, b)[0]; len(res) != 0 {
		t.Errorf("second instance's scheduled pass fetched %d gone sources", len(res))
	}
	res, err := b.FetchNow(t.Context())
	if err != nil || len(res) != 1 || res[0].Outcome != "gone" {
		t.Errorf("operator's FetchNow: %+v, %v; want one gone", res, err)
	}
	if n := fm.counts()["/f/g0"]; n != 2 {
		t.Errorf("source asked %d times, want 2 (a pass, then the operator)", n)
	}
}

// TestSharedStore runs three instances as three processes would: each
// with its own connection to one PostgreSQL database holding both the
// store (pgkv) and the leases. Every source is asked once and its story
// stored once, every source's state is stored, and the next passes of all
// three, which read that state, fetch nothing.
func TestSharedStore(t *testing.T) {
	url := pgtest.NewDatabase(t)
	fm := newFarm(t)
	urls := fm.urls("x", 30)
	var fs []*fetcher.Fetcher
	var store *storage.Store
	for range 3 {
		db, err := pgkv.Open(t.Context(), url, pgkv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		store, err = storage.New(db, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f, _ := newInstanceOn(t, store, db.Pool(), urls, fetchSettings{concurrency: 4, perHost: 4}, Options{})
		fs = append(fs, f)
	}
	runAll(t, fs...)
	if diff := cmp.Diff(paths(urls), fm.counts()); diff != "" {
		t.Errorf("requests per source (-want +got):\n%s", diff)
	}
	cats, err := store.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range cats {
		got[c.Slug] = c.Count
	}
	if diff := cmp.Diff(map[string]int{"all": 30, "news": 30}, got); diff != "" {
		t.Errorf("stories per category (-want +got):\n%s", diff)
	}
	states, err := store.SourceStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(urls) {
		t.Errorf("%d source states stored, want %d", len(states), len(urls))
	}
	for i, results := range runAll(t, fs...) {
		if len(results) != 0 {
			t.Errorf("instance %d fetched %d sources again", i, len(results))
		}
	}
}

// TestLongPassShared checks that instances started together share a pass
// of more due sources than one claims at once: each claims a batch (4 ×
// fetch.concurrency), so the second finds sources left to claim instead
// of the first leasing them all. The farm holds every answer until both
// instances hold leases, so neither can finish the pass alone first.
func TestLongPassShared(t *testing.T) {
	pool := newPool(t)
	fm := newFarm(t)
	fm.hold = make(chan struct{})
	urls := fm.urls("p", 40)
	settings := fetchSettings{concurrency: 2, perHost: 2}
	a, _ := newInstance(t, pool, urls, settings, Options{})
	b, _ := newInstance(t, pool, urls, settings, Options{})
	var results [][]fetcher.Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		results = runAll(t, a, b)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var holders int
		err := pool.QueryRow(t.Context(), `SELECT count(DISTINCT holder) FROM source_leases WHERE holder IS NOT NULL`).Scan(&holders)
		if err != nil {
			t.Fatal(err)
		}
		if holders == 2 {
			break
		}
		if time.Now().After(deadline) {
			close(fm.hold)
			<-done
			t.Fatalf("%d instances hold leases, want 2: one instance leased every source", holders)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(fm.hold)
	<-done
	for i, res := range results {
		if len(res) == 0 {
			t.Errorf("instance %d fetched nothing of the shared pass", i)
		}
	}
	if got := len(results[0]) + len(results[1]); got != len(urls) {
		t.Errorf("%d sources fetched in all, want %d", got, len(urls))
	}
	if diff := cmp.Diff(paths(urls), fm.counts()); diff != "" {
		t.Errorf("requests per source (-want +got):\n%s", diff)
	}
}
