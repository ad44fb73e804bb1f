package fetcher

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
)

const (
	benchFeeds = 100
	benchItems = 50
	benchHosts = 25
)

// benchFeed returns RSS 2.0 bytes of feed n with benchItems items.
func benchFeed(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Bench feed %d</title><link>https://host%d.test/</link><description>generated</description>
`, n, n%benchHosts)
	pub := time.Date(2025, 8, 17, 12, 0, 0, 0, time.UTC)
	for i := range benchItems {
		fmt.Fprintf(&b, `<item><title>%s &amp; %d</title>
<link>https://host%d.test/%d/story-%d?utm_source=rss</link><guid isPermaLink="false">feed-%d-item-%d</guid>
<pubDate>%s</pubDate><category>World</category><category>Business</category>
<description>&lt;p&gt;%s with &lt;a href="/rel/%d"&gt;a relative link&lt;/a&gt;.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>%s</p><p><img src="img/%d.png" onerror="x()"> more text</p><script>bad()</script>]]></content:encoded>
</item>
`, benchTitle(n, i), i, n%benchHosts, n, i, n, i, pub.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), benchTitle(n+1_000_000, i), i,
			benchText(n, i), i)
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

// benchVocabulary is the vocabulary of benchText and benchTitle: common
// news words, then generated ones (three syllables each), drawn with Zipf
// frequencies as words are in real text, so that unrelated stories share
// common words but rarely a phrase or most of a headline.
var benchVocabulary = func() []string {
	words := strings.Fields(`talks summit ministers pledges security markets rally
	bonds yields central bank inflation growth election parliament coalition vote budget
	energy prices oil gas pipeline climate accord emissions trade tariffs exports court
	ruling appeal judge police report investigation company earnings shares profit loss
	merger deal regulators technology chips software launch satellite mission storm
	flood rescue health hospital vaccine study scientists university students teachers`)
	syllables := strings.Fields("ba ce di fo gu ka le mi no pu ra se ti vo zu sha tre bli")
	for _, a := range syllables {
		for _, b := range syllables {
			for _, c := range syllables {
				words = append(words, a+b+c)
			}
		}
	}
	return words
}()

// benchWords returns n words of benchVocabulary drawn from the random
// source seeded with seed.
func benchWords(seed1, seed2 uint64, n int) string {
	r := rand.New(rand.NewPCG(seed1, seed2))
	zipf := rand.NewZipf(r, 1.1, 1, uint64(len(benchVocabulary)-1))
	words := make([]string, n)
	for w := range words {
		words[w] = benchVocabulary[zipf.Uint64()]
	}
	return strings.Join(words, " ")
}

// benchText returns about 160 words of text distinct for item i of feed n,
// so that no two generated stories look like copies of each other.
func benchText(n, i int) string {
	return benchWords(uint64(n), uint64(i), 160)
}

// benchSetup returns a config of n feeds spread over benchHosts host names
// and a client that sends every request to srv, whatever the host.
func benchSetup(b *testing.B, n int, srv *httptest.Server) (*config.Config, *http.Client) {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://host%d.test/feed/%d", i%benchHosts, i)
	}
	cfg := testConfig(feedsAt(urls...)...)
	cfg.Fetch.Concurrency = 16
	cfg.Fetch.PerHost = 2
	tr := newTransport(cfg.Fetch, nil)
	client := &http.Client{Transport: tr, CheckRedirect: checkRedirect}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	b.Cleanup(client.CloseIdleConnections)
	return cfg, client
}

// benchTitle returns eight words distinct for item i of feed n.
func benchTitle(n, i int) string {
	return benchWords(uint64(n)<<32|uint64(i), 1, 8)
}

// BenchmarkFetchPass measures a steady-state pass: every feed answers 200
// with a body that differs from the last one (so it is parsed, normalised
// and compared with the store) while its items are unchanged.
func BenchmarkFetchPass(b *testing.B) {
	bodies := make([][]byte, benchFeeds)
	for i := range bodies {
		bodies[i] = benchFeed(i)
	}
	var req atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= benchFeeds {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, "<!-- %d -->\n", req.Add(1))
		_, _ = w.Write(bodies[n])
	}))
	b.Cleanup(srv.Close)

	cfg, client := benchSetup(b, benchFeeds, srv)
	store := newTestStore(b, nil)
	f, err := New(cfg, store, Options{Client: client})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	// The first pass stores the items; the measured ones find them unchanged.
	if _, err := f.FetchNow(ctx); err != nil {
		b.Fatal(err)
	}
	passes := 0
	for b.Loop() {
		res, err := f.FetchNow(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil || r.Unchanged != benchItems {
				b.Fatalf("%s: %+v", r.FeedURL, r)
			}
		}
		passes++
	}
	b.ReportMetric(float64(passes*benchFeeds*benchItems)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkGofeedParse is the baseline of BenchmarkFetchPass: gofeed alone
// parsing the same bytes.
func BenchmarkGofeedParse(b *testing.B) {
	bodies := make([][]byte, benchFeeds)
	for i := range bodies {
		bodies[i] = benchFeed(i)
	}
	p := gofeed.NewParser()
	passes := 0
	for b.Loop() {
		for _, body := range bodies {
			feed, err := p.Parse(bytes.NewReader(body))
			if err != nil || len(feed.Items) != benchItems {
				b.Fatalf("parse: %v", err)
			}
		}
		passes++
	}
	b.ReportMetric(float64(passes*benchFeeds*benchItems)/b.Elapsed().Seconds(), "items/s")
}
