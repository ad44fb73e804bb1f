package fetcher

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/storage"
)

// corpusOneItem lists the corpus documents (relative to the corpus
// directory) whose distinct GUIDs are truly one item, so that storing fewer
// entries than GUIDs is right, with the reason. None is today: even the
// feed validator's canonical_uri samples, one URI spelt several ways
// ("http://example.com/", "http://example.com/?", "…/#"), are distinct GUID
// strings and stay distinct items, as RSS and Atom define a GUID.
var corpusOneItem = map[string]string{}

// TestCorpusKeepsDistinctItems fetches every corpus document whose items
// carry two or more distinct GUIDs (as gofeed reads them) once, each into
// an empty store of its own, and checks that every distinct GUID is stored:
// within one source, items with distinct GUIDs are distinct items, however
// their links relate.
func TestCorpusKeepsDistinctItems(t *testing.T) {
	needCorpus(t)
	t.Parallel() // mostly waits for the stores' fsyncs
	paths := normCorpusFiles(t, normCorpusDir)
	var files []string
	want := map[string][]string{} // file → its distinct GUIDs
	for i, guids := range corpusGUIDs(t, paths) {
		if len(guids) >= 2 {
			files = append(files, paths[i])
			want[paths[i]] = guids
		}
	}
	feeds := corpusFeeds(t, files)
	cfg := testConfig(feeds...)
	cfg.Fetch.Concurrency, cfg.Fetch.PerHost = 32, 32
	cfg.Fetch.Timeout = 20 * time.Second
	cfg.Retention.MaxAge = 0 // no age limit: the corpus has items dated 1806
	clock := newTestClock()
	stores := storePerSource{}
	for _, feed := range feeds {
		stores[feed.URL] = newTestStore(t, clock.Now)
	}
	f := newTestFetcher(t, cfg, stores, Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	if _, err := f.FetchNow(ctx); err != nil {
		t.Fatal(err)
	}
	losing, lost := 0, 0
	for i, feed := range feeds {
		rel, err := filepath.Rel(normCorpusDir, files[i])
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		missing := missingGUIDs(t, stores[feed.URL], want[files[i]])
		reason, allowed := corpusOneItem[rel]
		switch {
		case len(missing) > 0:
			losing++
			lost += len(missing)
			if !allowed {
				t.Errorf("%s: %d of %d distinct GUIDs not stored, such as %q", rel, len(missing), len(want[files[i]]), missing[0])
			}
		case allowed:
			t.Errorf("%s: listed as one item (%s) but every GUID is stored", rel, reason)
		}
	}
	t.Logf("%d documents with two or more distinct GUIDs; %d lose items (%d in all)", len(files), losing, lost)
}

// needCorpus skips the test when the shared corpus is missing (outside CI)
// or in short mode.
func needCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(normCorpusDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus missing under CI: %v", err)
		}
		t.Skipf("no corpus: %v", err)
	}
	if testing.Short() {
		t.Skip("corpus ingest skipped in short mode")
	}
}

// corpusGUIDs returns the distinct GUIDs of the items of each corpus file
// of paths, trimmed and in valid UTF-8 as the fetcher keeps them; nil for
// a file that does not parse as a feed. The files are parsed on every CPU.
func corpusGUIDs(t *testing.T, paths []string) [][]string {
	t.Helper()
	out := make([][]string, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			p := gofeed.NewParser()
			for i := range next {
				out[i] = fileGUIDs(p, paths[i])
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// fileGUIDs returns the distinct GUIDs of the items of the feed file at
// path, parsed with p; nil when it cannot be read or parsed.
func fileGUIDs(p *gofeed.Parser, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	feed, err := parseBody(p, data, mime.TypeByExtension(filepath.Ext(path)), nil)
	if err != nil {
		return nil
	}
	var guids []string
	for _, item := range feed.Items {
		if item == nil {
			continue
		}
		if g := strings.ToValidUTF8(strings.TrimSpace(item.GUID), "\uFFFD"); g != "" {
			guids = append(guids, g)
		}
	}
	slices.Sort(guids)
	return slices.Compact(guids)
}

// missingGUIDs returns the GUIDs of want that no article of store carries.
func missingGUIDs(t *testing.T, store *storage.Store, want []string) []string {
	t.Helper()
	arts, err := store.Latest(t.Context(), storage.AllSlug, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, a := range arts {
		stored[a.GUID] = true
	}
	var missing []string
	for _, g := range want {
		if !stored[g] {
			missing = append(missing, g)
		}
	}
	return missing
}

// storePerSource is a Store that keeps each source in a store of its own,
// keyed by the source's configured URL: one pass then fetches every source
// into an empty store.
type storePerSource map[string]*storage.Store

var _ Store = storePerSource(nil)

func (s storePerSource) of(feedURL string) (*storage.Store, error) {
	st, ok := s[feedURL]
	if !ok {
		return nil, fmt.Errorf("no store for %s", feedURL)
	}
	return st, nil
}

func (s storePerSource) SaveArticles(ctx context.Context, arts []storage.Article) (storage.SaveResult, error) {
	st, err := s.of(arts[0].Source.FeedURL)
	if err != nil {
		return storage.SaveResult{}, err
	}
	return st.SaveArticles(ctx, arts)
}

func (s storePerSource) KnownItems(ctx context.Context, ids []string) (map[string]bool, error) {
	known := map[string]bool{}
	for _, st := range s {
		k, err := st.KnownItems(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id := range k {
			known[id] = true
		}
	}
	return known, nil
}

func (s storePerSource) SourceState(ctx context.Context, feedURL string) (storage.SourceState, bool, error) {
	st, err := s.of(feedURL)
	if err != nil {
		return storage.SourceState{}, false, err
	}
	return st.SourceState(ctx, feedURL)
}

func (s storePerSource) PutSourceState(ctx context.Context, state storage.SourceState) error {
	st, err := s.of(state.FeedURL)
	if err != nil {
		return err
	}
	return st.PutSourceState(ctx, state)
}

// TestPodcastKeepsEveryEpisode fetches a real podcast feed whose 130
// episodes all link to the show's home page, each with its own GUID: every
// episode is stored.
func TestPodcastKeepsEveryEpisode(t *testing.T) {
	needCorpus(t)
	feeds := corpusFeeds(t, []string{filepath.Join(normCorpusDir, "rss-parser", "itunes-missing-image.rss")})
	cfg := testConfig(feeds...)
	cfg.Retention.MaxAge = 25 * 365 * 24 * time.Hour // the episodes date from 2005 to 2015
	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
	if r := fetchOne(t, f, feeds[0].URL); r.Err != nil || r.New != 130 {
		t.Fatalf("fetch: %d new, %d updated, %d merged, err %v; want 130 new", r.New, r.Updated, r.Merged, r.Err)
	}
	arts, err := store.Latest(t.Context(), storage.AllSlug, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 130 {
		t.Errorf("%d episodes stored, want 130", len(arts))
	}
}
