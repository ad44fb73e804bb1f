package fetcher

import (
	"bytes"
	"net/url"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
)

// BenchmarkNormalizeCost splits the CPU cost of one fetched feed, single
// threaded, on the bytes of BenchmarkIngest: gofeed's parse, then our
// normalisation of the parsed items, of which bluemonday's sanitising of
// their content and summary alone is reported too. The ratios to the
// parse are the floor of what BenchmarkIngest can reach before anything
// is stored.
//
//	go test -run '^$' -bench BenchmarkNormalizeCost -benchtime 5x ./fetcher/
func BenchmarkNormalizeCost(b *testing.B) {
	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i] = benchFeed(i)
	}
	p := gofeed.NewParser()
	n := newNormalizer(nil)
	base, err := url.Parse("https://host1.test/feed/1")
	if err != nil {
		b.Fatal(err)
	}
	src := config.Feed{URL: base.String(), Categories: []string{"News"}}
	var parse, normalize, sanitize time.Duration
	items := 0
	for b.Loop() {
		for _, body := range bodies {
			start := time.Now()
			feed, err := p.Parse(bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			parsed := time.Now()
			norm := n.normalize(feed, src, base, parsed)
			normalized := time.Now()
			for _, it := range feed.Items {
				n.policy.Sanitize(it.Content)
				n.policy.Sanitize(it.Description)
			}
			sanitized := time.Now()
			if len(norm.Articles) != benchItems {
				b.Fatalf("%d articles, want %d", len(norm.Articles), benchItems)
			}
			parse += parsed.Sub(start)
			normalize += normalized.Sub(parsed)
			sanitize += sanitized.Sub(normalized)
			items += len(feed.Items)
		}
	}
	b.ReportMetric(float64(parse.Nanoseconds())/float64(items), "parse-ns/item")
	b.ReportMetric(float64(normalize.Nanoseconds())/float64(items), "normalize-ns/item")
	b.ReportMetric(normalize.Seconds()/parse.Seconds(), "normalize/parse")
	b.ReportMetric(sanitize.Seconds()/parse.Seconds(), "bluemonday/parse")
}
