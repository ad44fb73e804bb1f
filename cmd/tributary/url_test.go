package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

func TestURLCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, filepath.Join(dir, "secret"), "a secret of more than sixteen bytes\n")
	writeFile(t, cfg, `base_url: https://news.example.org
secret_file: secret
categories:
  - name: Politics
    private: true
feeds:
  - url: https://a.example/feed
    categories: [World]
views:
  - name: Top Stories
    sort: coverage
    private: true
`)
	key := config.AccessKey("a secret of more than sixteen bytes", "top-stories")
	tests := []struct {
		slug string
		want []string
	}{
		{"top-stories", []string{
			"https://news.example.org/feeds/top-stories.atom?key=" + key,
			"https://news.example.org/feeds/top-stories.rss?key=" + key,
			"https://news.example.org/feeds/top-stories.json?key=" + key,
			"https://news.example.org/c/top-stories?key=" + key,
		}},
		{"world", []string{
			"https://news.example.org/feeds/world.atom",
			"https://news.example.org/feeds/world.rss",
			"https://news.example.org/feeds/world.json",
			"https://news.example.org/c/world",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			r := tributary(t, "url", "-config", cfg, tt.slug)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if diff := cmp.Diff(tt.want, strings.Fields(r.stdout)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if r := tributary(t, "url", "-config", cfg, "politics"); !strings.Contains(r.stdout, "?key="+config.AccessKey("a secret of more than sixteen bytes", "politics")) {
		t.Errorf("private category: %q", r.stdout)
	}
	if r := tributary(t, "url", "-config", cfg, "sport"); r.code != 1 || !strings.Contains(r.stderr, `no category or view has the slug "sport"`) {
		t.Errorf("unknown slug: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := tributary(t, "url", "-config", cfg); r.code != 2 {
		t.Errorf("no slug: exit %d, want 2", r.code)
	}
}

// TestFeedTopicsCoverViews checks that the hub's topics are the feeds'
// self links: views included, a private feed's with its key only.
func TestFeedTopicsCoverViews(t *testing.T) {
	t.Setenv(config.SecretEnv, "a secret of more than sixteen bytes")
	cfg, err := config.Parse("t.yaml", []byte(`base_url: https://news.example.org
feeds:
  - url: https://a.example/feed
    categories: [World]
views:
  - name: Top
  - name: Hidden
    private: true
`))
	if err != nil {
		t.Fatal(err)
	}
	topics := strings.Join(feedTopics(cfg), "\n") + "\n"
	key := config.AccessKey(cfg.Secret, "hidden")
	for _, want := range []string{"/feeds/top.atom\n", "/feeds/top.json\n", "/feeds/hidden.rss?key=" + key + "\n"} {
		if !strings.Contains(topics, want) {
			t.Errorf("topics lack %q:\n%s", want, topics)
		}
	}
	if strings.Contains(topics, "/feeds/hidden.atom\n") {
		t.Errorf("a private feed's topic without its key:\n%s", topics)
	}
}
