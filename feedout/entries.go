package feedout

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"github.com/tributary/tributary/storage"
)

// newestFirst returns a copy of articles sorted newest Published first,
// ties in descending ID order, as storage returns them and WriteAtom sorts.
func newestFirst(articles []storage.Article) []storage.Article {
	sorted := slices.Clone(articles)
	slices.SortStableFunc(sorted, func(a, b storage.Article) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return sorted
}

// itemGUID returns the RSS guid and JSON Feed id of a: its own GUID when it
// has one not yet in seen, else the derived "urn:tributary:" + ID (suffixed
// with "-2", "-3"… until unused). permalink reports whether the guid is the
// URL of the story (an absolute http(s) URL), which RSS readers may open.
// The result is added to seen.
func itemGUID(a storage.Article, seen map[string]bool) (guid string, permalink bool) {
	guid = strings.TrimSpace(xmlText(a.GUID))
	if guid == "" || seen[guid] {
		derived := derivedIDPrefix + xmlText(a.ID)
		guid = derived
		for n := 2; seen[guid]; n++ {
			guid = derived + "-" + strconv.Itoa(n)
		}
	}
	seen[guid] = true
	return guid, isHTTPURL(guid)
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	return isAbsoluteURI(s) && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"))
}

// feedUpdated is the updated time of a document: feed.Updated, else the
// newest updated time of articles; zero when neither exists.
func feedUpdated(feed FeedMeta, articles []storage.Article) time.Time {
	if !feed.Updated.IsZero() {
		return feed.Updated
	}
	return newestUpdated(articles)
}

// pagingLinks returns the RFC 5005 links of feed as atom:link elements of
// the media type typ.
func pagingLinks(feed FeedMeta, typ string) []feeds.AtomLink {
	var links []feeds.AtomLink
	for _, l := range []struct{ rel, href string }{
		{"first", feed.FirstURL}, {"previous", feed.PreviousURL}, {"next", feed.NextURL},
	} {
		if href := xmlText(l.href); href != "" {
			links = append(links, feeds.AtomLink{Href: href, Rel: l.rel, Type: typ})
		}
	}
	return links
}

// enclosureLinks returns the atom:link rel="enclosure" elements of the
// media files of an article.
func enclosureLinks(encs []storage.Enclosure) []feeds.AtomLink {
	var links []feeds.AtomLink
	for _, e := range encs {
		href := xmlText(e.URL)
		if href == "" {
			continue
		}
		l := feeds.AtomLink{Href: href, Rel: "enclosure", Type: xmlText(e.Type)}
		if e.Length > 0 {
			l.Length = strconv.FormatInt(e.Length, 10)
		}
		links = append(links, l)
	}
	return links
}
