package fetcher

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// fakeStore is an in-memory Store. It counts calls and can be told to fail
// or panic.
type fakeStore struct {
	mu        sync.Mutex
	states    map[string]storage.SourceState
	articles  map[string]storage.Article
	saveCalls int
	// panicOn makes SaveArticles panic for articles of this feed URL.
	panicOn string
	// saveErr and putErr, when set, are returned by the writes.
	saveErr error
	putErr  error
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{states: map[string]storage.SourceState{}, articles: map[string]storage.Article{}}
}

func (s *fakeStore) SaveArticles(_ context.Context, arts []storage.Article) (storage.SaveResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveCalls++
	if len(arts) > 0 && arts[0].Source.FeedURL == s.panicOn && s.panicOn != "" {
		panic("fake store: SaveArticles exploded")
	}
	if s.saveErr != nil {
		return storage.SaveResult{}, s.saveErr
	}
	var r storage.SaveResult
	for _, a := range arts {
		if _, ok := s.articles[a.ID]; ok {
			r.Unchanged++
			continue
		}
		s.articles[a.ID] = a
		r.New++
	}
	return r, nil
}

func (s *fakeStore) KnownItems(_ context.Context, ids []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	for _, id := range ids {
		if _, ok := s.articles[id]; ok {
			known[id] = true
		}
	}
	return known, nil
}

func (s *fakeStore) SourceState(_ context.Context, feedURL string) (storage.SourceState, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[feedURL]
	return st, ok, nil
}

func (s *fakeStore) PutSourceState(_ context.Context, st storage.SourceState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.putErr != nil {
		return s.putErr
	}
	s.states[st.FeedURL] = st
	return nil
}

func (s *fakeStore) state(t *testing.T, feedURL string) storage.SourceState {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[feedURL]
	if !ok {
		t.Fatalf("no state stored for %s", feedURL)
	}
	return st
}

func (s *fakeStore) saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveCalls
}

func (s *fakeStore) byTitle() map[string]storage.Article {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]storage.Article{}
	for _, a := range s.articles {
		m[a.Title] = a
	}
	return m
}

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 8, 18, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testConfig returns a validated-looking config with test fetch settings,
// every feed without a parsed schedule on "@every 15m".
func testConfig(feeds ...config.Feed) *config.Config {
	for i := range feeds {
		if feeds[i].Cron == nil {
			feeds[i].Cron = cron.Every(15 * time.Minute)
		}
	}
	return &config.Config{
		Title:    "test",
		Schedule: "@every 15m",
		Cron:     cron.Every(15 * time.Minute),
		Fetch: config.Fetch{
			Concurrency: 4,
			PerHost:     2,
			Timeout:     5 * time.Second,
			MaxBody:     10 << 20,
			UserAgent:   "tributary-test/1.0",
		},
		Feeds: feeds,
	}
}

func feedsAt(urls ...string) []config.Feed {
	feeds := make([]config.Feed, len(urls))
	for i, u := range urls {
		feeds[i] = config.Feed{URL: u, Categories: []string{"News"}}
	}
	return feeds
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestFetcher builds a Fetcher over store with the package's own HTTP
// client unless opts names one.
func newTestFetcher(t *testing.T, cfg *config.Config, store Store, opts Options) *Fetcher {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	f, err := New(cfg, store, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

func fetchFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "today-news", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// route is what feedServer answers on one path.
type route struct {
	status       int // 0 means 200
	body         []byte
	contentType  string
	etag         string
	lastModified string
	location     string // for 3xx
	// handler, when set, answers instead.
	handler http.HandlerFunc
}

// feedServer serves routes, honours If-None-Match / If-Modified-Since like
// a well-behaved feed server, and records the requests it gets.
type feedServer struct {
	*httptest.Server
	mu       sync.Mutex
	routes   map[string]route
	requests map[string][]http.Header
}

func newFeedServer(t *testing.T) *feedServer {
	t.Helper()
	fs := &feedServer{routes: map[string]route{}, requests: map[string][]http.Header{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) set(path string, r route) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.routes[path] = r
	return fs.URL + path
}

func (fs *feedServer) seen(path string) []http.Header {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.requests[path]
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	fs.requests[r.URL.Path] = append(fs.requests[r.URL.Path], r.Header.Clone())
	rt, ok := fs.routes[r.URL.Path]
	fs.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rt.handler != nil {
		rt.handler(w, r)
		return
	}
	if rt.location != "" {
		http.Redirect(w, r, rt.location, rt.status)
		return
	}
	if rt.status != 0 && rt.status != http.StatusOK {
		http.Error(w, http.StatusText(rt.status), rt.status)
		return
	}
	if rt.etag != "" {
		w.Header().Set("ETag", rt.etag)
	}
	if rt.lastModified != "" {
		w.Header().Set("Last-Modified", rt.lastModified)
	}
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if (rt.etag != "" && inm == rt.etag) || (inm == "" && rt.lastModified != "" && ims == rt.lastModified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if rt.contentType != "" {
		w.Header().Set("Content-Type", rt.contentType)
	}
	_, _ = w.Write(rt.body)
}

// fetchOne runs FetchNow for url and returns its single Result.
func fetchOne(t *testing.T, f *Fetcher, url string) Result {
	t.Helper()
	res, err := f.FetchNow(t.Context(), url)
	if err != nil {
		t.Fatalf("FetchNow(%s): %v", url, err)
	}
	if len(res) != 1 {
		t.Fatalf("FetchNow(%s): %d results, want 1", url, len(res))
	}
	return res[0]
}
