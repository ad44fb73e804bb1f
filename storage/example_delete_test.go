package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

func ExampleStore_Delete() {
	dir, err := os.MkdirTemp("", "tributary-example")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	s, err := storage.Open(filepath.Join(dir, "tributary.db"), storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = s.Close() }()

	const feed = "https://example.com/feed"
	a := storage.Article{
		ID:        story.ItemKey(feed, "post-1", "", "", ""),
		GUID:      "post-1",
		Title:     "An old post",
		Link:      "https://example.com/post-1",
		Published: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Source:    storage.Source{FeedURL: feed, ID: feed, Title: "Example"},
	}
	ctx := context.Background()
	if _, err := s.SaveArticles(ctx, []storage.Article{a}); err != nil {
		log.Fatal(err)
	}
	// Retention removes the story; the feed still carries the item.
	n, err := s.Delete(ctx, a.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted:", n)
	res, err := s.SaveArticles(ctx, []storage.Article{a})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("fetched again: %+v\n", res)
	// Output:
	// deleted: 1
	// fetched again: {New:0 Updated:0 Unchanged:0 Merged:0 Suppressed:1}
}
