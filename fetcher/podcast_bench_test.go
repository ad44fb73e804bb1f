package fetcher

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tributary/tributary/config"
)

// BenchmarkNormalizePodcast normalises the corpus podcast (131 episodes
// with enclosures and iTunes tags), already parsed.
func BenchmarkNormalizePodcast(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(normCorpusDir, "rss-parser", "itunes-missing-image.rss"))
	if err != nil {
		b.Skipf("corpus not present: %v", err)
	}
	const feedURL = "http://www.taverncast.com/feed.xml"
	feed, base, n := normParse(b, data), normURL(b, feedURL), newNormalizer(nil)
	for b.Loop() {
		n.normalize(feed, config.Feed{URL: feedURL}, base, normNow)
	}
}
