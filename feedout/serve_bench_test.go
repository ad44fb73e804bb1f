package feedout

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
	"github.com/tributary/tributary/storage"
)

// discardWriter is a ResponseWriter that drops the body, so the benchmark
// measures the handler, not a recorder's buffer.
type discardWriter struct {
	hdr  http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.hdr }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

var _ io.Writer = (*discardWriter)(nil)

// BenchmarkServeCachedFeed measures the handler's work per request for a
// cached 50-entry document from a real store, a bbolt file and a
// PostgreSQL database: a 200 and a 304. Each request reads the store's
// version, which on PostgreSQL is a round trip.
func BenchmarkServeCachedFeed(b *testing.B) {
	now := func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
	for _, backend := range []struct {
		name string
		open func(testing.TB, func() time.Time) *storage.Store
	}{{"bbolt", newBoltStore}, {"postgres", newPostgresStore}} {
		b.Run(backend.name, func(b *testing.B) { benchmarkServeCached(b, backend.open(b, now)) })
	}
}

// newPostgresStore returns a store in a new database of the test server.
func newPostgresStore(t testing.TB, now func() time.Time) *storage.Store {
	t.Helper()
	db, err := pgkv.Open(t.Context(), pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.New(db, storage.Options{Now: now})
	if err != nil {
		_ = db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// benchmarkServeCached is BenchmarkServeCachedFeed on store.
func benchmarkServeCached(b *testing.B, store *storage.Store) {
	world := storage.Category{Slug: "world", Name: "World"}
	saveAll(b, store, seqArticles(0, 50, world))
	h := NewHandler(store, Options{Title: "Bench", BaseURL: "http://127.0.0.1", PageSize: 50})
	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequest("GET", "/feeds/world.atom", nil))
	etag := first.Header().Get("ETag")
	for _, tt := range []struct {
		name  string
		inm   string
		wantS int
	}{{"200", "", http.StatusOK}, {"304", etag, http.StatusNotModified}} {
		b.Run(tt.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/feeds/world.atom", nil)
			if tt.inm != "" {
				req.Header.Set("If-None-Match", tt.inm)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{hdr: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != tt.wantS && !(w.code == 0 && tt.wantS == http.StatusOK) {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
