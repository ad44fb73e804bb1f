package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tributary/tributary/config"
)

// commentLines returns the comment text of src, in order.
func commentLines(src string) []string {
	var out []string
	for line := range strings.SplitSeq(src, "\n") {
		if _, c, ok := strings.Cut(line, "# "); ok {
			out = append(out, strings.TrimSpace(c))
		}
	}
	return out
}

func TestAppendFeeds(t *testing.T) {
	example, err := os.ReadFile("../tributary.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		src       string // "" means no file
		feeds     []config.NewFeed
		wantURLs  []string
		wantSkip  []string
		wantError error
	}{
		{
			name:     "example config",
			src:      string(example),
			feeds:    []config.NewFeed{{URL: "https://new.example/feed.xml", Title: "New", Categories: []string{"World", "Tech News"}}},
			wantURLs: []string{"https://www.livemint.com/rss/world", "https://feeds.bloomberg.com/politics/news.rss", "https://go.dev/blog/feed.atom", "https://new.example/feed.xml"},
		},
		{
			name:     "duplicates skipped",
			src:      string(example),
			feeds:    []config.NewFeed{{URL: "https://go.dev/blog/feed.atom"}, {URL: "https://b.example/"}, {URL: "https://b.example/"}},
			wantURLs: []string{"https://www.livemint.com/rss/world", "https://feeds.bloomberg.com/politics/news.rss", "https://go.dev/blog/feed.atom", "https://b.example/"},
			wantSkip: []string{"https://go.dev/blog/feed.atom", "https://b.example/"},
		},
		{
			name:      "only duplicates",
			src:       string(example),
			feeds:     []config.NewFeed{{URL: "https://go.dev/blog/feed.atom"}},
			wantURLs:  []string{"https://www.livemint.com/rss/world", "https://feeds.bloomberg.com/politics/news.rss", "https://go.dev/blog/feed.atom"},
			wantSkip:  []string{"https://go.dev/blog/feed.atom"},
			wantError: config.ErrDuplicateFeed,
		},
		{name: "no feeds key", src: "title: T # mine\n", feeds: []config.NewFeed{{URL: "https://a.example/"}}, wantURLs: []string{"https://a.example/"}},
		{name: "empty flow list", src: "feeds: []\n", feeds: []config.NewFeed{{URL: "https://a.example/"}}, wantURLs: []string{"https://a.example/"}},
		{name: "no file", feeds: []config.NewFeed{{URL: "https://a.example/", Categories: []string{"A"}}}, wantURLs: []string{"https://a.example/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STATE_DIRECTORY", "")
			path := filepath.Join(t.TempDir(), "tributary.yaml")
			if tt.src != "" {
				if err := os.WriteFile(path, []byte(tt.src), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			skipped, err := config.AppendFeeds(path, tt.feeds)
			if !errors.Is(err, tt.wantError) {
				t.Fatalf("AppendFeeds: %v, want %v", err, tt.wantError)
			}
			if diff := cmp.Diff(tt.wantSkip, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
			out, _ := os.ReadFile(path)
			if tt.wantError != nil {
				if string(out) != tt.src {
					t.Errorf("file changed despite the error:\n%s", out)
				}
				return
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("result does not load: %v\n%s", err, out)
			}
			var urls []string
			for _, f := range cfg.Feeds {
				urls = append(urls, f.URL)
			}
			if diff := cmp.Diff(tt.wantURLs, urls); diff != "" {
				t.Errorf("feeds (-want +got):\n%s", diff)
			}
			last := cfg.Feeds[len(cfg.Feeds)-1]
			if want := tt.feeds[len(tt.feeds)-1]; want.URL == last.URL {
				if last.Title != want.Title || !cmp.Equal(last.Categories, want.Categories, cmpEmpty()) {
					t.Errorf("appended feed %+v, want %+v", last, want)
				}
			}
			if diff := cmp.Diff(commentLines(tt.src), commentLines(string(out))); diff != "" {
				t.Errorf("comments changed (-want +got):\n%s", diff)
			}
			if info, err := os.Stat(path); tt.src != "" && (err != nil || info.Mode().Perm() != 0o640) {
				t.Errorf("mode %v, %v; want 0640 kept", info.Mode(), err)
			}
		})
	}
}

// cmpEmpty treats nil and empty slices as equal.
func cmpEmpty() cmp.Option {
	return cmp.Comparer(func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") })
}
