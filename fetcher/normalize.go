package fetcher

import (
	"net/url"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// normalizer turns parsed feeds into storage.Articles. It is built once per
// configuration and is safe for concurrent use.
type normalizer struct{}

// newNormalizer returns a normalizer applying the match rules of categories.
func newNormalizer(categories []config.Category) *normalizer { panic("unimplemented") }

// normalized is what normalize makes of one parsed feed.
type normalized struct {
	// Articles are the items kept, in feed order, ready to save.
	Articles []storage.Article
	// Filtered counts items dropped by the source's include/exclude rules.
	Filtered int
	// Title is the source title: the configured override, else the feed's own.
	Title string
}

// normalize converts every item of feed, fetched for the source src from the
// URL base (the final URL after redirects), at time now.
func (n *normalizer) normalize(feed *gofeed.Feed, src config.Feed, base *url.URL, now time.Time) normalized {
	panic("unimplemented")
}
