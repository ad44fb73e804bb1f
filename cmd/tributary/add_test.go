package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

// feedsOf loads the config at path and returns "URL [categories]" per feed.
func feedsOf(t *testing.T, path string) []string {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range cfg.Feeds {
		out = append(out, f.URL+" "+strings.Join(f.Categories, ","))
	}
	return out
}

func TestAdd(t *testing.T) {
	fixtures := http.FileServer(http.Dir("../../testdata/today-news"))
	mux := http.NewServeMux()
	mux.Handle("/", fixtures)
	mux.HandleFunc("/home.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<html><head><link rel="alternate" type="application/atom+xml" title="Politics" href="/bloomberg-politics.atom"></head><body></body></html>`))
	})
	mux.HandleFunc("/plain.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<html><head><title>No feeds here</title></head><body></body></html>`))
	})
	srv := newTestServer(t, mux)
	cfg := filepath.Join(t.TempDir(), "tributary.yaml")
	const header = "# my sources\ntitle: Mine # the aggregate\n\nfeeds:\n  # the first one\n  - url: "
	writeFile(t, cfg, header+srv.URL+"/perspectives.rss\n")

	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantOut   string
		wantErr   string
		wantFeeds []string
	}{
		{
			name: "feed", args: []string{"add", "-config", cfg, "-category", "World", "-category", "Business", srv.URL + "/livemint-world.rss"},
			wantOut:   `/livemint-world.rss: "Mint - World", 2 items`,
			wantFeeds: []string{srv.URL + "/perspectives.rss ", srv.URL + "/livemint-world.rss World,Business"},
		},
		{
			name: "page with autodiscovery", args: []string{"add", "-config", cfg, srv.URL + "/home.html"},
			wantOut:   "advertises the feed " + srv.URL + "/bloomberg-politics.atom",
			wantFeeds: []string{srv.URL + "/perspectives.rss ", srv.URL + "/livemint-world.rss World,Business", srv.URL + "/bloomberg-politics.atom "},
		},
		{
			name: "duplicate", args: []string{"add", "-config", cfg, srv.URL + "/livemint-world.rss"},
			wantCode: 1, wantErr: "is already a source in",
			wantFeeds: []string{srv.URL + "/perspectives.rss ", srv.URL + "/livemint-world.rss World,Business", srv.URL + "/bloomberg-politics.atom "},
		},
		{
			name: "duplicate with a fragment", args: []string{"add", "-config", cfg, srv.URL + "/livemint-world.rss#latest"},
			wantCode: 1, wantErr: "is already a source in",
			wantFeeds: []string{srv.URL + "/perspectives.rss ", srv.URL + "/livemint-world.rss World,Business", srv.URL + "/bloomberg-politics.atom "},
		},
		{
			name: "not a feed", args: []string{"add", "-config", cfg, srv.URL + "/plain.html"},
			wantCode: 1, wantErr: "not a feed",
			wantFeeds: []string{srv.URL + "/perspectives.rss ", srv.URL + "/livemint-world.rss World,Business", srv.URL + "/bloomberg-politics.atom "},
		},
		{name: "no URL", args: []string{"add", "-config", cfg}, wantCode: 2, wantErr: "want exactly one argument",
			wantFeeds: []string{srv.URL + "/perspectives.rss ", srv.URL + "/livemint-world.rss World,Business", srv.URL + "/bloomberg-politics.atom "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tributary(t, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stdout, tt.wantOut) || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if diff := cmp.Diff(tt.wantFeeds, feedsOf(t, cfg)); diff != "" {
				t.Errorf("feeds (-want +got):\n%s", diff)
			}
		})
	}
	out, _ := os.ReadFile(cfg)
	for _, comment := range []string{"# my sources", "# the aggregate", "# the first one"} {
		if !strings.Contains(string(out), comment) {
			t.Errorf("config lost %q:\n%s", comment, out)
		}
	}
}

func TestOPML(t *testing.T) {
	dir := t.TempDir()
	opml := filepath.Join(dir, "subs.opml")
	writeFile(t, opml, `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="News" title="News">
    <outline type="rss" text="Mint" title="Mint" xmlUrl="https://www.livemint.com/rss/world"/>
    <outline text="Politics">
      <outline type="rss" text="Bloomberg" xmlUrl="https://feeds.bloomberg.com/politics/news.rss"/>
    </outline>
  </outline>
  <outline text="Tech">
    <outline type="rss" text="Mint" xmlUrl="https://WWW.livemint.com:443/rss/world/#top"/>
    <outline type="rss" text="https://go.dev/blog/feed.atom" xmlUrl="https://go.dev/blog/feed.atom"/>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://loose.example/feed"/>
</body></opml>`)
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, "# keep me\ntitle: Mine\n")
	want := []string{
		"https://www.livemint.com/rss/world News,Tech",
		"https://feeds.bloomberg.com/politics/news.rss News,Politics",
		"https://go.dev/blog/feed.atom Tech",
		"https://loose.example/feed ",
	}
	for i, wantOut := range []string{"4 sources added, 0 already there", "0 sources added, 4 already there"} {
		r := tributary(t, "import-opml", "-config", cfg, opml)
		if r.code != 0 || !strings.Contains(r.stdout, wantOut) {
			t.Fatalf("import %d: exit %d\n%s%s", i+1, r.code, r.stdout, r.stderr)
		}
		if diff := cmp.Diff(want, feedsOf(t, cfg)); diff != "" {
			t.Errorf("import %d: feeds (-want +got):\n%s", i+1, diff)
		}
	}
	if out, _ := os.ReadFile(cfg); !strings.Contains(string(out), "# keep me") {
		t.Errorf("import lost the comment:\n%s", out)
	}

	// Export, then import the export into a new config: the same sources.
	r := tributary(t, "export-opml", "-config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `<opml version="2.0">`) || !strings.Contains(r.stdout, "<title>Mine</title>") {
		t.Fatalf("export-opml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	exported := filepath.Join(dir, "export.opml")
	writeFile(t, exported, r.stdout)
	cfg2 := filepath.Join(dir, "second.yaml")
	if r := tributary(t, "import-opml", "-config", cfg2, exported); r.code != 0 {
		t.Fatalf("re-import: exit %d\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, feedsOf(t, cfg2)); diff != "" {
		t.Errorf("round trip: feeds (-want +got):\n%s", diff)
	}
}
