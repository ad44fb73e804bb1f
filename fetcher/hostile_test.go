package fetcher

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/hostile"
)

// TestHostileServer fetches every fault of the hostile server, together
// with healthy feeds on another host, through the real fetch path into a
// real store, twice: each fault ends in its outcome, no external entity is
// fetched, memory stays bounded, and the healthy feeds update in both passes.
func TestHostileServer(t *testing.T) {
	srv := hostile.NewServer(t)
	healthyHost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	var feeds []config.Feed
	want := map[string][]string{}
	for _, f := range hostile.Faults() {
		feeds = append(feeds, config.Feed{URL: srv.URL + f.Path, Categories: []string{"Hostile"}})
		want[srv.URL+f.Path] = f.Outcomes
	}
	healthy := []string{healthyHost + "/ok/one.rss", healthyHost + "/ok/two.rss"}
	for _, u := range healthy {
		feeds = append(feeds, config.Feed{URL: u, Categories: []string{"Healthy"}})
		want[u] = []string{"ok"}
	}
	cfg := testConfig(feeds...)
	// The stalled and endless paths end at the timeout; the others answer
	// at once, but the endless ones keep the CPU busy: a second is too
	// short for a prompt answer on a loaded machine (seen as a timeout of
	// /truncated), three are enough.
	cfg.Fetch.Timeout = 3 * time.Second
	cfg.Fetch.MaxBody = 4 << 20
	cfg.Fetch.PerHost = 4
	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for pass := 1; pass <= 2; pass++ {
		start := time.Now()
		res, err := f.FetchNow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*cfg.Fetch.Timeout+5*time.Second {
			t.Errorf("pass %d took %v", pass, d)
		}
		for _, r := range res {
			ok := slices.Contains(want[r.FeedURL], r.Outcome)
			// A static body fetched again is skipped by its hash.
			ok = ok || (pass == 2 && r.Outcome == "not-modified" && slices.Contains(want[r.FeedURL], "ok"))
			if !ok {
				t.Errorf("pass %d %s: outcome %q (%v), want one of %v", pass, r.FeedURL, r.Outcome, r.Err, want[r.FeedURL])
			}
			if slices.Contains(healthy, r.FeedURL) && r.New != 1 {
				t.Errorf("pass %d %s: %d new, want 1 (one more item per request)", pass, r.FeedURL, r.New)
			}
		}
		clock.Advance(time.Hour)
	}
	if n := srv.SecretRequests(); n != 0 {
		t.Errorf("external entity fetched %d times", n)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// The bomb alone is 64 MiB decompressed and the endless body unbounded;
	// the heap may hold a few bodies of max_body each, no more.
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
		t.Errorf("heap in use grew by %d MiB", grow>>20)
	}
	byTitle := map[string]bool{}
	latest, err := store.Latest(t.Context(), "hostile", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range latest {
		byTitle[a.Title] = true
		if len(a.Title) > 4096 || len(a.Content) > 1<<20 {
			t.Errorf("article %q: %d bytes of title, %d of content: entities expanded?", a.Title[:min(len(a.Title), 40)], len(a.Title), len(a.Content))
		}
		if strings.Contains(a.Title+a.Content, "root:x") {
			t.Errorf("article %q holds the external entity's content", a.Title)
		}
	}
	// Entities declared in a DTD are neither expanded nor fetched: their
	// references stay as text.
	for _, title := range []string{"Привет, мир", "moved.rss item 1", "&lol9;", "leak &secret;"} {
		if !byTitle[title] {
			t.Errorf("no article titled %q among %v", title, keys(byTitle))
		}
	}
	if n := srv.Hits("/ok/moved.rss"); n != 2 {
		t.Errorf("/ok/moved.rss asked %d times, want 2", n)
	}
}
