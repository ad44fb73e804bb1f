package feedcheck

import (
	"encoding/xml"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// RSSFeed is an RSS 2.0 document as tests read it back.
type RSSFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel RSSChannel `xml:"channel"`
}

// RSSChannel is the rss channel element.
type RSSChannel struct {
	Title string `xml:"title"`
	// Link is the RSS link; AtomLinks are the atom:link elements. Both are
	// filled by ParseRSS from RawLinks: encoding/xml matches a tag without
	// namespace against elements of every namespace.
	Link          string    `xml:"-"`
	AtomLinks     []Link    `xml:"-"`
	RawLinks      []rawLink `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Items         []RSSItem `xml:"item"`
}

// rawLink is a link element of either namespace.
type rawLink struct {
	XMLName xml.Name
	Href    string `xml:"href,attr"`
	Rel     string `xml:"rel,attr"`
	Type    string `xml:"type,attr"`
	Value   string `xml:",chardata"`
}

// RSSItem is an rss item.
type RSSItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Description string   `xml:"description"`
	Content     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	Creator     string   `xml:"http://purl.org/dc/elements/1.1/ creator"`
	Categories  []string `xml:"category"`
	GUID        RSSGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Source      struct {
		URL   string `xml:"url,attr"`
		Title string `xml:",chardata"`
	} `xml:"source"`
	Enclosures []struct {
		URL    string `xml:"url,attr"`
		Type   string `xml:"type,attr"`
		Length string `xml:"length,attr"`
	} `xml:"enclosure"`
	RSSITunes
}

// RSSITunes is the iTunes podcast elements of an rss item, in the
// namespace Apple defines (elements of another namespace are not read).
type RSSITunes struct {
	Duration string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd duration"`
	Image    struct {
		Href string `xml:"href,attr"`
	} `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd image"`
	Episode     string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd episode"`
	Season      string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd season"`
	Explicit    string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd explicit"`
	EpisodeType string `xml:"http://www.itunes.com/dtds/podcast-1.0.dtd episodeType"`
}

// RSSGUID is an rss guid.
type RSSGUID struct {
	Value       string `xml:",chardata"`
	IsPermaLink string `xml:"isPermaLink,attr"`
}

// ParseRSS decodes an RSS document, failing the test when it is not
// well-formed or not an rss element.
func ParseRSS(t testing.TB, data []byte) RSSFeed {
	t.Helper()
	var f RSSFeed
	if err := xml.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse rss: %v\n%s", err, data)
	}
	for _, l := range f.Channel.RawLinks {
		switch l.XMLName.Space {
		case "":
			f.Channel.Link = l.Value
		case "http://www.w3.org/2005/Atom":
			f.Channel.AtomLinks = append(f.Channel.AtomLinks, Link{Href: l.Href, Rel: l.Rel, Type: l.Type})
		}
	}
	return f
}

// checkRSSRules checks what RSS 2.0 requires and readers rely on: version
// 2.0, channel title, link and description, a title or description on
// every item, unique guids, RFC 822 dates, a url on every source and a
// url, type and length on every enclosure. It also checks what the W3C
// Feed Validator reports: a guid marked isPermaLink="true" must be an
// http(s) URL, a guid of fewer than 9 digits is "not sufficiently unique"
// (two sources' item "1" collide in a merged feed), and the language must
// be a well-formed BCP 47 tag; an item has at most one enclosure; iTunes
// podcast elements hold values of their kind (checkITunes).
func checkRSSRules(t *testing.T, name string, f RSSFeed) {
	t.Helper()
	ch := f.Channel
	checkLanguage(t, name, "language", ch.Language)
	if f.Version != "2.0" || ch.Title == "" || ch.Link == "" || ch.Description == "" {
		t.Errorf("%s: version %q, channel title %q, link %q, description %q: all required", name, f.Version, ch.Title, ch.Link, ch.Description)
	}
	if _, err := time.Parse(time.RFC1123Z, ch.LastBuildDate); err != nil {
		t.Errorf("%s: lastBuildDate: %v", name, err)
	}
	guids := map[string]bool{}
	for i, it := range ch.Items {
		if it.Title == "" && it.Description == "" {
			t.Errorf("%s: item %d has neither title nor description", name, i)
		}
		if it.GUID.Value == "" || guids[it.GUID.Value] {
			t.Errorf("%s: item %d: guid %q empty or repeated", name, i, it.GUID.Value)
		}
		guids[it.GUID.Value] = true
		checkGUID(t, name, i, it.GUID)
		if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil {
			t.Errorf("%s: item %d: pubDate: %v", name, i, err)
		}
		if it.Source.Title != "" && it.Source.URL == "" {
			t.Errorf("%s: item %d: source without url", name, i)
		}
		if len(it.Enclosures) > 1 {
			t.Errorf("%s: item %d has %d enclosures: RSS allows one", name, i, len(it.Enclosures))
		}
		for _, e := range it.Enclosures {
			if e.URL == "" || e.Type == "" || e.Length == "" {
				t.Errorf("%s: item %d: enclosure %+v lacks url, type or length", name, i, e)
			}
		}
		checkITunes(t, name, i, it.RSSITunes)
	}
}

// iTunesDuration is the form of an itunes:duration: seconds, MM:SS or
// HH:MM:SS.
var iTunesDuration = regexp.MustCompile(`^[0-9]+(:[0-5][0-9]){0,2}$`)

// checkITunes checks the iTunes podcast elements of item i the way Apple
// and the W3C Feed Validator read them: a duration, positive episode and
// season numbers, an http(s) artwork URL and the values Apple defines.
func checkITunes(t *testing.T, name string, i int, p RSSITunes) {
	t.Helper()
	if p.Duration != "" && !iTunesDuration.MatchString(p.Duration) {
		t.Errorf("%s: item %d: itunes:duration %q", name, i, p.Duration)
	}
	for _, n := range []string{p.Episode, p.Season} {
		if v, err := strconv.Atoi(n); n != "" && (err != nil || v <= 0) {
			t.Errorf("%s: item %d: itunes:episode or season %q is not a positive number", name, i, n)
		}
	}
	if u, err := url.Parse(p.Image.Href); p.Image.Href != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		t.Errorf("%s: item %d: itunes:image %q is not an http(s) URL", name, i, p.Image.Href)
	}
	if !slices.Contains([]string{"", "true", "false"}, p.Explicit) {
		t.Errorf("%s: item %d: itunes:explicit %q: want true or false", name, i, p.Explicit)
	}
	if !slices.Contains([]string{"", "full", "trailer", "bonus"}, p.EpisodeType) {
		t.Errorf("%s: item %d: itunes:episodeType %q", name, i, p.EpisodeType)
	}
}

// checkGUID checks the guid of item i the way the W3C Feed Validator does.
func checkGUID(t *testing.T, name string, i int, g RSSGUID) {
	t.Helper()
	if g.IsPermaLink != "true" && g.IsPermaLink != "false" {
		t.Errorf("%s: item %d: guid isPermaLink %q: want true or false", name, i, g.IsPermaLink)
	}
	if g.IsPermaLink == "true" {
		if u, err := url.Parse(g.Value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Errorf("%s: item %d: guid %q is a permalink but not an http(s) URL", name, i, g.Value)
		}
	}
	if len(g.Value) < 9 && strings.Trim(g.Value, "0123456789") == "" {
		t.Errorf("%s: item %d: guid %q is not sufficiently unique", name, i, g.Value)
	}
}

// RSS checks RSS 2.0 documents: the rules of RSS 2.0 that readers rely on,
// in Go, then reads them with python feedparser, which must report no bozo
// error and agree with encoding/xml on titles, links, guids, enclosures and
// iTunes podcast elements. docs maps a
// name to the document.
func RSS(t *testing.T, docs map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	want := make(map[string]fpDoc, len(docs))
	for name, data := range docs {
		f := ParseRSS(t, data)
		checkCharacters(t, name, data)
		checkRSSRules(t, name, f)
		path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".rss")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
		w := fpDoc{Feed: fpItem{Title: f.Channel.Title, Link: f.Channel.Link}}
		for _, it := range f.Channel.Items {
			link := it.Link
			if link == "" && it.GUID.IsPermaLink == "true" {
				link = it.GUID.Value // feedparser links a permalink guid
			}
			e := fpItem{ID: it.GUID.Value, Title: it.Title, Link: link, ITunes: fpITunes{
				Duration: it.Duration, Episode: it.Episode, Season: it.Season,
				EpisodeType: it.EpisodeType, Image: it.Image.Href,
			}}
			for _, enc := range it.Enclosures {
				e.Enclosures = append(e.Enclosures, fpEnclosure{Href: enc.URL, Type: enc.Type, Length: enc.Length})
			}
			w.Entries = append(w.Entries, e)
		}
		want[path] = w
	}
	t.Run("feedparser", func(t *testing.T) {
		got := runFeedparser(t, paths)
		for path, w := range want {
			doc := got[path]
			if doc.Bozo != 0 {
				t.Errorf("%s: feedparser bozo: %s", filepath.Base(path), doc.Error)
			}
			doc.Error, doc.Feed.ID = "", ""
			for i, e := range doc.Entries {
				// RSS titles have no type: feedparser takes one holding
				// markup-like text ("a <b> tag") as HTML and re-escapes its
				// "&". Unescaping once gives back the plain text.
				if i < len(w.Entries) && e.Title != w.Entries[i].Title && strings.ContainsRune(w.Entries[i].Title, '<') {
					doc.Entries[i].Title = html.UnescapeString(e.Title)
				}
			}
			if diff := gocmp.Diff(w, doc, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: feedparser read (-want +got):\n%s", filepath.Base(path), diff)
			}
		}
	})
}
