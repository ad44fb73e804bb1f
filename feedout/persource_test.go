package feedout

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

// TestMaxPerSource serves a category that one chatty source floods.
func TestMaxPerSource(t *testing.T) {
	t.Parallel()
	store, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var arts []storage.Article
	add := func(feed string, n int, offset time.Duration) {
		for i := range n {
			link := fmt.Sprintf("https://%s.example/%d", feed, i)
			arts = append(arts, storage.Article{
				ID:         story.ItemKey(feed, "", link, "", ""),
				Title:      fmt.Sprintf("%s %d", feed, i),
				Link:       link,
				Published:  base.Add(offset - time.Duration(i)*time.Minute),
				Content:    fmt.Sprintf("<p>%s item %d</p>", feed, i),
				Categories: []storage.Category{{Slug: "world", Name: "World"}},
				Source:     storage.Source{FeedURL: "https://" + feed + ".example/rss", ID: feed, Title: feed},
			})
		}
	}
	add("chatty", 30, time.Hour) // the 30 newest
	add("quiet", 3, 0)
	add("other", 3, -time.Hour)
	if res, err := store.SaveArticles(t.Context(), arts); err != nil || res.New != len(arts) {
		t.Fatalf("SaveArticles = %+v, %v", res, err)
	}
	tests := []struct {
		name       string
		max        int
		wantChatty int
	}{
		{"no cap", 0, 10},
		{"cap 3", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHandler(store, Options{BaseURL: "https://news.example.org", PageSize: 10, MaxPerSource: tt.max})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/feeds/world.atom", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			body := rec.Body.String()
			// The quiet sources (3 items each) fill the places the cap
			// takes from the chatty one.
			if n := strings.Count(body, "<entry>"); tt.max > 0 && n != tt.max+3+3 {
				t.Errorf("%d entries, want %d", n, tt.max+6)
			}
			if n := strings.Count(body, `<title type="text">chatty `); n != tt.wantChatty {
				t.Errorf("%d chatty entries, want %d", n, tt.wantChatty)
			}
		})
	}
}
