package fetcher

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/tributary/tributary/storage"
)

// enclosures returns the media files of item: its enclosures (RSS
// enclosure, Atom link rel="enclosure", JSON Feed attachments), then its
// Media RSS media:content elements (also inside media:group), resolved
// against base, kept only when http(s), each URL once.
func enclosures(item *gofeed.Item, base *url.URL) []storage.Enclosure {
	var out []storage.Enclosure
	seen := map[string]bool{}
	add := func(rawURL, typ, length string) {
		u := absoluteHTTP(rawURL, base)
		if u == nil || seen[u.String()] {
			return
		}
		seen[u.String()] = true
		n, err := strconv.ParseInt(strings.TrimSpace(length), 10, 64)
		if err != nil || n < 0 {
			n = 0
		}
		out = append(out, storage.Enclosure{URL: u.String(), Type: plainText(typ), Length: n})
	}
	for _, e := range item.Enclosures {
		if e != nil {
			add(e.URL, e.Type, e.Length)
		}
	}
	media := item.Extensions["media"]
	contents := append([]ext.Extension(nil), media["content"]...)
	for _, g := range media["group"] {
		contents = append(contents, g.Children["content"]...)
	}
	for _, c := range contents {
		add(c.Attrs["url"], c.Attrs["type"], c.Attrs["fileSize"])
	}
	return out
}
