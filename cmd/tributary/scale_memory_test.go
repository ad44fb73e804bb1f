package main

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

const (
	// scaleSources and scaleItems make the store of TestServeMemoryAtScale:
	// scaleSources feeds of scaleItems distinct items each.
	scaleSources = 50_000
	scaleItems   = 2
	// scaleCategories is the number of categories the sources are filed in.
	scaleCategories = 20
	// scaleRequests is the number of feed requests after the passes.
	scaleRequests = 2000
	// scaleHeapBudget is the bound on the daemon's heap in use.
	scaleHeapBudget = 150 << 20
)

// scaleFeed returns feed n of TestServeMemoryAtScale: RSS with scaleItems
// items whose titles and texts are drawn from a vocabulary with n's own
// random numbers, so that no two items are near-duplicates.
func scaleFeed(n int, vocab []string) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	words := func(k int) string {
		out := make([]string, k)
		for i := range out {
			out[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(out, " ")
	}
	pub := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).Add(-time.Duration(n) * time.Second)
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Source %d</title><link>https://s%d.example/</link><description>d</description>`, n, n)
	for i := range scaleItems {
		fmt.Fprintf(&b, "<item><title>%s</title><link>https://s%d.example/a/%d</link><guid>https://s%d.example/a/%d</guid><pubDate>%s</pubDate><description>%s</description></item>",
			words(8), n, i, n, i, pub.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), words(60))
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

// scaleVocabulary is a fixed vocabulary of 5,000 random words.
func scaleVocabulary() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 5000)
	for i := range vocab {
		var w strings.Builder
		for range 3 + rng.IntN(7) {
			w.WriteByte(byte('a' + rng.IntN(26)))
		}
		vocab[i] = w.String()
	}
	return vocab
}

// TestServeMemoryAtScale measures the heap of the daemon (the service that
// serve runs, in this process) with 50,000 sources and 100,000 stored
// articles: a first pass stores the articles, a second pass finds every
// source unchanged (304), then 2,000 requests ask for the feeds of 20
// categories and "all" in three formats and ten page sizes. It reports the
// heap in use after a collection (runtime.MemStats.HeapInuse), checks it
// against 150 MB, and writes a heap profile to $TRIBUTARY_SCALE_PROFILE when
// set. It runs only when $TRIBUTARY_SCALE is set, as the first pass takes
// minutes:
//
//	TRIBUTARY_SCALE=1 TRIBUTARY_SCALE_PROFILE=/tmp/heap.pprof go test -run TestServeMemoryAtScale -v -timeout 30m ./cmd/tributary/
//	go tool pprof -top -inuse_space /tmp/heap.pprof
func TestServeMemoryAtScale(t *testing.T) {
	if os.Getenv("TRIBUTARY_SCALE") == "" {
		t.Skip("set TRIBUTARY_SCALE=1 to measure (minutes)")
	}
	vocab := scaleVocabulary()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= scaleSources {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(scaleFeed(n, vocab))
	}))
	t.Cleanup(srv.Close)

	s, cfg := scaleService(t, srv.URL)
	start := time.Now()
	s.pass(t.Context()) // every source is due: the first ingest
	t.Logf("first pass over %d sources: %v", scaleSources, time.Since(start).Round(time.Second))
	if n := storedArticles(t, s.store); n != scaleSources*scaleItems {
		t.Fatalf("%d articles stored, want %d", n, scaleSources*scaleItems)
	}
	start = time.Now()
	steadyPass(t, s)
	t.Logf("unchanged pass over %d sources: %v", scaleSources, time.Since(start).Round(time.Second))
	h := s.routes()
	formats := []string{"atom", "rss", "json"}
	for i := range scaleRequests {
		slug := "all"
		if c := i % (scaleCategories + 1); c < scaleCategories {
			slug = fmt.Sprintf("c%02d", c)
		}
		url := fmt.Sprintf("/feeds/%s.%s?limit=%d", slug, formats[i/(scaleCategories+1)%3], 20+i%10*20)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", url, rec.Code)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("after %d requests: HeapInuse %d MiB, HeapAlloc %d MiB, Sys %d MiB (output.cache_size %d MiB)",
		scaleRequests, ms.HeapInuse>>20, ms.HeapAlloc>>20, ms.Sys>>20, cfg.Output.CacheSize>>20)
	if path := os.Getenv("TRIBUTARY_SCALE_PROFILE"); path != "" {
		writeHeapProfile(t, path)
	}
	if ms.HeapInuse > scaleHeapBudget {
		t.Errorf("heap in use %d MiB, want at most %d MiB", ms.HeapInuse>>20, scaleHeapBudget>>20)
	}
	runtime.KeepAlive(s)
}

// steadyPass fetches every source of s now and checks that each was
// unchanged (304).
func steadyPass(t *testing.T, s *service) {
	res, err := s.gen.Load().fetcher.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != "not-modified" {
			t.Fatalf("%s: outcome %q, want not-modified", r.FeedURL, r.Outcome)
		}
	}
}

// scaleService writes a config of scaleSources feeds of base, loads it
// and builds the service serve would run on it, over a store in a
// temporary directory.
func scaleService(t *testing.T, base string) (*service, *config.Config) {
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\ndata_dir: %s\nschedule: \"@every 1m\"\nretention: {max_age: 87600h}\n", filepath.Join(dir, "data"))
	b.WriteString("fetch: {concurrency: 16, per_host: 16, host_interval: 0s}\nfeeds:\n")
	for n := range scaleSources {
		fmt.Fprintf(&b, "  - url: %s/feed/%d\n    categories: [c%02d]\n", base, n, n%scaleCategories)
	}
	path := filepath.Join(dir, "tributary.yaml")
	writeFile(t, path, b.String())
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	store, _, err := openStore(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	log := slog.New(slog.DiscardHandler)
	s := &service{store: store, log: log, notify: notifier{log: log}, path: path, kick: make(chan struct{}, 1)}
	s.metrics = newMetrics(func() (*storage.Store, *config.Config) { return store, s.gen.Load().cfg }, log)
	g, err := s.newGeneration(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.gen.Store(g)
	return s, cfg
}

// storedArticles is the count of the "all" category of store.
func storedArticles(t *testing.T, store *storage.Store) int {
	cats, err := store.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cats {
		if c.Slug == storage.AllSlug {
			return c.Count
		}
	}
	return 0
}

// writeHeapProfile writes the heap profile of this process to path.
func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}
