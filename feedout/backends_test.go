package feedout

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

// backendArticles returns the articles of every golden case, then a
// syndicated copy of each from another source (same title and text,
// another link), which the store merges into its story.
func backendArticles(t *testing.T) (stories, copies []storage.Article) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	const other = "https://copies.example/rss"
	for _, in := range inputs {
		for _, a := range loadCase(t, strings.TrimSuffix(filepath.Base(in), ".json")).Articles {
			stories = append(stories, a)
			c := a
			c.Link = "https://copies.example/" + a.ID
			c.GUID = ""
			c.ID = story.ItemKey(other, "", c.Link, "", "")
			c.Source = storage.Source{FeedURL: other, ID: other, Title: "Copies"}
			c.Via = nil
			copies = append(copies, c)
		}
	}
	return stories, copies
}

// TestBackendsServeIdenticalDocuments stores the same articles, and their
// syndicated copies, on bbolt and on PostgreSQL and checks that every
// document and page the handler serves is byte for byte the same on both:
// the same stories, merged alike, in the same order, with the same ETags.
func TestBackendsServeIdenticalDocuments(t *testing.T) {
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	stories, copies := backendArticles(t)
	stores := map[string]*storage.Store{"bolt": newBoltStore(t, now), "postgres": newPostgresStore(t, now)}
	handlers := map[string]http.Handler{}
	for name, s := range stores {
		saveAll(t, s, stories)
		res, err := s.SaveArticles(t.Context(), copies)
		if err != nil || res.Merged == 0 {
			t.Fatalf("%s: save the copies: %+v, %v; want some merged", name, res, err)
		}
		handlers[name] = NewHandler(s, Options{
			Title:    "Today News",
			BaseURL:  "https://news.example.org",
			PageSize: 5,
			Now:      now,
		})
	}
	cats, err := stores["bolt"].Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{"/", "/opml"}
	for _, c := range cats {
		for _, ext := range []string{".atom", ".rss", ".json"} {
			targets = append(targets, "/feeds/"+c.Slug+ext)
		}
		targets = append(targets, "/c/"+c.Slug)
	}
	if len(cats) < 3 {
		t.Fatalf("%d categories stored, want the golden cases' several", len(cats))
	}
	for _, target := range targets {
		got := map[string]string{}
		for name, h := range handlers {
			rec := serve(h, "GET", target, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s GET %s: status %d", name, target, rec.Code)
			}
			got[name] = rec.Header().Get("ETag") + "\n" + rec.Body.String()
		}
		if diff := cmp.Diff(got["bolt"], got["postgres"]); diff != "" {
			t.Errorf("GET %s (-bolt +postgres):\n%s", target, diff)
		}
	}
	if err := stores["postgres"].Check(t.Context()); err != nil {
		t.Errorf("check the store on postgres: %v", err)
	}
}
