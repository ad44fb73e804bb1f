package feedout

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"github.com/tributary/tributary/storage"
)

// The RSS document is built from our own encoding/xml structs around
// gorilla's leaf types (RssGuid, RssEnclosure, AtomLink) rather than from
// feeds.RssFeed/RssItem: RssItem holds one category, its Source is a plain
// string (RSS requires <source url="…">), it has no dc:creator (RSS
// <author> must be an e-mail address), and RssFeed has no atom:link, which
// RSS needs for its self link and the RFC 5005 paging links.

// Namespaces declared on the rss element.
const (
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	// nsITunes is declared only on documents with a podcast episode.
	nsITunes = "http://www.itunes.com/dtds/podcast-1.0.dtd"
	// nsSources is the namespace of tributary:sources, declared only on
	// documents that use it.
	nsSources = "https://github.com/tributary/tributary#rss-sources"
)

// unknownMediaType is the type of an enclosure whose source gave none.
const unknownMediaType = "application/octet-stream"

// rssDoc is the rss element.
type rssDoc struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	XMLNSAtom string     `xml:"xmlns:atom,attr"`
	XMLNSCont string     `xml:"xmlns:content,attr"`
	XMLNSDC   string     `xml:"xmlns:dc,attr"`
	XMLNSIT   string     `xml:"xmlns:itunes,attr,omitempty"`
	XMLNSSrc  string     `xml:"xmlns:tributary,attr,omitempty"`
	Channel   rssChannel `xml:"channel"`
}

// FeedXml returns d itself, so that feeds.WriteXML can encode it.
func (d *rssDoc) FeedXml() any { return d }

// rssChannel is the channel element.
type rssChannel struct {
	Title         string     `xml:"title"`
	Link          string     `xml:"link"`
	Description   string     `xml:"description"`
	Language      string     `xml:"language,omitempty"`
	AtomLinks     []rssLink  `xml:"atom:link"`
	LastBuildDate string     `xml:"lastBuildDate"`
	Generator     string     `xml:"generator"`
	Items         []rssEntry `xml:"item"`
}

// rssLink is an atom:link inside RSS. encoding/xml cannot both reuse
// feeds.AtomLink (whose XMLName is "link") and prefix it, hence this copy.
type rssLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

// rssEntry is one item element.
type rssEntry struct {
	Title       string              `xml:"title"`
	Link        string              `xml:"link,omitempty"`
	Description string              `xml:"description,omitempty"`
	Content     *rssContent         `xml:"content:encoded"`
	Creator     string              `xml:"dc:creator,omitempty"`
	Categories  []rssCategory       `xml:"category"`
	Enclosure   *feeds.RssEnclosure // RSS allows one (Atom and JSON Feed carry all)
	GUID        *feeds.RssGuid
	PubDate     string      `xml:"pubDate,omitempty"`
	Source      *rssSource  `xml:"source"`
	Sources     *rssSources `xml:"tributary:sources"`
	rssEpisode
}

// rssEpisode is the iTunes podcast elements of an item.
type rssEpisode struct {
	Duration    int64        `xml:"itunes:duration,omitempty"` // seconds
	Image       *itunesImage `xml:"itunes:image"`
	Episode     int          `xml:"itunes:episode,omitempty"`
	Season      int          `xml:"itunes:season,omitempty"`
	Explicit    string       `xml:"itunes:explicit,omitempty"`
	EpisodeType string       `xml:"itunes:episodeType,omitempty"`
}

// itunesImage is the itunes:image element: the artwork's URL in href.
type itunesImage struct {
	Href string `xml:"href,attr"`
}

// rssSources is the tributary:sources extension element of a story that
// more than one source carried: count is their number, and each
// tributary:source names one (the item's own source first, then its
// copies): url the source feed, link the copy, text the feed's title.
type rssSources struct {
	Count   int             `xml:"count,attr"`
	Sources []rssSourceCopy `xml:"tributary:source"`
}

// rssSourceCopy is one tributary:source element.
type rssSourceCopy struct {
	URL   string `xml:"url,attr"`
	Link  string `xml:"link,attr,omitempty"`
	Title string `xml:",chardata"`
}

// rssContent is content:encoded, as CDATA.
type rssContent struct {
	Value string `xml:",cdata"`
}

// rssCategory is a category element holding the category's name.
type rssCategory struct {
	Value string `xml:",chardata"`
}

// rssSource is the source element: the feed the item came from.
type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

// WriteRSS writes an RSS 2.0 document to w with the same entries, in the
// same order, as WriteAtom: every article given, newest Published first.
// The guid is the story's id in all three formats (see storyID): the
// article's own GUID when it is an absolute URI, else the derived
// "urn:tributary:" id; isPermaLink="true" only for an http(s) URL; guids
// are unique within the document. Content is escaped HTML in
// description (the summary when there is one, else the content) and
// content:encoded (the full content when there is also a summary). The
// author is dc:creator; each category an element; one enclosure (RSS allows
// one: the first audio or video file, else the first file) an enclosure
// element; the source feed a source element. A podcast episode has the
// iTunes elements (duration in seconds, of the enclosure published; image,
// episode, season, explicit, episodeType) and the document then declares
// the itunes namespace. Text is cleaned of what XML 1.0 forbids. WriteRSS does not modify
// articles and is safe for concurrent use.
func WriteRSS(w io.Writer, feed FeedMeta, articles []storage.Article) error {
	sorted := ordered(feed, articles)
	updated := feedUpdated(feed, sorted)
	if updated.IsZero() {
		return errors.New("write rss: no updated time for the feed")
	}
	ch := rssChannel{
		Title:         xmlText(feed.Title),
		Link:          xmlText(feed.AlternateURL),
		Description:   xmlText(feed.Title),
		Language:      xmlText(feed.Language),
		LastBuildDate: rssTime(updated),
		Generator:     generatorName,
		AtomLinks:     []rssLink{{Href: xmlText(feed.SelfURL), Rel: linkSelf, Type: "application/rss+xml"}},
		Items:         make([]rssEntry, 0, len(sorted)),
	}
	for _, l := range append(pagingLinks(feed, "application/rss+xml"), hubLinks(feed)...) {
		ch.AtomLinks = append(ch.AtomLinks, rssLink{Href: l.Href, Rel: l.Rel, Type: l.Type})
	}
	seen := make(map[string]bool, len(sorted))
	doc := &rssDoc{Version: "2.0", XMLNSAtom: nsAtom, XMLNSCont: nsContent, XMLNSDC: nsDC}
	for _, a := range sorted {
		e := newRSSEntry(a, seen, updated)
		if e.rssEpisode != (rssEpisode{}) {
			doc.XMLNSIT = nsITunes
		}
		ch.Items = append(ch.Items, e)
	}
	doc.Channel = ch
	if slices.ContainsFunc(ch.Items, func(e rssEntry) bool { return e.Sources != nil }) {
		doc.XMLNSSrc = nsSources
	}
	if err := feeds.WriteXML(doc, w); err != nil {
		return fmt.Errorf("write rss %s: %w", feed.SelfURL, err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write rss %s: %w", feed.SelfURL, err)
	}
	return nil
}

// newRSSEntry builds the item of a; seen holds the guids used so far and
// fallback is the date of an article without any.
func newRSSEntry(a storage.Article, seen map[string]bool, fallback time.Time) rssEntry {
	guid := storyID(a, seen)
	e := rssEntry{
		Title:   xmlText(a.Title),
		Link:    xmlText(a.Link),
		Creator: xmlText(a.Author),
		GUID:    &feeds.RssGuid{Id: guid, IsPermaLink: strconv.FormatBool(isHTTPURL(guid))},
		PubDate: rssTime(fallback),
	}
	if !a.Published.IsZero() {
		e.PubDate = rssTime(a.Published)
	}
	content, summary := publishedTexts(a)
	switch {
	case content != "" && summary != "":
		e.Description = summary
		e.Content = &rssContent{Value: content}
	default:
		e.Description = content + summary
	}
	for _, c := range a.Categories {
		name := xmlText(c.Name)
		if name == "" {
			name = xmlText(c.Slug)
		}
		if name != "" && c.Slug != storage.AllSlug {
			e.Categories = append(e.Categories, rssCategory{Value: name})
		}
	}
	if enc, ok := rssEnclosure(a.Enclosures); ok {
		// RSS requires type and length; 0 means an unknown length.
		e.Enclosure = &feeds.RssEnclosure{
			Url:    xmlText(enc.URL),
			Type:   cmp.Or(xmlText(enc.Type), unknownMediaType),
			Length: strconv.FormatInt(enc.Length, 10),
		}
		e.Duration = max(enc.Duration, 0)
	}
	if p := a.Podcast; p != nil {
		if img := xmlText(p.Image); img != "" {
			e.Image = &itunesImage{Href: img}
		}
		e.Episode, e.Season = max(p.Episode, 0), max(p.Season, 0)
		e.Explicit, e.EpisodeType = xmlText(p.Explicit), xmlText(p.EpisodeType)
	}
	if u := xmlText(a.Source.FeedURL); u != "" {
		e.Source = &rssSource{URL: u, Title: xmlText(a.Source.Title)}
	}
	e.Sources = rssCoverage(a)
	return e
}

// rssEnclosure returns the enclosure an RSS item publishes, the only one
// RSS allows: the first audio or video file, which a podcast app plays,
// else the first file; false when there is none.
func rssEnclosure(encs []storage.Enclosure) (storage.Enclosure, bool) {
	first := -1
	for i, enc := range encs {
		if xmlText(enc.URL) == "" {
			continue
		}
		if strings.HasPrefix(enc.Type, "audio/") || strings.HasPrefix(enc.Type, "video/") {
			return enc, true
		}
		if first < 0 {
			first = i
		}
	}
	if first < 0 {
		return storage.Enclosure{}, false
	}
	return encs[first], true
}

// rssCoverage returns the tributary:sources element of a, nil when one
// source carried it.
func rssCoverage(a storage.Article) *rssSources {
	if len(a.Via) == 0 {
		return nil
	}
	s := &rssSources{Count: storage.Coverage(a)}
	s.Sources = append(s.Sources, rssSourceCopy{URL: xmlText(a.Source.FeedURL), Link: xmlText(a.Link), Title: xmlText(a.Source.Title)})
	for _, c := range a.Via {
		s.Sources = append(s.Sources, rssSourceCopy{URL: xmlText(c.Source.FeedURL), Link: xmlText(c.Link), Title: xmlText(c.Source.Title)})
	}
	return s
}

// rssTime formats t as an RFC 822 date in GMT, as RSS 2.0 requires.
func rssTime(t time.Time) string {
	return t.UTC().Format(time.RFC1123Z)
}
