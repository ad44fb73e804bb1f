package fetcher

import "unicode/utf8"

// Caps on the fields of one item, whatever the feed sends. A field over
// its cap is cut, not rejected: the item is still stored.
const (
	// maxItemCategories is the most categories of an item that are read
	// (the first ones); with source_categories each may become a category.
	maxItemCategories = 32
	// maxTitleBytes caps an item's title, cut on a rune boundary.
	maxTitleBytes = 1 << 10
	// maxContentBytes caps an item's content and its summary, each cut
	// before sanitising so that the sanitiser sees a whole document.
	maxContentBytes = 1 << 20
	// maxItemEnclosures is the most media files of an item that are kept
	// (the first ones).
	maxItemEnclosures = 64
	// maxMediaURLBytes caps the URL of a media file or of artwork: a
	// longer one is dropped, as a cut URL would lead elsewhere.
	maxMediaURLBytes = 8 << 10
)

// cutUTF8 returns s cut to at most n bytes, on a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
