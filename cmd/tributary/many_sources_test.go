package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/feedcheck"
)

// manySources is how many feeds TestHundredsOfSources aggregates.
const manySources = 300

// generatedFeed returns feed n: RSS 2.0 for even n, Atom for odd n, each
// with a few items carrying non-ASCII text, entities and hostile markup.
func generatedFeed(n int, base string) (body, contentType string) {
	pub := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Add(-time.Duration(n) * time.Minute)
	var b strings.Builder
	if n%2 == 0 {
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Source %d – Café &amp; Société</title><link>%s/site/%d</link><description>d</description>`, n, base, n)
		for i := range 3 {
			fmt.Fprintf(&b, `<item><title>Story %d.%d: “Zürich” &amp; São Paulo</title>
<link>/site/%d/story-%d?utm_source=rss&amp;id=%d#top</link><guid isPermaLink="false">s%d-i%d</guid>
<pubDate>%s</pubDate><category>Économie &amp; Société</category>
<description>Plain summary with 5 &lt; 6 &amp; an ampersand</description>
<content:encoded><![CDATA[<p onclick="x()">Body of %d.%d <img src="/i/%d.png" onerror="steal()"></p><script>alert(1)</script><a href="javascript:evil()">x</a>]]></content:encoded>
</item>`, n, i, n, i, i, n, i, pub.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), n, i, i)
		}
		b.WriteString("</channel></rss>")
		return b.String(), "application/rss+xml; charset=utf-8"
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="%s/site/%d/">
<title>Source %d — Atom</title><id>tag:example.org,2026:source-%d</id><updated>%s</updated>
<link rel="alternate" href="."/>`, base, n, n, n, pub.Format(time.RFC3339))
	for i := range 3 {
		fmt.Fprintf(&b, `<entry><title type="html">Entry %d.%d &lt;b&gt;bold&lt;/b&gt; naïve</title>
<id>tag:example.org,2026:source-%d:entry-%d</id><link href="entry-%d.html"/>
<updated>%s</updated><author><name>Ana María</name></author><category term="Tech &amp; Science"/>
<content type="html">&lt;p&gt;Text %d.%d &amp;amp; more&lt;iframe src="https://evil.example/"&gt;&lt;/iframe&gt;&lt;/p&gt;</content></entry>`,
			n, i, n, i, i, pub.Add(-time.Duration(i)*time.Hour).Format(time.RFC3339), n, i)
	}
	b.WriteString("</feed>")
	return b.String(), "application/atom+xml"
}

// TestHundredsOfSources aggregates manySources generated feeds served on
// loopback through the real binary and checks that the merged feeds are
// valid Atom that feedparser reads without error.
func TestHundredsOfSources(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= manySources {
			http.NotFound(w, r)
			return
		}
		body, ct := generatedFeed(n, srv.URL)
		w.Header().Set("Content-Type", ct)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)

	addr := freeAddr(t)
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "title: Many\nlisten: %s\ndata_dir: %s\noutput:\n  page_size: 1000\nfetch:\n  concurrency: 32\n  per_host: 32\n  host_interval: 0s\nfeeds:\n",
		addr, filepath.Join(dir, "data"))
	for n := range manySources {
		cat := []string{"World", "Tech"}[n%2]
		fmt.Fprintf(&cfg, "  - url: %s/feed/%d\n    categories: [%s]\n    source_categories: true\n", srv.URL, n, cat)
	}
	path := filepath.Join(dir, "tributary.yaml")
	writeFile(t, path, cfg.String())

	r := tributary(t, "fetch", "-config", path)
	want := fmt.Sprintf("%d sources: %d ok, 0 not modified, 0 failed; articles: %d new", manySources, manySources, 3*manySources)
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("fetch: exit %d, want summary %q\nstdout tail: %s\nstderr: %s", r.code, want, tail(r.stdout), r.stderr)
	}

	d := startServe(t, path, addr)
	docs := map[string][]byte{}
	for slug, entries := range map[string]int{"all": 3 * manySources, "world": 3 * manySources / 2, "economie-societe": 3 * manySources / 2, "tech-science": 3 * manySources / 2} {
		code, body := get(t, "http://"+addr+"/feeds/"+slug+".atom")
		if code != http.StatusOK {
			t.Fatalf("GET %s.atom: %d", slug, code)
		}
		if n := strings.Count(body, "<entry>"); n != entries {
			t.Errorf("%s.atom has %d entries, want %d", slug, n, entries)
		}
		for _, bad := range []string{"<script", "&lt;script", "onerror", "onclick", "javascript:", "<iframe", "&lt;iframe", "utm_source"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s.atom contains %q", slug, bad)
			}
		}
		docs[slug] = []byte(body)
	}
	feedcheck.Atom(t, docs)
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
}

// tail returns the last lines of s.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
