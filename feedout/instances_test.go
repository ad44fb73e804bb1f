package feedout

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/storage"
)

// response is what a client or a cache in front of several instances
// sees of one answer.
type response struct {
	Code                                       int
	ETag, LastModified, ContentEncoding, Cache string
	Body                                       string
}

// TestInstancesServeIdenticalDocuments checks that two handlers over one
// store, created at different times (two instances started apart, or one
// restarted), serve every document byte for byte the same with the same
// ETag, so that a load balancer or a cache may send a request to either:
// nothing they serve may depend on when, or where, a handler was made.
func TestInstancesServeIdenticalDocuments(t *testing.T) {
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	store := newBoltStore(t, now)
	world := storage.Category{Slug: "world", Name: "World"}
	saveAll(t, store, seqArticles(0, 7, world))
	newHandler := func() http.Handler {
		return NewHandler(store, Options{
			Title:    "Today News",
			BaseURL:  "https://news.example.org",
			PageSize: 3,
			// sports never held an article.
			Categories: []storage.Category{world, {Slug: "sports", Name: "Sports"}},
			Views: []config.View{
				{Name: "Top", Slug: "top", Sort: config.SortCoverage, MinSources: 1, PageSize: 2},
				{Name: "Recent", Slug: "recent", Sort: config.SortNewest, MinSources: 1, Window: time.Hour, PageSize: 5},
			},
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
			Now:    now,
		})
	}
	first := newHandler()
	clock = clock.Add(3*time.Hour + 17*time.Second)
	second := newHandler()
	clock = clock.Add(time.Minute)

	var targets []string
	for _, slug := range []string{"all", "world", "sports", "top", "recent"} {
		for _, ext := range []string{".atom", ".rss", ".json"} {
			targets = append(targets, "/feeds/"+slug+ext, "/feeds/"+slug+ext+"?limit=1")
		}
		targets = append(targets, "/c/"+slug)
	}
	targets = append(targets, "/", "/opml")
	t.Run("a category that never held an article reads well", func(t *testing.T) {
		// Dated from the Unix epoch: valid Atom and RSS that feedparser
		// reads without complaint.
		atom := answer(first, "/feeds/sports.atom", nil)
		if !strings.Contains(atom.Body, "<updated>1970-01-01T00:00:00Z</updated>") || atom.LastModified != "Thu, 01 Jan 1970 00:00:00 GMT" {
			t.Errorf("empty category: Last-Modified %q, document:\n%s", atom.LastModified, atom.Body)
		}
		feedcheck.Atom(t, map[string][]byte{"sports.atom": []byte(atom.Body)})
		feedcheck.RSS(t, map[string][]byte{"sports.rss": []byte(answer(first, "/feeds/sports.rss", nil).Body)})
	})
	for _, target := range targets {
		for _, enc := range []string{"", "gzip"} {
			t.Run(target+" "+enc, func(t *testing.T) {
				hdr := http.Header{}
				if enc != "" {
					hdr.Set("Accept-Encoding", enc)
				}
				a, b := answer(first, target, hdr), answer(second, target, hdr)
				if a.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", target, a.Code, a.Body)
				}
				if diff := cmp.Diff(a, b); diff != "" {
					t.Errorf("GET %s: the two instances differ (-first +second):\n%s", target, diff)
				}
			})
		}
	}
}

// answer serves GET target with hdr through h.
func answer(h http.Handler, target string, hdr http.Header) response {
	rec := serve(h, "GET", target, hdr)
	return response{
		Code:            rec.Code,
		ETag:            rec.Header().Get("ETag"),
		LastModified:    rec.Header().Get("Last-Modified"),
		ContentEncoding: rec.Header().Get("Content-Encoding"),
		Cache:           rec.Header().Get("Cache-Control"),
		Body:            rec.Body.String(),
	}
}
