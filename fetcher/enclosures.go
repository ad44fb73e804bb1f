package fetcher

import (
	"mime"
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
// against base, kept only when http(s), each URL once. The item's
// itunes:duration is the playing time of its first enclosure (the one
// iTunes reads), a media:content's duration attribute that of its file.
func enclosures(item *gofeed.Item, base *url.URL) []storage.Enclosure {
	var out []storage.Enclosure
	seen := map[string]bool{}
	add := func(rawURL, typ, length string, duration int64) {
		u := absoluteHTTP(rawURL, base)
		if u == nil || seen[u.String()] {
			return
		}
		seen[u.String()] = true
		n, err := strconv.ParseInt(strings.TrimSpace(length), 10, 64)
		if err != nil || n < 0 {
			n = 0
		}
		out = append(out, storage.Enclosure{URL: u.String(), Type: mediaType(typ), Length: n, Duration: duration})
	}
	var duration int64
	if item.ITunesExt != nil {
		duration = durationSeconds(item.ITunesExt.Duration)
	}
	for _, e := range item.Enclosures {
		if e != nil {
			add(e.URL, e.Type, e.Length, duration)
			duration = 0
		}
	}
	media := item.Extensions["media"]
	contents := append([]ext.Extension(nil), media["content"]...)
	for _, g := range media["group"] {
		contents = append(contents, g.Children["content"]...)
	}
	for _, c := range contents {
		add(c.Attrs["url"], c.Attrs["type"], c.Attrs["fileSize"], durationSeconds(c.Attrs["duration"]))
	}
	return out
}

// mediaType returns the media type s (such as "audio/mpeg") in canonical
// form, or "" when s is not one: a type that feeds carry to readers as an
// attribute value must not carry markup or quotes.
func mediaType(s string) string {
	t, params, err := mime.ParseMediaType(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return mime.FormatMediaType(t, params)
}
