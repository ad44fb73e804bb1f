package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTestRules(t *testing.T) {
	feeds := todayNewsServer(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf(`data_dir: %[2]s
categories:
  - name: U.S.–NATO Relations
    exclude: '(?i)witkoff'
feeds:
  - url: %[1]s/livemint-world.rss
    source_categories: true
    exclude: '(?i)fed minutes'
    category_map:
      "Foreign Policy & International Relations": World
  - url: %[1]s/bloomberg-politics.atom
    source_categories: true
    include: 'bloomberg\.com/news'
    category_map:
      Politics: World
`, feeds.URL, filepath.Join(dir, "data")))

	tests := []struct {
		name string
		feed string
		want []string
	}{
		{"mint", "/livemint-world.rss", []string{
			"KEEP US, Russia Agreed on Ukraine Security Pledges, Witkoff Says\n",
			"     link: https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html\n",
			"     rule: kept: no feed rule drops it\n",
			"     categories: all, U.S.–Russia Relations (u-s-russia-relations), World (world)\n",
			"     not in u-s-nato-relations: category exclude '(?i)witkoff' matches\n",
			"DROP Markets steady ahead of Fed minutes\n",
			"     rule: dropped: feed exclude '(?i)fed minutes' matches\n",
			"2 items: 1 kept, 1 dropped\n",
		}},
		{"bloomberg: include on the link, category renamed", "/bloomberg-politics.atom", []string{
			"KEEP US, Russia Agreed on Ukraine Security Pledges, Witkoff Says\n",
			`     rule: kept: feed include 'bloomberg\.com/news' matches` + "\n",
			"     categories: all, World (world)\n",
			"1 items: 1 kept, 0 dropped\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tributary(t, "test-rules", "-config", cfg, feeds.URL+tt.feed)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	if r := tributary(t, "test-rules", "-config", cfg); r.code != 2 {
		t.Errorf("without URL: exit %d, want 2", r.code)
	}
}

// fullTextSite serves a feed of three items at /feed.xml: a news article
// with navigation, comments and footer around it, a blog post, and a page
// that is gone.
func fullTextSite(t *testing.T) *httptest.Server {
	t.Helper()
	page := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "fulltext", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	news, blog := page("news-article.html"), page("allotment-blog.html")
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Courier</title><link>%[1]s/</link>
<item><title>Harbour cranes return</title><guid>1</guid><link>%[1]s/news/cranes.html</link><description>Cranes are back.</description></item>
<item><title>Leeks in November</title><guid>2</guid><link>%[1]s/blog/leeks.html</link><description>Leeks.</description></item>
<item><title>A page gone</title><guid>3</guid><link>%[1]s/gone.html</link><description>Gone.</description></item>
</channel></rss>`, srv.URL)
		case "/news/cranes.html":
			_, _ = w.Write(news)
		case "/blog/leeks.html":
			w.Header().Set("Content-Type", "text/html") // the page's meta names its charset
			_, _ = w.Write(blog)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTestRulesFullText(t *testing.T) {
	site := fullTextSite(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf("data_dir: %s\nfeeds:\n  - url: %s/feed.xml\n", filepath.Join(dir, "data"), site.URL))
	tests := []struct {
		name       string
		args       []string
		want, drop []string
	}{
		{"readability", []string{"-fulltext"}, []string{
			"KEEP Harbour cranes return\n",
			"     full text: 6 paragraphs, 230 words\n",
			"       The first of four container cranes was lifted onto the quay at Port Elwin on Tuesday, ending ten ye…\n",
			"       The cranes, built in a yard across the bay, cost the harbour board 41 million and will allow ships…\n",
			"     full text: none, the feed's text is kept: full text " + site.URL + "/gone.html: http status 404 Not Found",
			"3 items: 3 kept, 0 dropped\n",
		}, []string{"NAVIGATION-MENU", "COMMENT-TEXT", "FOOTER-TEXT"}},
		{"a selector to try", []string{"-selector", "div.entry-content"}, []string{
			"KEEP Leeks in November\n",
			"     full text: 3 paragraphs, 30 words\n",
			"       The leeks are finally ready, café owners in the village have been asking for them since October.\n",
			"       Second part: the onions failed again.\n",
			"     full text: none, the feed's text is kept: full text " + site.URL + "/news/cranes.html: no article text in the page\n",
		}, []string{"SIDEBAR-ARCHIVE", "ENTRY-META"}},
		{"without -fulltext", nil, []string{"KEEP Harbour cranes return\n"}, []string{"full text:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tributary(t, append(append([]string{"test-rules", "-config", cfg}, tt.args...), site.URL+"/feed.xml")...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, d := range tt.drop {
				if strings.Contains(r.stdout, d) {
					t.Errorf("output has %q:\n%s", d, r.stdout)
				}
			}
		})
	}
	if r := tributary(t, "test-rules", "-config", cfg, "-selector", "div >", site.URL+"/feed.xml"); r.code != 2 || !strings.Contains(r.stderr, "invalid CSS selector") {
		t.Errorf("an invalid selector: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
}

// TestFetchFullText: tributary fetch and stats count the pages of a
// source with fulltext.
func TestFetchFullText(t *testing.T) {
	site := fullTextSite(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf("data_dir: %s\nfeeds:\n  - url: %s/feed.xml\n    fulltext: true\n", filepath.Join(dir, "data"), site.URL))
	r := tributary(t, "fetch", "-config", cfg)
	want := "full text: 2 fetched, 1 failed (kept the feed's text); last: full text " + site.URL + "/gone.html: http status 404 Not Found"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("fetch: exit %d, output lacks %q:\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
	r = tributary(t, "stats", "-config", cfg)
	want = "full text: 2 fetched, 1 failed (kept the feed's text): full text " + site.URL + "/gone.html: http status 404 Not Found"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("stats: exit %d, output lacks %q:\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
}
