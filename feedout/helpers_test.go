package feedout

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
)

// newBoltStore opens a real store in t.TempDir() with its clock at now();
// cleanup runs the consistency check and closes it.
func newBoltStore(t testing.TB, now func() time.Time) *storage.Store {
	t.Helper()
	store, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{Now: now})
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
	return store
}

// seqArticles returns n articles filed in cats, numbered from start, one
// minute apart from 1 March 2026 on, each from one of three sources.
func seqArticles(start, n int, cats ...storage.Category) []storage.Article {
	out := make([]storage.Article, 0, n)
	for i := start; i < start+n; i++ {
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		src := i % 3
		out = append(out, storage.Article{
			ID:         fmt.Sprintf("%032x", i+1),
			GUID:       fmt.Sprintf("https://src%d.example/story/%d", src, i),
			Title:      fmt.Sprintf("Story %d: markets & <policy>", i),
			Link:       fmt.Sprintf("https://src%d.example/story/%d", src, i),
			Published:  at,
			Updated:    at,
			Author:     "Reporter",
			Content:    fmt.Sprintf("<p>Paragraph %d with <a href=\"https://src.example/?a=1&amp;b=2\">a link</a> &amp; more text to read.</p>", i),
			Categories: cats,
			Source: storage.Source{
				FeedURL: fmt.Sprintf("https://src%d.example/feed", src),
				ID:      fmt.Sprintf("https://src%d.example/feed", src),
				Title:   fmt.Sprintf("Source %d", src),
				Link:    fmt.Sprintf("https://src%d.example/", src),
			},
			FirstSeen: at,
		})
	}
	return out
}

// saveAll stores articles in batches of 1000.
func saveAll(t testing.TB, store *storage.Store, articles []storage.Article) {
	t.Helper()
	for len(articles) > 0 {
		n := min(1000, len(articles))
		if _, err := store.SaveArticles(context.Background(), articles[:n]); err != nil {
			t.Fatal(err)
		}
		articles = articles[n:]
	}
}
