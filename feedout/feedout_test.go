package feedout

import (
	"github.com/tributary/tributary/feedcheck"

	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// fakeStore is an in-memory Store that counts Page calls per slug.
type fakeStore struct {
	mu       sync.Mutex
	articles []storage.Article
	updated  map[string]time.Time // by slug, including "all"
	latest   map[string]int       // Page calls by slug
	version  uint64               // add calls
	// categoriesErr and latestErr fail Categories and Page when set.
	categoriesErr, latestErr error
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{updated: make(map[string]time.Time), latest: make(map[string]int)}
}

// add stores articles at time at, which becomes the Updated time of "all"
// and of their categories.
func (f *fakeStore) add(at time.Time, articles ...storage.Article) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	for _, a := range articles {
		f.articles = append(f.articles, a)
		f.updated[storage.AllSlug] = at
		for _, c := range a.Categories {
			f.updated[c.Slug] = at
		}
	}
}

// in reports whether a is filed in slug.
func in(a storage.Article, slug string) bool {
	return slug == storage.AllSlug || slices.ContainsFunc(a.Categories, func(c storage.Category) bool { return c.Slug == slug })
}

// ViewPage serves the page of slugs[0]: the handler's categories walk one
// category; the views' walks are tested on the real store.
func (f *fakeStore) ViewPage(_ context.Context, slugs []string, q storage.PageQuery) (storage.Page, error) {
	slug := slugs[0]
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latest[slug]++
	if f.latestErr != nil {
		return storage.Page{}, f.latestErr
	}
	var all []storage.Article
	for _, a := range f.articles {
		if in(a, slug) {
			all = append(all, a)
		}
	}
	// Newest first by cursor, as the store's index orders them.
	slices.SortFunc(all, func(a, b storage.Article) int {
		return bytes.Compare(storage.CursorOf(b), storage.CursorOf(a))
	})
	lo, hi := 0, len(all) // the window of candidates, newest first
	switch {
	case q.Before != nil:
		lo = slices.IndexFunc(all, func(a storage.Article) bool { return bytes.Compare(storage.CursorOf(a), q.Before) < 0 })
		if lo < 0 {
			lo = len(all)
		}
	case q.After != nil:
		hi = slices.IndexFunc(all, func(a storage.Article) bool { return bytes.Compare(storage.CursorOf(a), q.After) <= 0 })
		if hi < 0 {
			hi = len(all)
		}
		lo = max(0, hi-q.Limit)
	}
	end := min(hi, lo+max(q.Limit, 0))
	p := storage.Page{Articles: slices.Clone(all[lo:end]), HasNewer: lo > 0, HasOlder: end < len(all)}
	if p.Articles == nil {
		p.Articles = []storage.Article{}
	}
	if len(p.Articles) > 0 {
		p.Newest, p.Oldest = storage.CursorOf(p.Articles[0]), storage.CursorOf(p.Articles[len(p.Articles)-1])
	}
	return p, nil
}

// Version counts the calls of add: the store changes only there.
func (f *fakeStore) Version(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, f.categoriesErr
}

func (f *fakeStore) Categories(context.Context) ([]storage.CategoryInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.categoriesErr != nil {
		return nil, f.categoriesErr
	}
	infos := make(map[string]*storage.CategoryInfo)
	for _, a := range f.articles {
		cats := append([]storage.Category{{Slug: storage.AllSlug, Name: storage.AllSlug}}, a.Categories...)
		for _, c := range cats {
			info := infos[c.Slug]
			if info == nil {
				info = &storage.CategoryInfo{Category: c, Updated: f.updated[c.Slug]}
				infos[c.Slug] = info
			}
			info.Count++
		}
	}
	out := make([]storage.CategoryInfo, 0, len(infos))
	for _, info := range infos {
		out = append(out, *info)
	}
	slices.SortFunc(out, func(a, b storage.CategoryInfo) int { return strings.Compare(a.Slug, b.Slug) })
	return out, nil
}

// latestCalls returns how often Page was called for slug.
func (f *fakeStore) latestCalls(slug string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latest[slug]
}

// worldCategory is a configured category holding articles in the tests.
func worldCategory() storage.Category { return storage.Category{Slug: "world", Name: "World"} }

// testArticle returns an article published at the given day of March 2026.
func testArticle(n, day int, cats ...storage.Category) storage.Article {
	at := time.Date(2026, 3, day, 8, 0, 0, 0, time.UTC)
	return storage.Article{
		ID:         fmt.Sprintf("%032x", n),
		GUID:       fmt.Sprintf("https://src.example/story/%d", n),
		Title:      fmt.Sprintf("Story %d", n),
		Link:       fmt.Sprintf("https://src.example/story/%d", n),
		Published:  at,
		Updated:    at,
		Author:     "María Paula Mijares Torres",
		Content:    "<p>A &amp; B</p>",
		Categories: cats,
		Source:     storage.Source{FeedURL: "https://src.example/feed", ID: "https://src.example/feed", Title: "Src"},
		FirstSeen:  at,
	}
}

// newTestHandler returns a handler on a fake store holding three articles
// (two in World, one also in U.S.–Russia) with World and Science configured.
func newTestHandler(t *testing.T, opts Options) (http.Handler, *fakeStore) {
	t.Helper()
	store := newFakeStore()
	world := worldCategory()
	russia := storage.Category{Slug: "u-s-russia-relations", Name: "U.S.–Russia Relations"}
	science := storage.Category{Slug: "science", Name: "Science"}
	store.add(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		testArticle(1, 1, world),
		testArticle(2, 1, russia, world),
	)
	store.add(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), testArticle(3, 2))
	opts.Title = "Today News"
	opts.BaseURL = "https://news.example.org/" // the trailing slash is dropped
	opts.Categories = []storage.Category{world, science}
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	opts.Now = func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) }
	return NewHandler(store, opts), store
}

// serve runs one request through h.
func serve(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerRoutes(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	tests := []struct {
		name        string
		method      string
		target      string
		wantStatus  int
		wantType    string
		wantBody    string // substring
		wantAllow   string
		wantNoBody  bool
		wantEntries int
	}{
		{name: "all", method: "GET", target: "/feeds/all.atom", wantStatus: 200, wantType: atomContentType, wantEntries: 3},
		{name: "stored category", method: "GET", target: "/feeds/u-s-russia-relations.atom", wantStatus: 200, wantType: atomContentType, wantEntries: 1},
		{name: "configured category", method: "GET", target: "/feeds/world.atom", wantStatus: 200, wantType: atomContentType, wantEntries: 2},
		{name: "configured empty category", method: "GET", target: "/feeds/science.atom", wantStatus: 200, wantType: atomContentType, wantEntries: 0},
		{name: "head", method: "HEAD", target: "/feeds/all.atom", wantStatus: 200, wantType: atomContentType, wantNoBody: true},
		{name: "unknown slug", method: "GET", target: "/feeds/sports.atom", wantStatus: 404, wantBody: "feed not found"},
		{name: "unknown extension", method: "GET", target: "/feeds/all.xml", wantStatus: 404, wantBody: "feed not found"},
		{name: "no extension", method: "GET", target: "/feeds/all", wantStatus: 404, wantBody: "feed not found"},
		{name: "empty slug", method: "GET", target: "/feeds/.atom", wantStatus: 404, wantBody: "feed not found"},
		{name: "nested path", method: "GET", target: "/feeds/a/all.atom", wantStatus: 404},
		{name: "post feed", method: "POST", target: "/feeds/all.atom", wantStatus: 405, wantAllow: "GET, HEAD"},
		{name: "delete healthz", method: "DELETE", target: "/healthz", wantStatus: 405, wantAllow: "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.method, tt.target, nil)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantType != "" {
				if got := rec.Header().Get("Content-Type"); got != tt.wantType {
					t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
				}
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q lacks %q", rec.Body, tt.wantBody)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantNoBody && rec.Body.Len() != 0 {
				t.Errorf("HEAD body has %d bytes", rec.Body.Len())
			}
			if tt.wantType == atomContentType && !tt.wantNoBody {
				if n := len(feedcheck.Parse(t, rec.Body.Bytes()).Entries); n != tt.wantEntries {
					t.Errorf("entries = %d, want %d", n, tt.wantEntries)
				}
			}
		})
	}
}

func TestHandlerDocument(t *testing.T) {
	t.Parallel()
	h, _ := newTestHandler(t, Options{PageSize: 2})
	tests := []struct {
		slug         string
		wantTitle    string
		wantUpdated  string
		wantModified string
		wantIDs      []string
		wantNext     string // the query of the next page; empty when none
	}{
		{
			slug:         "all",
			wantTitle:    "Today News",
			wantUpdated:  "2026-03-02T09:30:00Z", // the category changed after its newest entry
			wantModified: "Mon, 02 Mar 2026 09:30:00 GMT",
			wantIDs:      []string{"https://src.example/story/3", "https://src.example/story/2"},
			wantNext:     "?before=" + base64.RawURLEncoding.EncodeToString(storage.CursorOf(testArticle(2, 1))),
		},
		{
			slug:         "u-s-russia-relations",
			wantTitle:    "Today News: U.S.–Russia Relations",
			wantUpdated:  "2026-03-01T09:00:00Z",
			wantModified: "Sun, 01 Mar 2026 09:00:00 GMT",
			wantIDs:      []string{"https://src.example/story/2"},
		},
		{
			slug:         "science",
			wantTitle:    "Today News: Science",
			wantUpdated:  "1970-01-01T00:00:00Z", // never held an article: the epoch, on every instance
			wantModified: "Thu, 01 Jan 1970 00:00:00 GMT",
		},
	}
	docs := make(map[string][]byte)
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			rec := serve(h, "GET", "/feeds/"+tt.slug+".atom", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			docs[tt.slug] = rec.Body.Bytes()
			f := feedcheck.Parse(t, rec.Body.Bytes())
			self := "https://news.example.org/feeds/" + tt.slug + ".atom"
			var ids []string
			for _, e := range f.Entries {
				ids = append(ids, e.ID)
			}
			got := []string{f.ID, f.Title, f.Updated, f.Authors[0].Name, f.Generator, rec.Header().Get("Last-Modified")}
			want := []string{self, tt.wantTitle, tt.wantUpdated, "Today News", "tributary", tt.wantModified}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("feed (-want +got):\n%s", diff)
			}
			wantLinks := []feedcheck.Link{
				{Href: self, Rel: "self", Type: "application/atom+xml"},
				{Href: "https://news.example.org/c/" + tt.slug, Rel: "alternate", Type: "text/html"},
				{Href: self, Rel: "first", Type: "application/atom+xml"},
			}
			if tt.wantNext != "" {
				wantLinks = append(wantLinks, feedcheck.Link{Href: self + tt.wantNext, Rel: "next", Type: "application/atom+xml"})
			}
			if diff := cmp.Diff(wantLinks, f.Links); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("entry ids (-want +got):\n%s", diff)
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=60" {
				t.Errorf("Cache-Control = %q", got)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		feedcheck.Atom(t, docs)
	})
}

func TestHandlerConditional(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	first := serve(h, "GET", "/feeds/world.atom", nil)
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag %q is not a strong quoted tag", etag)
	}
	modified := first.Header().Get("Last-Modified")
	gzipTag := serve(h, "GET", "/feeds/world.atom", http.Header{"Accept-Encoding": {"gzip"}}).Header().Get("ETag")

	tests := []struct {
		name   string
		method string
		header http.Header
		want   int
	}{
		{name: "if-none-match", method: "GET", header: http.Header{"If-None-Match": {etag}}, want: 304},
		{name: "if-none-match head", method: "HEAD", header: http.Header{"If-None-Match": {etag}}, want: 304},
		{name: "if-none-match list", method: "GET", header: http.Header{"If-None-Match": {`"other", ` + etag}}, want: 304},
		{name: "if-none-match other", method: "GET", header: http.Header{"If-None-Match": {`"other"`}}, want: 200},
		{name: "plain tag for gzip variant", method: "GET", header: http.Header{"If-None-Match": {etag}, "Accept-Encoding": {"gzip"}}, want: 200},
		{name: "gzip tag for gzip variant", method: "GET", header: http.Header{"If-None-Match": {gzipTag}, "Accept-Encoding": {"gzip"}}, want: 304},
		{name: "if-modified-since same", method: "GET", header: http.Header{"If-Modified-Since": {modified}}, want: 304},
		{name: "if-modified-since later", method: "GET", header: http.Header{"If-Modified-Since": {"Tue, 03 Mar 2026 00:00:00 GMT"}}, want: 304},
		{name: "if-modified-since earlier", method: "GET", header: http.Header{"If-Modified-Since": {"Sat, 28 Feb 2026 00:00:00 GMT"}}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.method, "/feeds/world.atom", tt.header)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Errorf("304 with a %d-byte body", rec.Body.Len())
			}
		})
	}
	if gzipTag == etag {
		t.Errorf("gzip variant has the identity ETag %s", etag)
	}
}

func TestHandlerGzip(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)

	get := func(t *testing.T, acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/feeds/all.atom", nil)
		if err != nil {
			t.Fatal(err)
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	plainResp, plain := get(t, "")
	if plainResp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("identity response has Content-Encoding %q", plainResp.Header.Get("Content-Encoding"))
	}

	tests := []struct {
		acceptEncoding string
		wantGzip       bool
	}{
		{"gzip", true},
		{"br, gzip;q=0.5", true},
		{"*", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"br", false},
	}
	for _, tt := range tests {
		t.Run(tt.acceptEncoding, func(t *testing.T) {
			resp, body := get(t, tt.acceptEncoding)
			if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q", got)
			}
			if got := resp.Header.Get("Content-Type"); got != atomContentType {
				t.Errorf("Content-Type = %q", got)
			}
			if !tt.wantGzip {
				if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, plain) {
					t.Errorf("Content-Encoding %q, body differs from identity: %v", resp.Header.Get("Content-Encoding"), !bytes.Equal(body, plain))
				}
				return
			}
			if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
				t.Fatalf("Content-Encoding = %q, want gzip", got)
			}
			if resp.Header.Get("ETag") == plainResp.Header.Get("ETag") {
				t.Errorf("gzip and identity share ETag %s", plainResp.Header.Get("ETag"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(plain), string(unzipped)); diff != "" {
				t.Errorf("gunzipped body (-identity +gzip):\n%s", diff)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"x-gzip", true},
		{"deflate, gzip", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"gzip;q=0.001", true},
		{"gzip;q=bogus", false},
		{"*", true},
		{"*;q=0", false},
		{"*, gzip;q=0", false},
		{"gzip;q=0, *", false},
		{"br, deflate", false},
		{"gzipx", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestHandlerCache(t *testing.T) {
	h, store := newTestHandler(t, Options{})
	get := func(t *testing.T, slug string) *httptest.ResponseRecorder {
		t.Helper()
		rec := serve(h, "GET", "/feeds/"+slug+".atom", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec
	}

	first := get(t, "world")
	for range 3 {
		get(t, "world")
		serve(h, "GET", "/feeds/world.atom", http.Header{"Accept-Encoding": {"gzip"}})
		serve(h, "HEAD", "/feeds/world.atom", nil)
	}
	get(t, "science")
	get(t, "science")
	if got := store.latestCalls("world"); got != 1 {
		t.Errorf("unchanged category: Page called %d times, want 1", got)
	}
	if got := store.latestCalls("science"); got != 1 {
		t.Errorf("empty category: Page called %d times, want 1", got)
	}

	store.add(time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC), testArticle(4, 3, worldCategory()))
	changed := get(t, "world")
	get(t, "world")
	if got := store.latestCalls("world"); got != 2 {
		t.Errorf("after a change: Page called %d times, want 2", got)
	}
	if first.Header().Get("ETag") == changed.Header().Get("ETag") {
		t.Error("ETag unchanged after the category changed")
	}
	if got := feedcheck.Parse(t, changed.Body.Bytes()).Entries[0].Title; got != "Story 4" {
		t.Errorf("newest entry after a change = %q, want Story 4", got)
	}
	if got := serve(h, "GET", "/feeds/world.atom", http.Header{"If-None-Match": {first.Header().Get("ETag")}}).Code; got != http.StatusOK {
		t.Errorf("old ETag after a change: status %d, want 200", got)
	}
}

func TestHandlerConcurrent(t *testing.T) {
	h, store := newTestHandler(t, Options{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%4 == 0 {
				store.add(time.Date(2026, 3, 3, 0, 0, i, 0, time.UTC), testArticle(100+i, 3, worldCategory()))
			}
			rec := serve(h, "GET", "/feeds/world.atom", http.Header{"Accept-Encoding": {"gzip"}})
			if rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
}

func TestHandlerStoreError(t *testing.T) {
	tests := []struct {
		name       string
		latestOnly bool
		canceled   bool
		wantLevel  string
	}{
		{name: "categories failure", wantLevel: "level=ERROR"},
		{name: "latest failure", latestOnly: true, wantLevel: "level=ERROR"},
		{name: "client gone", canceled: true, wantLevel: "level=DEBUG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.latestErr = errors.New("disk on fire")
			if !tt.latestOnly {
				store.categoriesErr = store.latestErr
			}
			var logs bytes.Buffer
			h := NewHandler(store, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			ctx, cancel := context.WithCancel(t.Context())
			if tt.canceled {
				cancel()
			}
			defer cancel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/feeds/all.atom", nil))
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", rec.Code)
			}
			if strings.Contains(rec.Body.String(), "disk on fire") {
				t.Errorf("500 body leaks the error: %q", rec.Body)
			}
			if !strings.Contains(logs.String(), tt.wantLevel) || !strings.Contains(logs.String(), "disk on fire") {
				t.Errorf("log %q lacks %s and the error", logs.String(), tt.wantLevel)
			}
		})
	}
}

func TestHandlerHealth(t *testing.T) {
	tests := []struct {
		name       string
		health     func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{name: "no check", wantStatus: 200, wantBody: `{"status":"ok"}` + "\n"},
		{name: "ok", health: func(context.Context) error { return nil }, wantStatus: 200, wantBody: `{"status":"ok"}` + "\n"},
		{
			name:       "unhealthy",
			health:     func(context.Context) error { return errors.New("scheduler stopped") },
			wantStatus: 503,
			wantBody:   `{"status":"unhealthy","error":"scheduler stopped"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, Options{Health: tt.health})
			rec := serve(h, "GET", "/healthz", nil)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if diff := cmp.Diff(tt.wantBody, rec.Body.String()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkServeFeedCached(b *testing.B) {
	store := newFakeStore()
	store.add(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), benchArticles(b, 50)...)
	h := NewHandler(store, Options{Title: "Today News", BaseURL: "https://news.example.org"})
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/feeds/all.atom", nil)
			req.Header.Set("Accept-Encoding", enc)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
