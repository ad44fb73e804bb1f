package feedout

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/storage"
)

// TestHubLinks checks that with a WebSub hub every feed format names the
// hub and itself (Atom links, RSS atom:link, JSON Feed hubs and feed_url),
// that the response's Link header does too, and that the documents stay
// valid for the schema, feedparser and our checks.
func TestHubLinks(t *testing.T) {
	const base, hub = "https://news.example.org", "https://news.example.org/websub"
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(t, func() time.Time { return clock })
	world := storage.Category{Slug: "world", Name: "World"}
	saveAll(t, store, seqArticles(0, 3, world))
	h := NewHandler(store, Options{
		Title:      "Today News",
		BaseURL:    base,
		Hub:        hub,
		Categories: []storage.Category{world},
		Logger:     slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	docs := map[string]map[string][]byte{".atom": {}, ".rss": {}, ".json": {}}
	for _, slug := range []string{"all", "world"} {
		for ext := range docs {
			target := "/feeds/" + slug + ext
			rec := serve(h, http.MethodGet, target, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d", target, rec.Code)
			}
			want := []string{"<" + hub + `>; rel="hub"`, "<" + base + target + `>; rel="self"`}
			if diff := cmp.Diff(want, rec.Header().Values("Link")); diff != "" {
				t.Errorf("GET %s Link header (-want +got):\n%s", target, diff)
			}
			docs[ext][slug] = rec.Body.Bytes()
			self, gotHub := docLinks(t, ext, rec.Body.Bytes())
			if diff := cmp.Diff([]string{base + target, hub}, []string{self, gotHub}); diff != "" {
				t.Errorf("%s self and hub (-want +got):\n%s", target, diff)
			}
		}
	}
	t.Run("atom valid", func(t *testing.T) { feedcheck.Atom(t, docs[".atom"]) })
	t.Run("rss valid", func(t *testing.T) { feedcheck.RSS(t, docs[".rss"]) })
	t.Run("json valid", func(t *testing.T) { feedcheck.JSONFeed(t, docs[".json"]) })
}

// TestNoHubNoLinks checks that without a hub no document names one.
func TestNoHubNoLinks(t *testing.T) {
	h, _ := pagingFixture(t)
	for _, ext := range []string{".atom", ".rss", ".json"} {
		rec := serve(h, http.MethodGet, "/feeds/world"+ext, nil)
		if _, hub := docLinks(t, ext, rec.Body.Bytes()); hub != "" {
			t.Errorf("world%s names hub %q", ext, hub)
		}
		if l := rec.Header().Values("Link"); len(l) != 0 {
			t.Errorf("world%s Link header %q", ext, l)
		}
	}
}

// docLinks returns the self URL and the hub URL a feed document names.
func docLinks(t *testing.T, ext string, data []byte) (self, hub string) {
	t.Helper()
	var links []feedcheck.Link
	switch ext {
	case ".atom":
		links = feedcheck.Parse(t, data).Links
	case ".rss":
		links = feedcheck.ParseRSS(t, data).Channel.AtomLinks
	case ".json":
		var doc struct {
			FeedURL string `json:"feed_url"`
			Hubs    []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"hubs"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		for _, h := range doc.Hubs {
			if h.Type == "WebSub" {
				hub = h.URL
			}
		}
		return doc.FeedURL, hub
	}
	for _, l := range links {
		switch l.Rel {
		case "self":
			self = l.Href
		case "hub":
			hub = l.Href
		}
	}
	return self, hub
}
