package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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
			name:      "duplicates spelled differently",
			src:       string(example),
			feeds:     []config.NewFeed{{URL: "https://GO.dev:443/blog/feed.atom/#top"}, {URL: "https://www.livemint.com/rss/world#x"}},
			wantURLs:  []string{"https://www.livemint.com/rss/world", "https://feeds.bloomberg.com/politics/news.rss", "https://go.dev/blog/feed.atom"},
			wantSkip:  []string{"https://GO.dev:443/blog/feed.atom/#top", "https://www.livemint.com/rss/world#x"},
			wantError: config.ErrDuplicateFeed,
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
		{name: "CRLF line ends", src: "title: T\r\nfeeds:\r\n  - url: https://a.example/\r\n", feeds: []config.NewFeed{{URL: "https://b.example/"}}, wantURLs: []string{"https://a.example/", "https://b.example/"}},
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

// appendToFile writes src to a config file, appends feeds to it and
// returns what the file then holds.
func appendToFile(t *testing.T, src []byte, feeds []config.NewFeed) []byte {
	t.Helper()
	t.Setenv("STATE_DIRECTORY", "")
	path := filepath.Join(t.TempDir(), "tributary.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.AppendFeeds(path, feeds); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAppendFeedsKeepsTheFile checks the bytes: the new entries are
// inserted after the last one, in its indentation and spacing, and the rest
// of the file is untouched.
func TestAppendFeedsKeepsTheFile(t *testing.T) {
	world := config.NewFeed{URL: "https://c.example/", Categories: []string{"World"}}
	tests := []struct {
		name  string
		src   string
		feeds []config.NewFeed
		want  string
	}{
		{
			name: "entries spaced by blank lines, four-space indent, a section after",
			src: "title: T\n\nfeeds:\n    - url: https://a.example/\n\n" +
				"    - url: https://b.example/   # the second\n      categories: [X]\n\n" +
				"# output settings\noutput:\n  page_size: 10\n",
			feeds: []config.NewFeed{world, {URL: "https://d.example/", Title: "D: the #1 feed"}},
			want: "title: T\n\nfeeds:\n    - url: https://a.example/\n\n" +
				"    - url: https://b.example/   # the second\n      categories: [X]\n" +
				"\n    - url: https://c.example/\n      categories: [World]\n" +
				"\n    - url: https://d.example/\n      title: 'D: the #1 feed'\n" +
				"\n# output settings\noutput:\n  page_size: 10\n",
		},
		{
			name:  "compact entries, no newline at the end",
			src:   "feeds:\n  - url: https://a.example/\n  # - url: https://old.example/",
			feeds: []config.NewFeed{world},
			want:  "feeds:\n  - url: https://a.example/\n  - url: https://c.example/\n    categories: [World]\n  # - url: https://old.example/",
		},
		{
			name:  "no feeds key",
			src:   "title: T # mine\n",
			feeds: []config.NewFeed{world},
			want:  "title: T # mine\n\nfeeds:\n  - url: https://c.example/\n    categories: [World]\n",
		},
		{
			name:  "empty file",
			src:   "",
			feeds: []config.NewFeed{world},
			want:  "feeds:\n  - url: https://c.example/\n    categories: [World]\n",
		},
		{
			name:  "only a comment",
			src:   "# my sources\n",
			feeds: []config.NewFeed{world},
			want:  "# my sources\n\nfeeds:\n  - url: https://c.example/\n    categories: [World]\n",
		},
		{
			name:  "empty feeds key",
			src:   "feeds: # none yet\noutput:\n  page_size: 10\n",
			feeds: []config.NewFeed{world},
			want:  "feeds: # none yet\n  - url: https://c.example/\n    categories: [World]\noutput:\n  page_size: 10\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := appendToFile(t, []byte(tt.src), tt.feeds)
			if diff := cmp.Diff(tt.want, string(out)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		})
	}
}

// The example config, commented and spaced, gains only the new entry.
func TestAppendFeedsToExample(t *testing.T) {
	example, err := os.ReadFile("../tributary.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := appendToFile(t, example, []config.NewFeed{{URL: "https://new.example/feed.xml"}})
	// One contiguous insertion: a common prefix and suffix make up the
	// whole original.
	p := 0
	for p < len(example) && out[p] == example[p] {
		p++
	}
	q := 0
	for q < len(example)-p && out[len(out)-1-q] == example[len(example)-1-q] {
		q++
	}
	inserted := string(out[p : len(out)-q])
	if p+q != len(example) || !strings.Contains(inserted, "- url: https://new.example/feed.xml\n") {
		t.Fatalf("not one insertion of the entry: kept %d+%d of %d bytes, inserted %q", p, q, len(example), inserted)
	}
	// It lands after the last source, spaced like the others.
	if !strings.HasSuffix(string(out), "    categories: [Go]\n\n  - url: https://new.example/feed.xml\n") {
		t.Errorf("entry not after the last source:\n%s", out)
	}
}

// FuzzAppendFeeds: whatever the file, AppendFeeds either refuses it and
// leaves it alone, or leaves a file that loads with the old feeds followed
// by the new one.
func FuzzAppendFeeds(f *testing.F) {
	example, err := os.ReadFile("../tributary.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add("feeds:\n    - url: https://a.example/\n\n    - url: https://b.example/\n# end\noutput:\n  page_size: 10\n")
	f.Add("feeds: # none\n")
	f.Add("feeds: []\n")
	f.Add("title: T\r\nfeeds:\r\n  - url: https://a.example/\r\n")
	f.Fuzz(func(t *testing.T, src string) {
		t.Setenv("STATE_DIRECTORY", "")
		before, err := config.Parse("fuzz.yaml", []byte(src))
		if err != nil {
			return // AppendFeeds refuses what does not load
		}
		path := filepath.Join(t.TempDir(), "tributary.yaml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		const url = "https://fuzz.example/new-feed"
		_, err = config.AppendFeeds(path, []config.NewFeed{{URL: url, Categories: []string{"World"}}})
		out, rerr := os.ReadFile(path)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil {
			if string(out) != src {
				t.Fatalf("AppendFeeds failed (%v) and changed the file", err)
			}
			return
		}
		after, err := config.Parse(path, out)
		if err != nil {
			t.Fatalf("result does not load: %v\n%s", err, out)
		}
		var want []string
		for _, f := range before.Feeds {
			want = append(want, f.URL)
		}
		if !slices.Contains(want, url) {
			want = append(want, url)
		}
		var got []string
		for _, f := range after.Feeds {
			got = append(got, f.URL)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("feeds %q, want %q\n%s", got, want, out)
		}
	})
}
