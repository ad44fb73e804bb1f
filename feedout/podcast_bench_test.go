package feedout

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
)

// BenchmarkRenderPodcast renders a page of 60 podcast episodes (the
// podcast-episodes case repeated) in each format.
func BenchmarkRenderPodcast(b *testing.B) {
	c := loadCase(b, "podcast-episodes")
	articles := make([]storage.Article, 0, 60)
	for i := range 60 {
		a := c.Articles[i%len(c.Articles)]
		a.ID = fmt.Sprintf("%032x", i)
		a.Published = a.Published.Add(-time.Duration(i) * time.Hour)
		articles = append(articles, a)
	}
	for _, ext := range []string{atomExt, ".rss", ".json"} {
		b.Run(ext[1:], func(b *testing.B) {
			w := map[string]func(io.Writer, FeedMeta, []storage.Article) error{
				atomExt: WriteAtom, ".rss": WriteRSS, ".json": WriteJSONFeed,
			}[ext]
			for b.Loop() {
				if err := w(io.Discard, c.Feed, articles); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
