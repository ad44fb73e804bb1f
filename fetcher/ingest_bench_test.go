package fetcher

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/storage"
)

// ingestFeeds is the size of BenchmarkIngest: at least 500 feeds × 50 items.
const ingestFeeds = 500

// BenchmarkIngest measures a first ingest of ingestFeeds generated feeds of
// benchItems items each, served over loopback HTTP, into an empty store:
// fetch, parse, normalise (sanitise, resolve URLs, categorise) and save.
// In the same iteration it parses the same bytes with bare gofeed, with the
// same parallelism, and reports both throughputs and their ratio
// (ingest-cost/parse-cost: 1.0 would mean ingest is as cheap as parsing).
//
//	go test -run '^$' -bench BenchmarkIngest -benchtime 3x ./fetcher/
func BenchmarkIngest(b *testing.B) {
	bodies := make([][]byte, ingestFeeds)
	for i := range bodies {
		bodies[i] = benchFeed(i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= ingestFeeds {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = w.Write(bodies[n])
	}))
	b.Cleanup(srv.Close)
	cfg, client := benchSetup(b, ingestFeeds, srv)
	dir := b.TempDir()

	var ingest, parse time.Duration
	iter := 0
	for b.Loop() {
		iter++
		store, err := storage.Open(filepath.Join(dir, fmt.Sprintf("ingest-%d.db", iter)), storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		f, err := New(cfg, store, Options{Client: client})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := f.FetchNow(b.Context())
		ingest += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil || r.New != benchItems {
				b.Fatalf("%s: %+v", r.FeedURL, r)
			}
		}
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}

		start = time.Now()
		parseAll(b, bodies, cfg.Fetch.Concurrency)
		parse += time.Since(start)
	}
	items := float64(iter * ingestFeeds * benchItems)
	b.ReportMetric(items/ingest.Seconds(), "ingest-items/s")
	b.ReportMetric(items/parse.Seconds(), "gofeed-items/s")
	b.ReportMetric(ingest.Seconds()/parse.Seconds(), "ingest/parse")
}

// parseAll parses every body with one shared gofeed parser, workers at a time.
func parseAll(b *testing.B, bodies [][]byte, workers int) {
	p := gofeed.NewParser()
	next := make(chan []byte)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for body := range next {
				feed, err := p.Parse(bytes.NewReader(body))
				if err != nil || len(feed.Items) != benchItems {
					b.Errorf("parse: %v", err)
				}
			}
		})
	}
	for _, body := range bodies {
		next <- body
	}
	close(next)
	wg.Wait()
}
