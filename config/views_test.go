package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

// viewFeeds is the start of a file with two sources and a declared
// category, for the views tests.
const viewFeeds = `categories:
  - name: Politics
feeds:
  - url: https://a.example/feed
    categories: [World]
  - url: https://b.example/feed
output:
  page_size: 30
  max_per_source: 4
`

func TestParseViews(t *testing.T) {
	t.Setenv(config.SecretEnv, "")
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := viewFeeds + "secret_file: " + secret + `
views:
  - name: Top Stories
    categories: [World, politics]
    sources: [HTTPS://A.example/feed/]
    include: '(?i)ukraine'
    exclude: '(?i)sponsored'
    min_sources: 2
    sort: coverage
    window: 48h
    page_size: 20
    max_per_source: 3
    private: true
  - name: Everything
`
	cfg, err := config.Parse(filepath.Join(dir, "t.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.View{
		{
			Name: "Top Stories", Slug: "top-stories",
			Categories: []string{"world", "politics"},
			Sources:    []string{"https://a.example/feed"},
			Include:    regexp.MustCompile(`(?i)ukraine`), Exclude: regexp.MustCompile(`(?i)sponsored`),
			MinSources: 2, Sort: config.SortCoverage, Window: 48 * time.Hour,
			PageSize: 20, MaxPerSource: 3, Private: true,
		},
		{Name: "Everything", Slug: "everything", MinSources: 1, Sort: config.SortNewest, PageSize: 30, MaxPerSource: 4},
	}
	if diff := cmp.Diff(want, cfg.Views, compareRegexps()); diff != "" {
		t.Errorf("views (-want +got):\n%s", diff)
	}
	if cfg.Secret.Reveal() != "0123456789abcdef0123" {
		t.Errorf("secret not read from secret_file")
	}
	if !cfg.Private("top-stories") || cfg.Private("everything") || cfg.Private("world") {
		t.Errorf("Private: top-stories %v, everything %v, world %v", cfg.Private("top-stories"), cfg.Private("everything"), cfg.Private("world"))
	}
}

func TestParseViewErrors(t *testing.T) {
	tests := []struct {
		name, views string
		want        []string
	}{
		{"slug of a declared category", "  - name: POLITICS\n", []string{
			`t.yaml:11: views[0].name: slug "politics" is already used by categories[0]`}},
		{"slug of a feed's category", "  - name: world\n", []string{
			`t.yaml:11: views[0].name: slug "world" is already used by a category of feeds[0]`}},
		{"slug all", "  - name: All\n", []string{
			`t.yaml:11: views[0].name: name "All" has the slug "all", which is reserved for the merge of every source`}},
		{"two views, one slug", "  - name: Top\n  - name: top\n", []string{
			`t.yaml:12: views[1].name: slug "top" is already used by views[0] (line 11)`}},
		{"name required", "  - sort: coverage\n", []string{
			`t.yaml:11: views[0]: name is required`}},
		{"unknown category and source", "  - name: Top\n    categories: [Sport]\n    sources: [https://c.example/feed]\n", []string{
			`t.yaml:12: views[0].categories[0]: unknown category "Sport": name a category of categories: or feeds[].categories`,
			`t.yaml:13: views[0].sources[0]: unknown source "https://c.example/feed": name the url of one of feeds:`}},
		{"a view is not a category", "  - name: Top\n  - name: Second\n    categories: [Top]\n", []string{
			`t.yaml:13: views[1].categories[0]: unknown category "Top": name a category of categories: or feeds[].categories`}},
		{"bad regexp, sort, window, bounds", "  - name: Top\n    include: '('\n    sort: popular\n    window: 30s\n    min_sources: 0\n    page_size: 1001\n    max_per_source: -1\n", []string{
			"t.yaml:12: views[0].include: invalid regexp \"(\": missing closing ): `(`",
			`t.yaml:13: views[0].sort: must be newest or coverage, found "popular"`,
			`t.yaml:14: views[0].window: must be from 1m to 87600h, found 30s`,
			`t.yaml:15: views[0].min_sources: must be from 1 to 1000, found 0`,
			`t.yaml:16: views[0].page_size: must be from 1 to 1000, found 1001`,
			`t.yaml:17: views[0].max_per_source: must be from 0 to 1000, found -1`}},
		{"unknown key", "  - name: Top\n    colour: red\n", []string{
			`t.yaml:12: unknown key "colour"`}},
		{"private without a secret", "  - name: Top\n    private: true\n", []string{
			`t.yaml:12: views[0].private: a private feed needs secret_file (or $TRIBUTARY_SECRET) to make its key`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(config.SecretEnv, "")
			_, err := parse(t, viewFeeds+"views:\n"+tt.views)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePrivateCategorySecret(t *testing.T) {
	const src = "categories:\n  - name: Politics\n    private: true\n"
	tests := []struct {
		name, env string
		want      []string
	}{
		{"no secret", "", []string{`t.yaml:3: categories[0].private: a private feed needs secret_file (or $TRIBUTARY_SECRET) to make its key`}},
		{"secret too short", "short", []string{`t.yaml: $TRIBUTARY_SECRET must be at least 16 bytes long`}},
		{"secret from the environment", "0123456789abcdef", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(config.SecretEnv, tt.env)
			cfg, err := parse(t, src)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if err == nil && !cfg.Private("politics") {
				t.Errorf("politics is not private")
			}
		})
	}
}

func TestAccessKey(t *testing.T) {
	// The README's example.
	if got := config.AccessKey("correct horse battery staple", "top-stories"); got != "uz4_g8Pj0RDDTEHy6jB2KQ" {
		t.Errorf("key %q, the README shows uz4_g8Pj0RDDTEHy6jB2KQ", got)
	}
	a := config.AccessKey("0123456789abcdef", "top-stories")
	if len(a) != 22 {
		t.Errorf("key %q: want 22 characters (128 bits)", a)
	}
	if a != config.AccessKey("0123456789abcdef", "top-stories") {
		t.Errorf("key is not stable")
	}
	if a == config.AccessKey("0123456789abcdeF", "top-stories") || a == config.AccessKey("0123456789abcdef", "top-storie") {
		t.Errorf("key does not depend on the secret and the slug")
	}
}
