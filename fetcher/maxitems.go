package fetcher

import (
	"cmp"
	"slices"
	"time"

	"github.com/mmcdole/gofeed"
)

// newestItems returns the newest limit items of items, in feed order, and
// items itself when it has no more than limit. An item's date is the one
// storage will give it (see itemTimes): undated or future-dated items
// count as seen at now, so they are among the newest; items of equal date
// keep their feed order.
func newestItems(items []*gofeed.Item, limit int, now time.Time) []*gofeed.Item {
	if len(items) <= limit {
		return items
	}
	now = now.UTC()
	dates := make([]time.Time, len(items))
	order := make([]int, len(items))
	for i, it := range items {
		order[i] = i
		dates[i] = now
		if it == nil {
			continue
		}
		if pub, _ := itemTimes(it.PublishedParsed, it.UpdatedParsed, now); !pub.IsZero() {
			dates[i] = pub
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return dates[b].Compare(dates[a]) })
	order = order[:limit]
	slices.SortFunc(order, cmp.Compare)
	kept := make([]*gofeed.Item, len(order))
	for i, j := range order {
		kept[i] = items[j]
	}
	return kept
}
