package feedout

import (
	"github.com/tributary/tributary/feedcheck"

	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// pagingFixture serves 23 World articles and 2 Science ones from a real
// store with a page size of 5.
func pagingFixture(t *testing.T) (http.Handler, *storage.Store) {
	t.Helper()
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(t, func() time.Time { return clock })
	world := storage.Category{Slug: "world", Name: "World"}
	science := storage.Category{Slug: "science", Name: "Science"}
	saveAll(t, store, append(seqArticles(0, 23, world), seqArticles(100, 2, science)...))
	h := NewHandler(store, Options{
		Title:      "Today News",
		BaseURL:    "https://news.example.org",
		PageSize:   5,
		Categories: []storage.Category{world, science, {Slug: "sports", Name: "Sports"}},
		Logger:     slog.New(slog.NewTextHandler(t.Output(), nil)),
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	return h, store
}

// linkOf returns the href of the atom link rel of f, relative to the host.
func linkOf(f feedcheck.Feed, rel string) string {
	for _, l := range f.Links {
		if l.Rel == rel {
			return strings.TrimPrefix(l.Href, "https://news.example.org")
		}
	}
	return ""
}

func TestFeedPagingWalksWholeHistory(t *testing.T) {
	t.Parallel()
	h, _ := pagingFixture(t)
	tests := []struct {
		name      string
		start     string
		wantPages int
		wantTotal int
	}{
		{"default limit", "/feeds/world.atom", 5, 23},
		{"explicit limit", "/feeds/world.atom?limit=10", 3, 23},
		{"all", "/feeds/all.atom?limit=7", 4, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var titles []string
			docs := map[string][]byte{}
			target := tt.start
			var pages []string
			for target != "" && len(pages) < 20 {
				rec := serve(h, "GET", target, nil)
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
				}
				pages = append(pages, target)
				docs[target] = rec.Body.Bytes()
				f := feedcheck.Parse(t, rec.Body.Bytes())
				for _, e := range f.Entries {
					titles = append(titles, e.Title)
				}
				if got := linkOf(f, "first"); got != tt.start {
					t.Errorf("%s: first = %q, want %q", target, got, tt.start)
				}
				if got := linkOf(f, "self"); got != target {
					t.Errorf("%s: self = %q", target, got)
				}
				if len(pages) > 1 && linkOf(f, "previous") == "" {
					t.Errorf("%s: no previous link on page %d", target, len(pages))
				}
				target = linkOf(f, "next")
			}
			if len(pages) != tt.wantPages || len(titles) != tt.wantTotal {
				t.Errorf("walked %d pages, %d entries; want %d, %d", len(pages), len(titles), tt.wantPages, tt.wantTotal)
			}
			seen := map[string]bool{}
			for _, ti := range titles {
				if seen[ti] {
					t.Errorf("entry %q on two pages", ti)
				}
				seen[ti] = true
			}
			// Walking back with "previous" from the last page returns the
			// pages in reverse, ending at a page without a previous link.
			back := 0
			for target = pages[len(pages)-1]; target != "" && back < 20; back++ {
				rec := serve(h, "GET", target, nil)
				target = linkOf(feedcheck.Parse(t, rec.Body.Bytes()), "previous")
			}
			if back != tt.wantPages {
				t.Errorf("walked back %d pages, want %d", back, tt.wantPages)
			}
			t.Run("valid", func(t *testing.T) { feedcheck.Atom(t, docs) })
		})
	}
}

func TestFeedFormatsServed(t *testing.T) {
	t.Parallel()
	h, _ := pagingFixture(t)
	rss := map[string][]byte{}
	jsons := map[string][]byte{}
	for _, slug := range []string{"all", "world", "science", "sports"} {
		for _, f := range formats() {
			target := "/feeds/" + slug + f.ext
			t.Run(target, func(t *testing.T) {
				for _, method := range []string{"GET", "HEAD"} {
					rec := serve(h, method, target, nil)
					if rec.Code != http.StatusOK {
						t.Fatalf("%s: status %d", method, rec.Code)
					}
					hdr := rec.Header()
					got := []string{hdr.Get("Content-Type"), hdr.Get("Cache-Control"), hdr.Get("Vary")}
					if diff := cmp.Diff([]string{f.contentType, cacheControl, "Accept-Encoding"}, got); diff != "" {
						t.Errorf("%s headers (-want +got):\n%s", method, diff)
					}
					if method == "HEAD" && rec.Body.Len() != 0 {
						t.Errorf("HEAD has a body")
					}
					if method == "GET" {
						switch f.ext {
						case ".rss":
							rss[slug] = rec.Body.Bytes()
						case ".json":
							jsons[slug] = rec.Body.Bytes()
						}
					}
				}
			})
		}
	}
	t.Run("rss valid", func(t *testing.T) { feedcheck.RSS(t, rss) })
	t.Run("json valid", func(t *testing.T) { feedcheck.JSONFeed(t, jsons) })
	if n := len(feedcheck.ParseJSONFeed(t, jsons["world"]).Items); n != 5 {
		t.Errorf("json world has %d items, want 5", n)
	}
	if next := feedcheck.ParseJSONFeed(t, jsons["world"]).NextURL; !strings.HasPrefix(next, "https://news.example.org/feeds/world.json?before=") {
		t.Errorf("json next_url = %q", next)
	}
}

func TestFeedQueryAndRouteErrors(t *testing.T) {
	t.Parallel()
	h, _ := pagingFixture(t)
	tests := []struct {
		name, method, target string
		body                 string
		wantStatus           int
		wantBody             string
	}{
		{name: "limit zero", method: "GET", target: "/feeds/world.atom?limit=0", wantStatus: 400, wantBody: "limit must be an integer from 1 to 200"},
		{name: "limit too big", method: "GET", target: "/feeds/world.rss?limit=201", wantStatus: 400, wantBody: "limit"},
		{name: "limit max", method: "GET", target: "/feeds/world.json?limit=200", wantStatus: 200},
		{name: "limit junk", method: "GET", target: "/feeds/world.atom?limit=ten", wantStatus: 400},
		{name: "bad cursor", method: "GET", target: "/feeds/world.atom?before=!!", wantStatus: 400, wantBody: "before is not a page cursor"},
		{name: "short cursor", method: "GET", target: "/feeds/world.atom?after=AAAA", wantStatus: 400},
		{name: "both cursors", method: "GET", target: "/feeds/world.atom?before=" + strings.Repeat("A", 54) + "&after=" + strings.Repeat("A", 54), wantStatus: 400, wantBody: "exclude"},
		{name: "unknown parameter ignored", method: "GET", target: "/feeds/world.atom?nocache=123", wantStatus: 200},
		{name: "unknown route", method: "GET", target: "/wp-admin", wantStatus: 404, wantBody: "not found\n"},
		{name: "unknown category page", method: "GET", target: "/c/nothing", wantStatus: 404, wantBody: "category not found"},
		{name: "post to feed", method: "POST", target: "/feeds/all.atom", wantStatus: 405},
		{name: "get with body", method: "GET", target: "/feeds/all.atom", body: "x=1", wantStatus: 413, wantBody: "request body not allowed"},
		{name: "post with body to index", method: "POST", target: "/", body: "x", wantStatus: 413},
		{name: "head index", method: "HEAD", target: "/", wantStatus: 200},
		{name: "put opml", method: "PUT", target: "/opml", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, tt.target, body)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q lacks %q", rec.Body, tt.wantBody)
			}
			if rec.Code >= 400 && rec.Code != 405 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("error Content-Type = %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestFeedCachePerPage(t *testing.T) {
	t.Parallel()
	h, store := pagingFixture(t)
	first := serve(h, "GET", "/feeds/world.rss", nil)
	page2 := serve(h, "GET", "/feeds/world.rss?before="+strings.TrimPrefix(
		feedcheck.ParseRSS(t, first.Body.Bytes()).Channel.AtomLinks[2].Href, "https://news.example.org/feeds/world.rss?before="), nil)
	if page2.Code != http.StatusOK || page2.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Fatalf("page 2: status %d, same ETag as page 1: %v", page2.Code, page2.Header().Get("ETag") == first.Header().Get("ETag"))
	}
	// Unchanged: the same bytes; changed: a new document.
	if again := serve(h, "GET", "/feeds/world.rss", nil); again.Body.String() != first.Body.String() {
		t.Error("unchanged category rendered differently")
	}
	saveAll(t, store, seqArticles(50, 1, storage.Category{Slug: "world", Name: "World"}))
	changed := serve(h, "GET", "/feeds/world.rss", http.Header{"If-None-Match": {first.Header().Get("ETag")}})
	if changed.Code != http.StatusOK {
		t.Fatalf("after a change: status %d, want 200", changed.Code)
	}
	if got := feedcheck.ParseRSS(t, changed.Body.Bytes()).Channel.Items[0].Title; got != "Story 50: markets & <policy>" {
		t.Errorf("newest after a change = %q", got)
	}
	if rec := serve(h, "GET", "/feeds/world.rss", http.Header{"If-None-Match": {changed.Header().Get("ETag")}}); rec.Code != http.StatusNotModified {
		t.Errorf("new ETag: status %d, want 304", rec.Code)
	}
}

func TestOPML(t *testing.T) {
	t.Parallel()
	h, _ := pagingFixture(t)
	rec := serve(h, "GET", "/opml", nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != opmlContentType {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc opmlDoc
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range doc.Body {
		got = append(got, o.Text+" "+o.XMLURL+" "+o.HTMLURL)
	}
	want := []string{
		"Today News https://news.example.org/feeds/all.atom https://news.example.org/c/all",
		"Today News: Science https://news.example.org/feeds/science.atom https://news.example.org/c/science",
		"Today News: Sports https://news.example.org/feeds/sports.atom https://news.example.org/c/sports",
		"Today News: World https://news.example.org/feeds/world.atom https://news.example.org/c/world",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outlines (-want +got):\n%s", diff)
	}
	if doc.Version != "2.0" || doc.Head.Title != "Today News" {
		t.Errorf("version %q, title %q", doc.Version, doc.Head.Title)
	}
}

func TestHTMLPages(t *testing.T) {
	t.Parallel()
	h, _ := pagingFixture(t)
	tests := []struct {
		target string
		want   []string
	}{
		{"/", []string{
			`<title>Today News</title>`,
			`<link rel="alternate" type="application/atom+xml" title="All sources (Atom)" href="https://news.example.org/feeds/all.atom">`,
			`<link rel="alternate" type="application/feed+json" title="World (JSON Feed)" href="https://news.example.org/feeds/world.json">`,
			`<a href="https://news.example.org/c/world">World</a>`,
			`<a href="https://news.example.org/feeds/world.rss" type="application/rss+xml">RSS</a>`,
			`<span class="count">23 entries</span>`,
			`<time datetime="2026-03-02T10:00:00Z">2 Mar 2026, 10:00 UTC</time>`,
		}},
		{"/c/world", []string{
			`<title>World · Today News</title>`,
			`<a href="https://src1.example/story/22">Story 22: markets &amp; &lt;policy&gt;</a>`,
			`<a href="https://src1.example/">Source 1</a>`,
			`<p class="excerpt">Paragraph 22 with a link &amp; more text to read.</p>`,
		}},
		{"/c/sports", []string{`No entries yet.`}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := serve(h, "GET", tt.target, nil)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != htmlContentType {
				t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page lacks %s", w)
				}
			}
			if rec := serve(h, "GET", tt.target, http.Header{"If-None-Match": {rec.Header().Get("ETag")}}); rec.Code != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", rec.Code)
			}
		})
	}
}
