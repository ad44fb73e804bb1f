package feedout

import (
	"github.com/tributary/tributary/feedcheck"

	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// TestHandlerWithStorage serves documents from a real bbolt store.
func TestHandlerWithStorage(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is already done when Cleanup runs.
		if err := store.Check(context.Background()); err != nil {
			t.Errorf("store check: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	articles := append(loadCase(t, "category").Articles, loadCase(t, "no-link").Articles...)
	if _, err := store.SaveArticles(t.Context(), articles); err != nil {
		t.Fatal(err)
	}

	h := NewHandler(store, Options{
		Title:      "Today News",
		BaseURL:    "https://news.example.org",
		PageSize:   4,
		Categories: []storage.Category{{Slug: "science", Name: "Science"}},
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	tests := []struct {
		slug         string
		wantTitle    string
		wantTitles   []string
		wantModified string
	}{
		{
			slug:      "all",
			wantTitle: "Today News",
			wantTitles: []string{
				"Putin and Trump to speak by phone",
				"U.S.–Russia talks resume in Riyadh",
				"Kremlin comments on sanctions — «новые санкции»",
				"No link, summary only",
			},
			wantModified: "Mon, 02 Mar 2026 10:00:00 GMT",
		},
		{
			slug:      "u-s-russia-relations",
			wantTitle: "Today News: U.S.–Russia Relations",
			wantTitles: []string{
				"Putin and Trump to speak by phone",
				"U.S.–Russia talks resume in Riyadh",
				"Kremlin comments on sanctions — «новые санкции»",
			},
			wantModified: "Mon, 02 Mar 2026 10:00:00 GMT",
		},
		{slug: "science", wantTitle: "Today News: Science", wantModified: "Thu, 01 Jan 1970 00:00:00 GMT"}, // never held an article,
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
			var titles []string
			for _, e := range f.Entries {
				titles = append(titles, e.Title)
			}
			if diff := cmp.Diff(tt.wantTitles, titles); diff != "" {
				t.Errorf("entry titles (-want +got):\n%s", diff)
			}
			if f.Title != tt.wantTitle {
				t.Errorf("title = %q, want %q", f.Title, tt.wantTitle)
			}
			if got := rec.Header().Get("Last-Modified"); got != tt.wantModified {
				t.Errorf("Last-Modified = %q, want %q", got, tt.wantModified)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		feedcheck.Atom(t, docs)
	})

	t.Run("change", func(t *testing.T) {
		before := serve(h, "GET", "/feeds/all.atom", nil).Header().Get("ETag")
		a := loadCase(t, "no-author").Articles[0]
		a.Published = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		a.Updated = a.Published
		clock = clock.Add(time.Hour)
		if _, err := store.SaveArticles(t.Context(), []storage.Article{a}); err != nil {
			t.Fatal(err)
		}
		rec := serve(h, "GET", "/feeds/all.atom", http.Header{"If-None-Match": {before}})
		if rec.Code != http.StatusOK {
			t.Fatalf("status after a save = %d, want 200", rec.Code)
		}
		if got := feedcheck.Parse(t, rec.Body.Bytes()).Entries[0].Title; got != a.Title {
			t.Errorf("newest entry = %q, want %q", got, a.Title)
		}
		if got := rec.Header().Get("Last-Modified"); got != "Mon, 02 Mar 2026 11:00:00 GMT" {
			t.Errorf("Last-Modified = %q", got)
		}
	})
}
