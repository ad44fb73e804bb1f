package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary/tributary/config"
)

func TestImportOPMLRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		opml    string
		wantErr string
	}{
		{name: "not XML", opml: "this is not OPML", wantErr: "import-opml: "},
		{name: "truncated", opml: `<opml version="2.0"><body><outline text="News"><outline xmlUrl="https://a.example/feed"`, wantErr: "XML syntax error"},
		{name: "no feeds", opml: `<opml version="2.0"><body><outline text="Empty folder"/></body></opml>`, wantErr: "lists no feeds"},
		{name: "feed URL the config refuses", opml: `<opml version="2.0"><body><outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>`, wantErr: "the result would not load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "tributary.yaml")
			const original = "# my feeds\nfeeds:\n  - url: https://kept.example/feed\n"
			writeFile(t, cfg, original)
			opml := filepath.Join(dir, "in.opml")
			writeFile(t, opml, tt.opml)
			r := tributary(t, "import-opml", "-config", cfg, opml)
			if r.code != 1 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, want 1 with %q\nstderr: %s", r.code, tt.wantErr, r.stderr)
			}
			got, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != original {
				t.Errorf("config changed by a failed import:\n%s", got)
			}
		})
	}
}

// FuzzOPMLFeeds feeds arbitrary documents to the OPML reader of
// import-opml: it must not panic, and every feed it returns has a URL that
// appears once, however it is spelled (config.FeedKey).
func FuzzOPMLFeeds(f *testing.F) {
	f.Add(`<opml version="2.0"><head><title>t</title></head><body>
<outline text="World"><outline text="Mint" xmlUrl="https://www.livemint.com/rss/world"/>
<outline text="Deep"><outline text="Nested" xmlUrl="https://a.example/feed"/></outline></outline>
<outline text="Mint again" xmlUrl="https://www.livemint.com/rss/world"/>
<outline text="Mint spelled otherwise" xmlUrl="HTTPS://www.livemint.com:443/rss/world/#x"/></body></opml>`)
	f.Add(`<opml><body><outline xmlUrl=" "/><outline/></body></opml>`)
	f.Add(`<opml><body><outline text="&lt;b&gt;" title="" xmlUrl="x"><outline xmlUrl="x"/></outline></body></opml>`)
	f.Fuzz(func(t *testing.T, doc string) {
		var d opmlDoc
		if err := xml.Unmarshal([]byte(doc), &d); err != nil {
			return
		}
		seen := map[string]bool{}
		for _, feed := range opmlFeeds(d.Body, nil, nil, map[string]int{}) {
			if feed.URL == "" || seen[config.FeedKey(feed.URL)] {
				t.Fatalf("feed URL %q empty or repeated", feed.URL)
			}
			seen[config.FeedKey(feed.URL)] = true
		}
	})
}
