package fetcher

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// TestCorpusIngest pushes every file of the shared corpus through the whole
// ingest path: served by an HTTP server (Content-Type from the file name),
// fetched, parsed, normalised and saved in a real store, in one pass. No
// source may panic, hang or break the store; each is stored or fails with a
// clear error.
func TestCorpusIngest(t *testing.T) {
	needCorpus(t)
	t.Parallel() // mostly waits for the store's fsyncs
	files := normCorpusFiles(t, normCorpusDir)
	feeds := corpusFeeds(t, files)
	cfg := testConfig(feeds...)
	cfg.Fetch.Concurrency, cfg.Fetch.PerHost = 8, 8
	cfg.Fetch.Timeout = 20 * time.Second
	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := f.FetchNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	stored := 0
	for _, r := range res {
		outcomes[r.Outcome]++
		stored += r.New
		switch {
		case slices.Contains([]string{outcomePanic, outcomeStoreError, outcomeCanceled, outcomeTimeout}, r.Outcome):
			t.Errorf("%s: %s: %v", r.FeedURL, r.Outcome, r.Err)
		case r.Err != nil && strings.TrimSpace(r.Err.Error()) == "fetch "+r.FeedURL+":":
			t.Errorf("%s: an error without a message", r.FeedURL)
		case r.Err == nil && r.Outcome != outcomeOK:
			t.Errorf("%s: outcome %q without an error", r.FeedURL, r.Outcome)
		}
	}
	if len(res) != len(files) {
		t.Errorf("%d results for %d files", len(res), len(files))
	}
	cats, err := store.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	all := 0
	for _, c := range cats {
		if c.Slug == storage.AllSlug {
			all = c.Count
		}
	}
	// A story stored as new is absorbed into another when a later item
	// matches both (a chain), so the store may hold fewer than were new.
	if all > stored {
		t.Errorf("store holds %d articles, the pass reported only %d new", all, stored)
	}
	t.Logf("corpus ingest: %d files in %v; outcomes %v; %d articles stored as new, %d stories in the end", len(files), time.Since(start).Round(time.Millisecond), outcomes, stored, all)
}

// corpusFeeds serves the corpus over HTTP (Content-Type from the file name)
// for the test's lifetime and returns one source per file of files, in
// order.
func corpusFeeds(t *testing.T, files []string) []config.Feed {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/corpus/", http.FileServer(http.Dir(normCorpusDir))))
	t.Cleanup(srv.Close)
	feeds := make([]config.Feed, 0, len(files))
	for _, path := range files {
		rel, err := filepath.Rel(normCorpusDir, path)
		if err != nil {
			t.Fatal(err)
		}
		segs := strings.Split(filepath.ToSlash(rel), "/")
		for i, seg := range segs {
			segs[i] = url.PathEscape(seg)
		}
		u := srv.URL + "/corpus/" + strings.Join(segs, "/")
		feeds = append(feeds, config.Feed{URL: u, Categories: []string{"Corpus"}, SourceCategories: true})
	}
	return feeds
}
