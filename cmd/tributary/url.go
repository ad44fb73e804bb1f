package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// runURL prints the subscribe URLs of a category or view: its Atom, RSS
// and JSON Feed documents and its page, under base_url, each with ?key=
// when the feed is private.
func runURL(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("url", "[-config FILE] SLUG",
		"Print the subscribe URLs of the category or view SLUG (\"all\", a category's\n"+
			"slug or a view's): its Atom, RSS and JSON Feed documents and its page,\n"+
			"under base_url. A private feed's URLs carry its key (?key=), made from\n"+
			"secret_file: a new secret revokes every key.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"url: want one SLUG"}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	slug := fs.Arg(0)
	if !servedSlug(cfg, slug) {
		return fmt.Errorf("url: no category or view has the slug %q (see tributary check and the views: list)", slug)
	}
	suffix := ""
	if cfg.Private(slug) {
		suffix = "?" + url.Values{"key": {config.AccessKey(cfg.Secret, slug)}}.Encode()
	}
	base := cfg.BaseURL
	for _, u := range []string{
		base + "/feeds/" + slug + ".atom",
		base + "/feeds/" + slug + ".rss",
		base + "/feeds/" + slug + ".json",
		base + "/c/" + slug,
	} {
		if _, err := fmt.Fprintln(stdout, u+suffix); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	}
	return nil
}

// servedSlug reports whether slug is "all", a category the config names
// or a view.
func servedSlug(cfg *config.Config, slug string) bool {
	if slug == storage.AllSlug || slices.ContainsFunc(cfg.Views, func(v config.View) bool { return v.Slug == slug }) {
		return true
	}
	return slices.ContainsFunc(configuredCategories(cfg), func(c storage.Category) bool { return c.Slug == slug })
}
