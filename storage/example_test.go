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

func ExampleStore_SaveArticles() {
	dir, err := os.MkdirTemp("", "tributary-example")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	s, err := storage.Open(filepath.Join(dir, "tributary.db"), storage.Options{})
	if err != nil {
		log.Fatal(err)
	}

	const feed = "https://www.livemint.com/rss/world"
	link := story.CleanURL("https://www.livemint.com/news/world/us-russia-agreed-11755440779394.html?utm_source=rss&utm_medium=feed#comments")
	a := storage.Article{
		ID:         story.ItemKey(feed, "11755440779394", link, "", ""),
		GUID:       "11755440779394",
		Title:      "US, Russia agreed on Ukraine security pledges, Witkoff says",
		Link:       link,
		Published:  time.Date(2025, 8, 17, 14, 26, 19, 0, time.UTC),
		Updated:    time.Date(2025, 8, 17, 14, 26, 19, 0, time.UTC),
		Categories: []storage.Category{{Slug: "u-s-russia-relations", Name: "U.S.–Russia Relations"}},
		Source:     storage.Source{FeedURL: feed, ID: feed, Title: "Mint World"},
	}
	ctx := context.Background()
	res, err := s.SaveArticles(ctx, []storage.Article{a})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("first save: %+v\n", res)
	res, err = s.SaveArticles(ctx, []storage.Article{a})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("second save: %+v\n", res)

	latest, err := s.Latest(ctx, "u-s-russia-relations", 50)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range latest {
		fmt.Println(a.Link)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// first save: {New:1 Updated:0 Unchanged:0 Merged:0 Suppressed:0}
	// second save: {New:0 Updated:0 Unchanged:1 Merged:0 Suppressed:0}
	// https://www.livemint.com/news/world/us-russia-agreed-11755440779394.html
}
