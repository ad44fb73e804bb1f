package fetcher

import (
	"cmp"
	"strings"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/story"
)

// sharedGUIDs returns the GUIDs that items give to more than one article:
// the same GUID with links of different URL identity (story.IdentityURL).
// Feeds that recycle a GUID (a category page's id, a constant "1") would
// otherwise collapse distinct articles into one.
func sharedGUIDs(items []*gofeed.Item) map[string]bool {
	first := make(map[string]string, len(items))
	shared := make(map[string]bool)
	for _, item := range items {
		if item == nil {
			continue
		}
		guid := strings.ToValidUTF8(strings.TrimSpace(item.GUID), "\uFFFD")
		if guid == "" {
			continue
		}
		link := story.IdentityURL(cmp.Or(feedburnerOrigLink(item), item.Link))
		if prev, ok := first[guid]; !ok {
			first[guid] = link
		} else if prev != link {
			shared[guid] = true
		}
	}
	return shared
}

// feedburnerOrigLink returns the feedburner:origLink of item: the
// original article URL that a FeedBurner feed hides behind its redirect
// link; "" when there is none.
func feedburnerOrigLink(item *gofeed.Item) string {
	for _, e := range item.Extensions["feedburner"]["origLink"] {
		if v := strings.TrimSpace(e.Value); v != "" {
			return v
		}
	}
	return ""
}
