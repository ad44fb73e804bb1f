package feedout

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/feeds"
	"golang.org/x/text/encoding/charmap"

	"github.com/tributary/tributary/storage"
)

// The Atom document is built from our own encoding/xml structs, not from
// gorilla's Feed.ToAtom: that conversion ignores Feed.Id (the feed id becomes
// the link), allows a single feed link (no self + alternate pair), drops item
// categories and sources, emits <updated></updated> for undated items and a
// random urn:uuid for items without an id, and its AtomEntry.Category and
// AtomEntry.Source are plain strings, which give invalid <category> (no term)
// and <source> elements. We reuse gorilla's leaf types (AtomLink, AtomAuthor,
// AtomContent, AtomSummary) and its feeds.WriteXML writer.

const (
	// generatorName is the atom:generator text.
	generatorName = "tributary"
	// derivedIDPrefix prefixes the stored article ID when the article's GUID
	// is not an absolute URI or repeats within the document (see storyID).
	derivedIDPrefix = "urn:tributary:"
	// linkAlternate and linkSelf are atom:link rel values.
	linkAlternate = "alternate"
	linkSelf      = "self"
	// textHTML is the type of content and summary: sanitised HTML.
	textHTML = "html"
)

// FeedMeta describes the feed-level elements of one Atom document. It is a
// plain value; WriteAtom does not keep it.
type FeedMeta struct {
	// ID is the feed's atom:id, an absolute IRI stable across restarts.
	ID string
	// Title is the feed title, plain text.
	Title string
	// Language is the BCP 47 tag of the articles' language: the Atom
	// feed's xml:lang, the RSS channel's language and the JSON Feed
	// language. Omitted when empty.
	Language string
	// SelfURL is the absolute URL the document is served at
	// (link rel="self", type application/atom+xml).
	SelfURL string
	// AlternateURL is the absolute URL of the HTML page the feed belongs to
	// (link rel="alternate", type text/html); omitted when empty.
	AlternateURL string
	// Updated is the feed's atom:updated. When zero, WriteAtom uses the
	// newest updated time of the articles.
	Updated time.Time
	// Author is the name of the feed-level atom:author; it stands in for
	// entries without an author. Omitted when empty.
	Author string
	// FirstURL, PreviousURL and NextURL are the RFC 5005 paging links
	// (rel "first", "previous", "next"): the newest page, the page of newer
	// entries and the page of older entries. Each is omitted when empty.
	FirstURL, PreviousURL, NextURL string
	// Ranked keeps the articles in the order given (a view ranked by
	// coverage) instead of newest first.
	Ranked bool
	// HubURL is the WebSub hub of the feed (link rel="hub" in Atom, an
	// atom:link in RSS, "hubs" in JSON Feed); omitted when empty.
	HubURL string
}

// atomFeed is the atom:feed element.
type atomFeed struct {
	XMLName   xml.Name          `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string            `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID        string            `xml:"id"`
	Title     atomText          `xml:"title"`
	Updated   string            `xml:"updated"`
	Links     []feeds.AtomLink  // self and alternate
	Author    *feeds.AtomAuthor // the aggregate: satisfies the entry-author rule
	Generator string            `xml:"generator"`
	Entries   []atomEntry       `xml:"entry"`
}

// FeedXml returns f itself, so that feeds.WriteXML can encode it.
func (f *atomFeed) FeedXml() any { return f }

// atomEntry is one atom:entry element.
type atomEntry struct {
	ID         string             `xml:"id"`
	Title      atomText           `xml:"title"`
	Links      []feeds.AtomLink   // alternate, when the article has a link
	Via        []atomVia          // the other sources of a merged story
	Published  string             `xml:"published,omitempty"`
	Updated    string             `xml:"updated"`
	Author     *feeds.AtomAuthor  // when the author is known
	Categories []atomCategory     `xml:"category"`
	Content    *feeds.AtomContent // article content, else its summary
	Summary    *feeds.AtomSummary // when both content and summary exist
	Source     *atomSource        `xml:"source"`
}

// atomVia is a link rel="via" to another source's copy of the story.
type atomVia struct {
	XMLName xml.Name `xml:"link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Title   string   `xml:"title,attr,omitempty"`
}

// atomText is an Atom text construct.
type atomText struct {
	Type  string `xml:"type,attr,omitempty"`
	Value string `xml:",chardata"`
}

// atomCategory is an atom:category element.
type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// atomSource is an atom:source element: the metadata of the origin feed.
type atomSource struct {
	ID      string           `xml:"id"`
	Title   atomText         `xml:"title"`
	Updated string           `xml:"updated"`
	Links   []feeds.AtomLink // self (the feed URL) and alternate (its website)
}

// WriteAtom writes an Atom 1.0 (RFC 4287) document to w: the feed described
// by feed and one entry per article, every article given, newest Published
// first (ties in descending ID order, as storage.Store.Latest returns them)
// unless feed.Ranked.
// Characters that XML 1.0 forbids (control characters other than tab,
// newline and carriage return, U+FFFE, U+FFFF, surrogates) and invalid UTF-8
// bytes are removed from every text and attribute value. Entry ids are
// unique within the document. WriteAtom does not modify articles and is safe
// for concurrent use.
func WriteAtom(w io.Writer, feed FeedMeta, articles []storage.Article) error {
	sorted := ordered(feed, articles)

	updated := feed.Updated
	if updated.IsZero() {
		updated = newestUpdated(sorted)
	}
	if updated.IsZero() {
		return errors.New("write atom: no updated time for the feed")
	}

	doc := &atomFeed{
		Lang:      xmlText(feed.Language),
		ID:        xmlText(feed.ID),
		Title:     atomText{Type: "text", Value: xmlText(feed.Title)},
		Updated:   atomTime(updated),
		Links:     []feeds.AtomLink{{Href: xmlText(feed.SelfURL), Rel: linkSelf, Type: "application/atom+xml"}},
		Generator: generatorName,
		Entries:   make([]atomEntry, 0, len(sorted)),
	}
	if feed.AlternateURL != "" {
		doc.Links = append(doc.Links, feeds.AtomLink{Href: xmlText(feed.AlternateURL), Rel: linkAlternate, Type: "text/html"})
	}
	doc.Links = append(doc.Links, pagingLinks(feed, "application/atom+xml")...)
	doc.Links = append(doc.Links, hubLinks(feed)...)
	if feed.Author != "" {
		doc.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: xmlText(feed.Author)}}
	}

	seen := make(map[string]bool, len(sorted))
	sources := sourcesUpdated(sorted)
	for _, a := range sorted {
		e := newEntry(a, storyID(a, seen), updated)
		if e.Source != nil {
			e.Source.Updated = atomTime(cmp.Or(sources[a.Source], updated))
		}
		doc.Entries = append(doc.Entries, e)
	}

	if err := feeds.WriteXML(doc, w); err != nil {
		return fmt.Errorf("write atom %s: %w", feed.ID, err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write atom %s: %w", feed.ID, err)
	}
	return nil
}

// newEntry builds the entry of a; id is its unique atom:id and fallback the
// updated time used when the article carries no date at all.
func newEntry(a storage.Article, id string, fallback time.Time) atomEntry {
	e := atomEntry{
		ID:      id,
		Title:   atomText{Type: "text", Value: xmlText(a.Title)},
		Updated: atomTime(fallback),
	}
	if u := articleUpdated(a); !u.IsZero() {
		e.Updated = atomTime(u)
	}
	if !a.Published.IsZero() {
		e.Published = atomTime(a.Published)
	}
	link := xmlText(a.Link)
	if link != "" {
		e.Links = []feeds.AtomLink{{Href: link, Rel: linkAlternate}}
	}
	e.Links = append(e.Links, enclosureLinks(a.Enclosures)...)
	if author := xmlText(a.Author); author != "" {
		e.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: author}}
	}
	for _, c := range a.Categories {
		term := xmlText(c.Slug)
		if term == "" || term == storage.AllSlug {
			continue
		}
		e.Categories = append(e.Categories, atomCategory{Term: term, Label: xmlText(c.Name)})
	}

	content, summary := publishedTexts(a)
	switch {
	case content != "" && summary != "":
		e.Content = &feeds.AtomContent{Type: textHTML, Content: content}
		e.Summary = &feeds.AtomSummary{Type: textHTML, Content: summary}
	case content != "":
		e.Content = &feeds.AtomContent{Type: textHTML, Content: content}
	case summary != "":
		e.Content = &feeds.AtomContent{Type: textHTML, Content: summary}
	default:
		// The headline stands in for the text, as content_text does in
		// JSON Feed: readers and validators expect textual content, and an
		// entry without alternate link needs content (RFC 4287 4.1.1.1).
		e.Content = &feeds.AtomContent{Type: "text", Content: e.Title.Value}
	}

	e.Source = newSource(a.Source)
	e.Via = viaLinks(a.Via)
	return e
}

// viaLinks builds a link rel="via" per copy: to the copy itself, else to
// its source's website, else to the source feed; a copy with no URL at
// all is left out.
func viaLinks(copies []storage.Copy) []atomVia {
	var out []atomVia
	for _, c := range copies {
		href := cmp.Or(xmlText(c.Link), xmlText(c.Source.Link), xmlText(c.Source.FeedURL))
		if href == "" {
			continue
		}
		out = append(out, atomVia{Href: href, Rel: "via", Title: xmlText(c.Source.Title)})
	}
	return out
}

// sourcesUpdated returns, per source of articles, the newest updated time
// of its articles: the source feed had changed by then at the latest, so
// it is a true atom:updated for its atom:source (RFC 4287 4.2.11), the same
// for every entry of that source in one document. A source whose articles
// carry no date is left out.
func sourcesUpdated(articles []storage.Article) map[storage.Source]time.Time {
	newest := make(map[storage.Source]time.Time)
	for _, a := range articles {
		if u := articleUpdated(a); u.After(newest[a.Source]) {
			newest[a.Source] = u
		}
	}
	return newest
}

// newSource builds the atom:source of s, or nil when s names nothing. Its
// id is the feed's id when that is an absolute URI (feeds give ids such as
// "3" or "/.rss"), else its URL, else its website; its title the feed's
// title, else its website or id: RFC 4287 4.2.11 asks for both. The caller
// sets its updated time.
func newSource(s storage.Source) *atomSource {
	feedURL := xmlText(s.FeedURL)
	link := xmlText(s.Link)
	id := xmlText(s.ID)
	if !isAbsoluteURI(id) {
		id = cmp.Or(feedURL, link)
	}
	if id == "" {
		return nil
	}
	src := &atomSource{ID: id, Title: atomText{Type: "text", Value: cmp.Or(xmlText(s.Title), link, id)}}
	if feedURL != "" {
		src.Links = append(src.Links, feeds.AtomLink{Href: feedURL, Rel: linkSelf})
	}
	if link != "" {
		src.Links = append(src.Links, feeds.AtomLink{Href: link, Rel: linkAlternate})
	}
	return src
}

// isAbsoluteURI reports whether s is an absolute URI usable as an atom:id:
// it has a scheme (RFC 3986 3.1) and something after it, contains no space
// or control character, and parses as a URL.
func isAbsoluteURI(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || rest == "" {
		return false
	}
	for i, r := range scheme {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	_, err := url.Parse(s)
	return err == nil
}

// articleUpdated is the updated time of a: Updated, but never before
// Published; zero when a has neither.
func articleUpdated(a storage.Article) time.Time {
	if a.Updated.Before(a.Published) {
		return a.Published
	}
	return a.Updated
}

// newestUpdated is the latest articleUpdated of articles, zero when none.
func newestUpdated(articles []storage.Article) time.Time {
	var newest time.Time
	for _, a := range articles {
		if u := articleUpdated(a); u.After(newest) {
			newest = u
		}
	}
	return newest
}

// atomTime formats t as an RFC 3339 date-time in UTC.
func atomTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// xmlText returns s without the characters XML 1.0 forbids and without
// invalid UTF-8 bytes; encoding/xml would otherwise write U+FFFD for them.
// C1 control characters (U+0080 to U+009F), which XML 1.0 discourages and
// feed validators report, are Windows-1252 bytes that a source decoded as
// Latin-1: each becomes the Windows-1252 character of its byte (U+0092 is
// "’"), or is dropped when Windows-1252 leaves that byte undefined.
func xmlText(s string) string {
	if isXMLText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isC1(r):
			if w := charmap.Windows1252.DecodeByte(byte(r)); w != utf8.RuneError && !isC1(w) {
				b.WriteRune(w)
			}
		case isXMLChar(r) && !(r == utf8.RuneError && size == 1):
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isXMLText reports whether s is valid UTF-8 made only of XML 1.0
// characters other than C1 controls.
func isXMLText(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isXMLChar(r) || isC1(r) || r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}

// isC1 reports whether r is a C1 control character.
func isC1(r rune) bool {
	return 0x80 <= r && r <= 0x9F
}

// isXMLChar reports whether r is a Char of XML 1.0 (production [2]).
func isXMLChar(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	default:
		return 0x10000 <= r && r <= 0x10FFFF
	}
}
