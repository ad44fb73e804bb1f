package feedout

import (
	"cmp"
	"io"
	"strings"

	"github.com/tributary/tributary/storage"
)

// format is one output format of the feed documents.
type format struct {
	// ext is the file extension, with the dot.
	ext string
	// mediaType is the bare media type, for links and OPML.
	mediaType string
	// contentType is the Content-Type header, with charset.
	contentType string
	// write renders one document.
	write func(w io.Writer, feed FeedMeta, articles []storage.Article) error
}

// Content types of the three formats.
const (
	rssContentType  = "application/rss+xml; charset=utf-8"
	jsonContentType = "application/feed+json; charset=utf-8"
)

// formats lists the formats every category is served in, Atom first.
func formats() []format {
	return []format{
		{ext: atomExt, mediaType: "application/atom+xml", contentType: atomContentType, write: WriteAtom},
		{ext: ".rss", mediaType: "application/rss+xml", contentType: rssContentType, write: WriteRSS},
		{ext: ".json", mediaType: "application/feed+json", contentType: jsonContentType, write: WriteJSONFeed},
	}
}

// splitFeedFile splits "slug.ext" into the slug and its format.
func splitFeedFile(file string) (string, format, bool) {
	for _, f := range formats() {
		if slug, ok := strings.CutSuffix(file, f.ext); ok && slug != "" {
			return slug, f, true
		}
	}
	return "", format{}, false
}

// publishedTexts returns the content and summary every format publishes
// for a, made valid for XML: its full text, when the source fetched one,
// with the feed's own text as the summary; else its content and summary.
func publishedTexts(a storage.Article) (content, summary string) {
	if a.FullText == "" {
		return xmlText(a.Content), xmlText(a.Summary)
	}
	return xmlText(a.FullText), xmlText(cmp.Or(a.Summary, a.Content))
}
