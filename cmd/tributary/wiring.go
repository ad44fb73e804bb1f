package main

import (
	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/feedout"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/websub"
)

// The consumers read and write the store through the small interfaces they
// declare; the bbolt store serves them all, and so must any other backend.
var (
	_ fetcher.Store  = (*storage.Store)(nil)
	_ feedout.Store  = (*storage.Store)(nil)
	_ status.Store   = (*storage.Store)(nil)
	_ websub.Records = (*storage.Store)(nil)
)

// dbFile is the database's file name inside data_dir.
const dbFile = "tributary.db"

// configuredCategories lists every category the config names: the declared
// ones first, then those named only by feeds, each slug once.
func configuredCategories(cfg *config.Config) []storage.Category {
	var cats []storage.Category
	seen := map[string]bool{}
	add := func(slug, name string) {
		if slug == "" || seen[slug] {
			return
		}
		seen[slug] = true
		cats = append(cats, storage.Category{Slug: slug, Name: name})
	}
	for _, c := range cfg.Categories {
		add(c.Slug, c.Name)
	}
	for _, f := range cfg.Feeds {
		for _, name := range f.Categories {
			add(config.Slug(name), name)
		}
	}
	return cats
}

// publishedURLs maps the URL of each source of cfg to the URL published
// for it (config.Feed.PublishedURL).
func publishedURLs(cfg *config.Config) map[string]string {
	urls := make(map[string]string, len(cfg.Feeds))
	for _, f := range cfg.Feeds {
		urls[f.URL] = f.PublishedURL()
	}
	return urls
}

// accessKeys returns the access key of every private category and view of
// cfg, by slug.
func accessKeys(cfg *config.Config) map[string]string {
	keys := make(map[string]string)
	for _, c := range cfg.Categories {
		if c.Private {
			keys[c.Slug] = config.AccessKey(cfg.Secret, c.Slug)
		}
	}
	for _, v := range cfg.Views {
		if v.Private {
			keys[v.Slug] = config.AccessKey(cfg.Secret, v.Slug)
		}
	}
	return keys
}
