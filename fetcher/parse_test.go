package fetcher

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
)

func TestParseBody(t *testing.T) {
	base, _ := url.Parse("https://news.example/section/page.html")
	p := gofeed.NewParser()
	tests := []struct {
		name        string
		body        string
		contentType string
		wantTitle   string
		wantErr     string
		wantNotFeed bool
	}{
		{
			name:    "json feed with a null item (a gofeed panic) is a parse error",
			body:    `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[null]}`,
			wantErr: "feed parser panicked",
		},
		{
			name:      "utf-8 rss",
			body:      `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Grüße</title></channel></rss>`,
			wantTitle: "Grüße",
		},
		{
			name:        "latin-1 from the header",
			body:        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Gr\xfc\xdfe</title></channel></rss>",
			contentType: "application/rss+xml; charset=ISO-8859-1",
			wantTitle:   "Grüße",
		},
		{
			name:        "prolog encoding wins over the header",
			body:        "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel><title>Gr\xfc\xdfe</title></channel></rss>",
			contentType: "application/rss+xml; charset=utf-8",
			wantTitle:   "Grüße",
		},
		{
			name:        "unknown charset label ignored",
			body:        `<rss version="2.0"><channel><title>plain</title></channel></rss>`,
			contentType: "application/rss+xml; charset=x-no-such-thing",
			wantTitle:   "plain",
		},
		{
			name:      "invalid utf-8 repaired",
			body:      "<rss version=\"2.0\"><channel><title>Caf\xe9</title></channel></rss>",
			wantTitle: "Caf\uFFFD",
		},
		{
			name:      "json feed",
			body:      `{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[]}`,
			wantTitle: "J",
		},
		{
			name:        "html with feed links and base",
			body:        `<html><head><base href="/blog/"><link rel="Alternate Feed" type="application/atom+xml; charset=utf-8" href="atom.xml"><link rel=alternate type=application/feed+json href=//cdn.example/f.json><link rel=alternate type=application/atom+xml href="atom.xml"></head></html>`,
			wantErr:     "not a feed: the page advertises feeds: https://news.example/blog/atom.xml, https://cdn.example/f.json",
			wantNotFeed: true,
		},
		{
			name:        "html without feed links",
			body:        "<!doctype html><title>x</title>",
			wantErr:     "not a feed (HTML page with no feed links)",
			wantNotFeed: true,
		},
		{name: "empty", body: " \n", wantErr: "empty response body"},
		{name: "truncated", body: `<rss version="2.0"><channel><title>x</title><item><title>`, wantErr: "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed, err := parseBody(p, []byte(tt.body), tt.contentType, base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if errors.Is(err, ErrNotFeed) != tt.wantNotFeed {
					t.Errorf("errors.Is(err, ErrNotFeed) = %v", !tt.wantNotFeed)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseBody: %v", err)
			}
			if diff := cmp.Diff(tt.wantTitle, feed.Title); diff != "" {
				t.Errorf("title (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseBodyCorpus parses the encoding samples of the shared corpus
// with the charset their test suite serves them with.
func TestParseBodyCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "node-feedparser")
	data, err := os.ReadFile(filepath.Join(dir, "iconv.xml"))
	if err != nil {
		t.Skipf("shared corpus not available: %v", err)
	}
	feed, err := parseBody(gofeed.NewParser(), data, "text/xml", nil)
	if err != nil {
		t.Fatalf("iconv.xml: %v", err)
	}
	if len(feed.Items) == 0 || !strings.ContainsFunc(feed.Items[0].Title, func(r rune) bool { return r >= 'А' && r <= 'я' }) {
		t.Errorf("iconv.xml: no Cyrillic in the first title %q", feed.Items[0].Title)
	}
}

// FuzzParseBody checks that no body and no Content-Type make parseBody
// panic.
func FuzzParseBody(f *testing.F) {
	for _, name := range []string{"livemint-world.rss", "bloomberg-politics.atom", "perspectives.rss"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "today-news", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "application/rss+xml")
	}
	corpus := filepath.Join("..", "..", "shared", "corpus")
	for _, seed := range []struct{ file, contentType string }{
		{"node-feedparser/iconv.xml", "text/xml; charset=windows-1251"},
		{"node-feedparser/notafeed.html", "text/html"},
		{"node-feedparser/saxerror.xml", "text/xml"},
		{"rss-parser/uolNoticias.rss", "application/rss+xml; charset=iso-8859-1"},
		{"rss-parser/unrecognized.rss", "text/html"},
		{"rss-parser/latin2.rss", "application/rss+xml; charset=iso-8859-2"},
		{"feedparser/json/example.json", "application/feed+json"},
		{"feedparser/illformed/chardet/koi8r.xml", "text/xml; charset=koi8-r"},
		{"feedparser/illformed/rss_incomplete_cdata.xml", ""},
	} {
		if data, err := os.ReadFile(filepath.Join(corpus, seed.file)); err == nil {
			f.Add(data, seed.contentType)
		}
	}
	f.Add([]byte("<html><link rel=alternate type=application/rss+xml href=::bad>"), "text/html")
	f.Add([]byte("\xef\xbb\xbf<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'></feed>"), "application/atom+xml;charset=\"utf-16\"")
	p := gofeed.NewParser()
	base, _ := url.Parse("https://example.com/feed")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := parseBody(p, body, contentType, base)
		if err == nil && feed == nil {
			t.Fatal("nil feed without error")
		}
	})
}
