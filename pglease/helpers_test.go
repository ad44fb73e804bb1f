package pglease

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
	"github.com/tributary/tributary/storage"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// newPool returns the pool of a new database that pgkv.Open migrated,
// which creates the lease tables.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db, err := pgkv.Open(t.Context(), pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db.Pool()
}

// newCoordinator returns a Coordinator on pool, closed at the end of t.
func newCoordinator(t testing.TB, pool *pgxpool.Pool, opts Options) *Coordinator {
	t.Helper()
	c, err := New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// farm is a loopback feed server: every path /f/NAME is a small RSS feed
// of its own. It records every request's path and arrival time.
type farm struct {
	srv *httptest.Server
	mu  sync.Mutex
	// hits counts the requests of each path; starts are their arrival
	// times, in order.
	hits   map[string]int
	starts []time.Time
	// inFlight and maxInFlight count requests being answered.
	inFlight, maxInFlight int
	// answer, when set for a path, answers it instead of the feed.
	answer map[string]http.HandlerFunc
	// hold, when not nil, is waited for by every request before it is
	// answered.
	hold chan struct{}
}

func newFarm(t testing.TB) *farm {
	fm := &farm{hits: map[string]int{}, answer: map[string]http.HandlerFunc{}}
	fm.srv = httptest.NewServer(http.HandlerFunc(fm.serve))
	t.Cleanup(fm.srv.Close)
	return fm
}

func (fm *farm) serve(w http.ResponseWriter, r *http.Request) {
	fm.mu.Lock()
	fm.hits[r.URL.Path]++
	fm.starts = append(fm.starts, time.Now())
	fm.inFlight++
	fm.maxInFlight = max(fm.maxInFlight, fm.inFlight)
	answer, hold := fm.answer[r.URL.Path], fm.hold
	fm.mu.Unlock()
	defer func() {
		fm.mu.Lock()
		fm.inFlight--
		fm.mu.Unlock()
	}()
	if hold != nil {
		<-hold
	}
	if answer != nil {
		answer(w, r)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/f/")
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%[1]s</title><link>http://example.com/%[1]s</link>
<item><title>Story of %[1]s</title><link>http://example.com/%[1]s/1</link><guid>%[1]s-1</guid><pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`, name)
}

// urls returns the URLs of n feeds of the farm, named prefix0…
func (fm *farm) urls(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/f/%s%d", fm.srv.URL, prefix, i)
	}
	return out
}

// counts returns the requests of each path so far.
func (fm *farm) counts() map[string]int {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	c := make(map[string]int, len(fm.hits))
	for k, v := range fm.hits {
		c[k] = v
	}
	return c
}

// arrivals returns the arrival times of the requests so far, in order.
func (fm *farm) arrivals() []time.Time {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	s := slices.Clone(fm.starts)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	return s
}

// paths maps feed URLs to the paths the farm sees, each once.
func paths(urls []string) map[string]int {
	m := make(map[string]int, len(urls))
	for _, u := range urls {
		m[u[strings.Index(u, "/f/"):]] = 1
	}
	return m
}

// fetchSettings are the fetch: keys of an instance's config.
type fetchSettings struct {
	concurrency, perHost int
	hostInterval         time.Duration
}

// newInstance returns a Fetcher of the feeds urls (hourly), with its own
// bbolt store and its own Coordinator on pool, as one instance of several.
func newInstance(t testing.TB, pool *pgxpool.Pool, urls []string, fs fetchSettings, opts Options) (*fetcher.Fetcher, *Coordinator) {
	t.Helper()
	store, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return newInstanceOn(t, store, pool, urls, fs, opts)
}

// newInstanceOn is newInstance with the store given.
func newInstanceOn(t testing.TB, store fetcher.Store, pool *pgxpool.Pool, urls []string, fs fetchSettings, opts Options) (*fetcher.Fetcher, *Coordinator) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "title: test\nschedule: \"@every 1h\"\nfetch:\n  concurrency: %d\n  per_host: %d\n  host_interval: %s\n  timeout: 10s\nfeeds:\n",
		fs.concurrency, fs.perHost, fs.hostInterval)
	for _, u := range urls {
		fmt.Fprintf(&b, "  - url: %s\n    categories: [News]\n", u)
	}
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "tributary.yaml"), []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	c := newCoordinator(t, pool, opts)
	f, err := fetcher.New(cfg, store, fetcher.Options{Coordinator: c})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// runAll runs one RunOnce of every fetcher at once and returns their
// Results, one slice per fetcher.
func runAll(t *testing.T, fs ...*fetcher.Fetcher) [][]fetcher.Result {
	t.Helper()
	out := make([][]fetcher.Result, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() {
			res, err := f.RunOnce(t.Context())
			if err != nil {
				t.Errorf("RunOnce of instance %d: %v", i, err)
			}
			out[i] = res
		})
	}
	wg.Wait()
	return out
}
