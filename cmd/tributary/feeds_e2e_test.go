package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/tributary/tributary/feedcheck"
)

// TestServeEveryFormatAndPage runs the real binary on the today-news
// fixtures and reads every category in every format, the index page, the
// OPML list and the error routes over HTTP.
func TestServeEveryFormatAndPage(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)
	if r := tributary(t, "fetch", "-config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}
	d := startServe(t, cfg, addr)
	base := "http://" + addr

	rss, jsonFeeds := map[string][]byte{}, map[string][]byte{}
	for _, slug := range []string{"u-s-russia-relations", "world", "all"} {
		for _, ext := range []string{".rss", ".json"} {
			code, body := get(t, base+"/feeds/"+slug+ext)
			if code != http.StatusOK {
				t.Fatalf("GET %s%s: %d\n%s", slug, ext, code, body)
			}
			if !strings.Contains(body, "U.S.–Russia") {
				t.Errorf("%s%s lacks U.S.–Russia", slug, ext)
			}
			if ext == ".rss" {
				rss[slug] = []byte(body)
			} else {
				jsonFeeds[slug] = []byte(body)
			}
		}
	}
	t.Run("rss valid", func(t *testing.T) { feedcheck.RSS(t, rss) })
	t.Run("json valid", func(t *testing.T) { feedcheck.JSONFeed(t, jsonFeeds) })
	// The config's language (en-us) is published in its canonical form.
	_, atom := get(t, base+"/feeds/world.atom")
	langs := []string{
		feedcheck.Parse(t, []byte(atom)).Lang,
		feedcheck.ParseRSS(t, rss["world"]).Channel.Language,
		feedcheck.ParseJSONFeed(t, jsonFeeds["world"]).Language,
	}
	if langs[0] != "en-US" || langs[1] != "en-US" || langs[2] != "en-US" {
		t.Errorf("languages (atom, rss, json) = %q, want en-US in each", langs)
	}

	tests := []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/", 200, `<link rel="alternate" type="application/atom+xml" title="All sources (Atom)" href="` + base + `/feeds/all.atom">`},
		{"/c/world", 200, "Mint"},
		{"/opml", 200, `xmlUrl="` + base + `/feeds/world.atom"`},
		{"/nothing/here", 404, "not found"},
		{"/feeds/world.atom?limit=0", 400, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(t, base+tt.path)
			if code != tt.wantStatus || !strings.Contains(body, tt.want) {
				t.Errorf("GET %s: %d, want %d with %q\n%s", tt.path, code, tt.wantStatus, tt.want, body)
			}
		})
	}
	t.Run("body refused", func(t *testing.T) {
		resp, err := http.Post(base+"/feeds/all.atom", "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST with a body: %d, want 413", resp.StatusCode)
		}
	})

	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("after SIGTERM: exit %d\n%s", code, d.stderr.String())
	}
}
