package feedout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/feeds"

	"github.com/tributary/tributary/storage"
)

// The JSON Feed document embeds gorilla's JSONFeed and JSONItem and shadows
// what they get wrong for us: JSONFeed.Items is omitempty (JSON Feed
// requires "items", also when empty), JSONFeed.Version is left to the caller
// and gorilla's own conversion writes version 1, and JSONItem has no room
// for the source attribution, which goes in the "_source" extension object.
// JSONAttachment writes the size as "size" (JSON Feed names it
// "size_in_bytes") in an int32, so attachments are our own jsonAttachment.

// jsonSummaryLen bounds the plain-text summary of an item, in runes.
const jsonSummaryLen = 500

// jsonFeedVersion is the version URL of JSON Feed 1.1.
const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonFeedDoc is the top-level JSON Feed object.
type jsonFeedDoc struct {
	feeds.JSONFeed
	Items []jsonFeedItem `json:"items"`
}

// jsonFeedItem is one item with the "_source" extension.
type jsonFeedItem struct {
	feeds.JSONItem
	Attachments []jsonAttachment  `json:"attachments,omitempty"`
	Source      *jsonFeedSource   `json:"_source,omitempty"`
	Coverage    *jsonFeedCoverage `json:"_tributary,omitempty"`
}

// jsonAttachment is one attachment: an enclosure of the article.
type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size_in_bytes,omitempty"`
	Duration int64  `json:"duration_in_seconds,omitempty"`
}

// jsonFeedCoverage is the "_tributary" extension object of a story that
// more than one source carried: source_count is their number and sources
// name them, the item's own source first, then its copies (url: the copy).
type jsonFeedCoverage struct {
	About       string           `json:"about"`
	SourceCount int              `json:"source_count"`
	Sources     []jsonFeedCopyOf `json:"sources"`
}

// jsonFeedCopyOf is one source of a jsonFeedCoverage.
type jsonFeedCopyOf struct {
	FeedURL     string `json:"feed_url,omitempty"`
	Title       string `json:"title,omitempty"`
	HomePageURL string `json:"home_page_url,omitempty"`
	URL         string `json:"url,omitempty"`
}

// jsonCoverageAbout documents the "_tributary" extension.
const jsonCoverageAbout = "https://github.com/tributary/tributary#json-feed-sources"

// jsonFeedSource is the "_source" extension object: the feed an item came
// from. Readers that do not know it ignore it (JSON Feed 1.1, Extensions).
type jsonFeedSource struct {
	About       string `json:"about"`
	FeedURL     string `json:"feed_url,omitempty"`
	ID          string `json:"id,omitempty"`
	Title       string `json:"title,omitempty"`
	HomePageURL string `json:"home_page_url,omitempty"`
}

// jsonSourceAbout documents the "_source" extension, as the JSON Feed spec
// asks extension objects to.
const jsonSourceAbout = "https://github.com/tributary/tributary#json-feed-source"

// WriteJSONFeed writes a JSON Feed 1.1 document to w with the same entries,
// in the same order, as WriteAtom. Item ids are the Atom ids and RSS guids
// (see storyID), url the clean original link, content_html the sanitised
// content (summary the plain text of the summary), tags the category names,
// attachments the enclosures (with duration_in_seconds when known), image
// a podcast episode's artwork and "_source" the origin feed. The next page
// is next_url. WriteJSONFeed does not modify articles and is safe for
// concurrent use.
func WriteJSONFeed(w io.Writer, feed FeedMeta, articles []storage.Article) error {
	sorted := ordered(feed, articles)
	updated := feedUpdated(feed, sorted)
	if updated.IsZero() {
		return errors.New("write json feed: no updated time for the feed")
	}
	doc := jsonFeedDoc{
		JSONFeed: feeds.JSONFeed{
			Version:     jsonFeedVersion,
			Title:       xmlText(feed.Title),
			Language:    feed.Language,
			HomePageUrl: feed.AlternateURL,
			FeedUrl:     feed.SelfURL,
			NextUrl:     feed.NextURL,
		},
		Items: make([]jsonFeedItem, 0, len(sorted)),
	}
	if feed.HubURL != "" {
		doc.Hubs = []*feeds.JSONHub{{Type: "WebSub", Url: feed.HubURL}}
	}
	if feed.Author != "" {
		doc.Authors = []*feeds.JSONAuthor{{Name: xmlText(feed.Author)}}
	}
	seen := make(map[string]bool, len(sorted))
	for _, a := range sorted {
		doc.Items = append(doc.Items, newJSONFeedItem(a, seen, updated))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json feed %s: %w", feed.SelfURL, err)
	}
	return nil
}

// newJSONFeedItem builds the item of a; seen holds the ids used so far and
// fallback is the date of an article without any.
func newJSONFeedItem(a storage.Article, seen map[string]bool, fallback time.Time) jsonFeedItem {
	id := storyID(a, seen)
	published := fallback.UTC()
	if !a.Published.IsZero() {
		published = a.Published.UTC()
	}
	content, summary := publishedTexts(a)
	it := jsonFeedItem{JSONItem: feeds.JSONItem{
		Id:            id,
		Url:           xmlText(a.Link),
		Title:         xmlText(a.Title),
		ContentHTML:   content,
		Summary:       excerpt(summary, jsonSummaryLen),
		PublishedDate: &published,
	}}
	if u := articleUpdated(a); !u.IsZero() {
		u = u.UTC()
		it.ModifiedDate = &u
	}
	if it.ContentHTML == "" {
		// JSON Feed requires content_html or content_text.
		it.ContentHTML, it.Summary = summary, ""
	}
	if it.ContentHTML == "" {
		it.ContentText = it.Title
	}
	if author := xmlText(a.Author); author != "" {
		// author is JSON Feed 1.0's field: kept for 1.0 readers.
		it.Author = &feeds.JSONAuthor{Name: author}
		it.Authors = []*feeds.JSONAuthor{{Name: author}}
	}
	for _, c := range a.Categories {
		if name := xmlText(c.Name); name != "" && c.Slug != storage.AllSlug {
			it.Tags = append(it.Tags, name)
		}
	}
	for _, e := range a.Enclosures {
		if e.URL == "" {
			continue
		}
		att := jsonAttachment{URL: xmlText(e.URL), MIMEType: xmlText(e.Type), Size: max(e.Length, 0), Duration: max(e.Duration, 0)}
		if att.MIMEType == "" {
			att.MIMEType = unknownMediaType // required by JSON Feed
		}
		it.Attachments = append(it.Attachments, att)
	}
	if a.Podcast != nil {
		it.Image = xmlText(a.Podcast.Image) // a podcast episode's artwork
	}
	if s := a.Source; s.FeedURL != "" || s.Title != "" {
		it.Source = &jsonFeedSource{
			About:       jsonSourceAbout,
			FeedURL:     xmlText(s.FeedURL),
			ID:          xmlText(s.ID),
			Title:       xmlText(s.Title),
			HomePageURL: xmlText(s.Link),
		}
	}
	it.Coverage = jsonCoverage(a)
	return it
}

// jsonCoverage returns the "_tributary" object of a, nil when one source
// carried it.
func jsonCoverage(a storage.Article) *jsonFeedCoverage {
	if len(a.Via) == 0 {
		return nil
	}
	c := &jsonFeedCoverage{About: jsonCoverageAbout, SourceCount: storage.Coverage(a)}
	c.Sources = append(c.Sources, jsonCopyOf(a.Source, a.Link))
	for _, v := range a.Via {
		c.Sources = append(c.Sources, jsonCopyOf(v.Source, v.Link))
	}
	return c
}

// jsonCopyOf names the source s that carried a copy at link.
func jsonCopyOf(s storage.Source, link string) jsonFeedCopyOf {
	return jsonFeedCopyOf{FeedURL: xmlText(s.FeedURL), Title: xmlText(s.Title), HomePageURL: xmlText(s.Link), URL: xmlText(link)}
}
