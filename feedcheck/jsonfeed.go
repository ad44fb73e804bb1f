package feedcheck

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mmcdole/gofeed"
)

// JSONFeedDoc is a JSON Feed document as tests read it back.
type JSONFeedDoc struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	NextURL     string         `json:"next_url"`
	Language    string         `json:"language"`
	Items       []JSONFeedItem `json:"items"`
}

// JSONFeedItem is one JSON Feed item.
type JSONFeedItem struct {
	ID            string                  `json:"id"`
	URL           string                  `json:"url"`
	Title         string                  `json:"title"`
	ContentHTML   *string                 `json:"content_html"`
	ContentText   *string                 `json:"content_text"`
	Summary       string                  `json:"summary"`
	DatePublished string                  `json:"date_published"`
	DateModified  string                  `json:"date_modified"`
	Authors       []struct{ Name string } `json:"authors"`
	Tags          []string                `json:"tags"`
	Image         string                  `json:"image"`
	Attachments   []JSONAttachment        `json:"attachments"`
	Source        map[string]string       `json:"_source"`
}

// JSONAttachment is one attachment of a JSON Feed item.
type JSONAttachment struct {
	URL      string  `json:"url"`
	MIMEType string  `json:"mime_type"`
	Size     int64   `json:"size_in_bytes"`
	Duration float64 `json:"duration_in_seconds"`
}

// ParseJSONFeed decodes a JSON Feed document, failing the test when it is
// not a JSON object of that shape.
func ParseJSONFeed(t testing.TB, data []byte) JSONFeedDoc {
	t.Helper()
	var f JSONFeedDoc
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse json feed: %v\n%s", err, data)
	}
	return f
}

// checkJSONFeedRules checks the requirements of JSON Feed 1.1: the version
// URL, a title, an items array, on every item a unique non-empty id and
// content_html or content_text, RFC 3339 dates, absolute URLs, a url and
// mime_type on every attachment, and a well-formed BCP 47 language.
func checkJSONFeedRules(t *testing.T, name string, data []byte, f JSONFeedDoc) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Version != "https://jsonfeed.org/version/1.1" || f.Title == "" {
		t.Errorf("%s: version %q, title %q", name, f.Version, f.Title)
	}
	if items, ok := raw["items"]; !ok || !strings.HasPrefix(string(items), "[") {
		t.Errorf("%s: items is not an array: %.40s", name, items)
	}
	checkLanguage(t, name, "language", f.Language)
	for _, u := range []string{f.HomePageURL, f.FeedURL, f.NextURL} {
		checkAbsolute(t, name, u)
	}
	ids := map[string]bool{}
	for i, it := range f.Items {
		if it.ID == "" || ids[it.ID] {
			t.Errorf("%s: item %d: id %q empty or repeated", name, i, it.ID)
		}
		ids[it.ID] = true
		if it.ContentHTML == nil && it.ContentText == nil {
			t.Errorf("%s: item %d has neither content_html nor content_text", name, i)
		}
		for _, d := range []string{it.DatePublished, it.DateModified} {
			if _, err := time.Parse(time.RFC3339, d); d != "" && err != nil {
				t.Errorf("%s: item %d: date: %v", name, i, err)
			}
		}
		checkAbsolute(t, name, it.URL)
		for _, a := range it.Attachments {
			checkAbsolute(t, name, a.URL)
			if a.URL == "" || a.MIMEType == "" {
				t.Errorf("%s: item %d: attachment %+v lacks url or mime_type", name, i, a)
			}
		}
	}
}

// checkAbsolute fails when u is set but not an absolute URL.
func checkAbsolute(t *testing.T, name, u string) {
	t.Helper()
	if u == "" {
		return
	}
	if p, err := url.Parse(u); err != nil || !p.IsAbs() {
		t.Errorf("%s: %q is not an absolute URL", name, u)
	}
}

// JSONFeed checks JSON Feed 1.1 documents against the specification's
// requirements, then reads them with gofeed's JSON Feed parser, which must
// agree with encoding/json on the feed title and link and every item's id,
// title and link. docs maps a name to the document.
func JSONFeed(t *testing.T, docs map[string][]byte) {
	t.Helper()
	p := gofeed.NewParser()
	for name, data := range docs {
		f := ParseJSONFeed(t, data)
		checkJSONFeedRules(t, name, data, f)
		parsed, err := p.ParseString(string(data))
		if err != nil {
			t.Errorf("%s: gofeed: %v", name, err)
			continue
		}
		if parsed.FeedType != "json" {
			t.Errorf("%s: gofeed reads a %q feed", name, parsed.FeedType)
		}
		want := fpDoc{Feed: fpItem{Title: f.Title, Link: f.HomePageURL}}
		for _, it := range f.Items {
			want.Entries = append(want.Entries, fpItem{ID: it.ID, Title: it.Title, Link: it.URL})
		}
		got := fpDoc{Feed: fpItem{Title: parsed.Title, Link: parsed.Link}}
		for _, it := range parsed.Items {
			got.Entries = append(got.Entries, fpItem{ID: it.GUID, Title: it.Title, Link: it.Link})
		}
		if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: gofeed read (-want +got):\n%s", name, diff)
		}
	}
}
