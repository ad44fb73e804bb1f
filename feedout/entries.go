package feedout

import (
	"cmp"
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

// ordered returns articles in the order of the document of feed: as given
// when feed.Ranked, else newestFirst.
func ordered(feed FeedMeta, articles []storage.Article) []storage.Article {
	if feed.Ranked {
		return slices.Clone(articles)
	}
	return newestFirst(articles)
}

// storyID returns the id of a in every format (Atom id, RSS guid, JSON
// Feed id), so that one story has one id in all three: its GUID when that
// is an absolute URI not yet in seen, else the derived "urn:tributary:" +
// ID, suffixed with "-2", "-3"… until unused. A GUID that is not a URI
// (such as "1100051") is unique only within its source, and a repeated one
// would make readers merge two stories of one merged document. The result
// is added to seen.
func storyID(a storage.Article, seen map[string]bool) string {
	id := xmlText(a.GUID)
	if !isAbsoluteURI(id) || seen[id] {
		derived := derivedIDPrefix + xmlText(a.ID)
		id = derived
		for n := 2; seen[id]; n++ {
			id = derived + "-" + strconv.Itoa(n)
		}
	}
	seen[id] = true
	return id
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

// hubLinks returns the WebSub link rel="hub" of feed, none when it has no
// hub.
func hubLinks(feed FeedMeta) []feeds.AtomLink {
	if feed.HubURL == "" {
		return nil
	}
	return []feeds.AtomLink{{Href: xmlText(feed.HubURL), Rel: "hub"}}
}

// enclosureLinks returns the atom:link rel="enclosure" elements of the
// media files of an article, each with a type (unknownMediaType when the
// source gave none: readers take an untyped link for a web page) and its
// length when known.
func enclosureLinks(encs []storage.Enclosure) []feeds.AtomLink {
	var links []feeds.AtomLink
	for _, e := range encs {
		href := xmlText(e.URL)
		if href == "" {
			continue
		}
		l := feeds.AtomLink{Href: href, Rel: "enclosure", Type: cmp.Or(xmlText(e.Type), unknownMediaType)}
		if e.Length > 0 {
			l.Length = strconv.FormatInt(e.Length, 10)
		}
		links = append(links, l)
	}
	return links
}
