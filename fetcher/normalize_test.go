package fetcher

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

// normFixtureDir is the directory of the today-news fixture feeds.
const normFixtureDir = "../testdata/today-news"

// normNow is the clock of the normalisation tests: after every fixture date.
var normNow = time.Date(2025, 8, 18, 6, 0, 0, 0, time.UTC)

// normCategories are configured categories as config.Load would build them.
func normCategories() []config.Category {
	return []config.Category{
		{
			Name:  "U.S.–Russia Relations",
			Slug:  "u-s-russia-relations",
			Match: []*regexp.Regexp{regexp.MustCompile(`(?i)\bkremlin\b`), regexp.MustCompile(`(?i)\bputin\b`)},
		},
		{Name: "World", Slug: "world"},
		{
			Name:  "Central Banks",
			Slug:  "central-banks",
			Match: []*regexp.Regexp{regexp.MustCompile(`(?i)\bfed(eral reserve)?\b`)},
		},
	}
}

// normParse parses data with a parser that keeps the original feed, as the
// fetcher's parser does to read the Atom feed id.
func normParse(t testing.TB, data []byte) *gofeed.Feed {
	t.Helper()
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	feed, err := p.ParseString(string(data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return feed
}

// normFixture returns the bytes of a today-news fixture.
func normFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(normFixtureDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return data
}

// normURL parses an absolute URL.
func normURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse URL %q: %v", raw, err)
	}
	return u
}

// normIgnoreHTML leaves Content and Summary to the tests that look at them.
var normIgnoreHTML = cmpopts.IgnoreFields(storage.Article{}, "Content", "Summary")

func TestNormalizeTodayNews(t *testing.T) {
	n := newNormalizer(normCategories())

	t.Run("livemint", func(t *testing.T) {
		src := config.Feed{
			URL:              "https://www.livemint.com/rss/world",
			Title:            "Mint World",
			Categories:       []string{"World", "Business"},
			SourceCategories: true,
		}
		got := n.normalize(normParse(t, normFixture(t, "livemint-world.rss")), src, normURL(t, src.URL), normNow)
		source := storage.Source{
			FeedURL: src.URL,
			ID:      "https://www.livemint.com/rss/world",
			Title:   "Mint World",
			Link:    "https://www.livemint.com/news/world",
		}
		storyLink := "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html"
		want := normalized{
			Title: "Mint World",
			Articles: []storage.Article{
				{
					ID:        story.ItemKey(src.URL, "11755440779394", "", "", ""),
					GUID:      "11755440779394",
					Title:     "US, Russia Agreed on Ukraine Security Pledges, Witkoff Says",
					Link:      storyLink,
					Published: time.Date(2025, 8, 17, 14, 26, 19, 0, time.UTC),
					Updated:   time.Date(2025, 8, 17, 14, 26, 19, 0, time.UTC),
					Author:    "Bloomberg",
					Categories: []storage.Category{
						{Slug: "business", Name: "Business"},
						{Slug: "foreign-policy-international-relations", Name: "Foreign Policy & International Relations"},
						{Slug: "u-s-nato-relations", Name: "U.S.–NATO Relations"},
						{Slug: "u-s-russia-relations", Name: "U.S.–Russia Relations"},
						{Slug: "world", Name: "World"},
					},
					Source:    source,
					FirstSeen: normNow,
				},
				{
					ID:        story.ItemKey(src.URL, "11755440000001", "", "", ""),
					GUID:      "11755440000001",
					Title:     "Markets steady ahead of Fed minutes",
					Link:      "https://www.livemint.com/market/markets-steady-ahead-of-fed-minutes-11755440000001.html",
					Published: time.Date(2025, 8, 17, 12, 2, 0, 0, time.UTC),
					Updated:   time.Date(2025, 8, 17, 12, 2, 0, 0, time.UTC),
					Categories: []storage.Category{
						{Slug: "business", Name: "Business"},
						{Slug: "central-banks", Name: "Central Banks"},
						{Slug: "markets", Name: "Markets"},
						{Slug: "world", Name: "World"},
					},
					Source:    source,
					FirstSeen: normNow,
				},
			},
		}
		if diff := cmp.Diff(want, got, normIgnoreHTML); diff != "" {
			t.Fatalf("normalize mismatch (-want +got):\n%s", diff)
		}

		a := got.Articles[0]
		normAssertSafe(t, a.Content)
		normAssertSafe(t, a.Summary)
		for _, s := range []string{"María Paula Mijares Torres", "<p>Donald Trump and Vladimir Putin agreed", "©2025 Bloomberg L.P.", `<img src="https://www.livemint.com/x.png"`} {
			if !strings.Contains(a.Content, s) {
				t.Errorf("Content lacks %q", s)
			}
		}
		if want := "Donald Trump and Vladimir Putin agreed at their summit in Alaska last week that the US would be able to offer Ukraine security guarantees, according to Steve Witkoff, Trump's special envoy."; plainText(a.Summary) != want {
			t.Errorf("Summary reads %q, want %q", plainText(a.Summary), want)
		}

		// The second item's description holds "&amp;#8217;" in the XML:
		// the HTML it carries is "Reserve&#8217;s", which a reader shows as
		// "Reserve’s". It is decoded once, not shown as a literal entity.
		m := got.Articles[1]
		if m.Content != "" {
			t.Errorf("Content = %q, want empty: the item has only a description", m.Content)
		}
		if want := "Asian shares were little changed on Sunday as investors awaited minutes from the Federal Reserve’s July meeting."; m.Summary != want {
			t.Errorf("Summary = %q, want %q", m.Summary, want)
		}
	})

	t.Run("bloomberg", func(t *testing.T) {
		src := config.Feed{URL: "https://feeds.bloomberg.com/politics/news.atom", SourceCategories: true}
		got := n.normalize(normParse(t, normFixture(t, "bloomberg-politics.atom")), src, normURL(t, src.URL), normNow)
		want := normalized{
			Title: "Bloomberg Politics",
			Articles: []storage.Article{{
				ID:        story.ItemKey(src.URL, "tag:bloomberg.com,2025:T18WQ2GOT0JK00", "", "", ""),
				GUID:      "tag:bloomberg.com,2025:T18WQ2GOT0JK00",
				Title:     "US, Russia Agreed on Ukraine Security Pledges, Witkoff Says",
				Link:      "https://www.bloomberg.com/news/articles/2025-08-17/us-russia-agreed-on-ukraine-security-pledges-witkoff-says",
				Published: time.Date(2025, 8, 17, 14, 21, 5, 0, time.UTC),
				Updated:   time.Date(2025, 8, 17, 14, 40, 0, 0, time.UTC),
				Author:    "Bloomberg News",
				Categories: []storage.Category{
					{Slug: "politics", Name: "Politics"},
					{Slug: "u-s-russia-relations", Name: "U.S.–Russia Relations"},
				},
				Source: storage.Source{
					FeedURL: src.URL,
					ID:      "tag:bloomberg.com,2025:politics",
					Title:   "Bloomberg Politics",
					Link:    "https://www.bloomberg.com/politics",
				},
				FirstSeen: normNow,
			}},
		}
		if diff := cmp.Diff(want, got, normIgnoreHTML); diff != "" {
			t.Fatalf("normalize mismatch (-want +got):\n%s", diff)
		}
		a := got.Articles[0]
		normAssertSafe(t, a.Content)
		if !strings.Contains(a.Content, "María Paula Mijares Torres") {
			t.Errorf("Content lacks the byte-exact name")
		}
		if a.Summary == "" || strings.Contains(a.Summary, "<") {
			t.Errorf("Summary = %q, want the text summary", a.Summary)
		}
	})

	t.Run("bloomberg without the original feed", func(t *testing.T) {
		// A parser without KeepOriginalFeed hides the Atom id: the self link
		// identifies the source instead.
		feed, err := gofeed.NewParser().ParseString(string(normFixture(t, "bloomberg-politics.atom")))
		if err != nil {
			t.Fatal(err)
		}
		src := config.Feed{URL: "https://feeds.bloomberg.com/politics/news.atom?via=test"}
		got := n.normalize(feed, src, normURL(t, src.URL), normNow)
		if len(got.Articles) != 1 {
			t.Fatalf("got %d articles, want 1", len(got.Articles))
		}
		if want := "https://feeds.bloomberg.com/politics/news.atom"; got.Articles[0].Source.ID != want {
			t.Errorf("Source.ID = %q, want %q", got.Articles[0].Source.ID, want)
		}
	})

	t.Run("perspectives", func(t *testing.T) {
		src := config.Feed{URL: "https://today-news.example/perspectives.rss", Categories: []string{"Opinion"}, SourceCategories: true}
		got := n.normalize(normParse(t, normFixture(t, "perspectives.rss")), src, normURL(t, src.URL), normNow)
		if len(got.Articles) != 1 {
			t.Fatalf("got %d articles, want 1", len(got.Articles))
		}
		a := got.Articles[0]
		if a.Link != "https://today-news.example/perspectives/ukraine-security-guarantees" {
			t.Errorf("Link = %q", a.Link)
		}
		if a.Content != "" || a.Summary == "" {
			t.Errorf("want the description as Summary only, got Content %d bytes, Summary %d bytes", len(a.Content), len(a.Summary))
		}
		normAssertSafe(t, a.Summary)
		if !strings.Contains(a.Summary, "that our government’s foreign") {
			t.Errorf("Summary lost the curly apostrophe")
		}
		if want := time.Date(2025, 8, 17, 18, 0, 0, 0, time.UTC); !a.Published.Equal(want) {
			t.Errorf("Published = %v, want %v", a.Published, want)
		}
		wantCats := []storage.Category{
			{Slug: "commentary", Name: "Commentary"},
			{Slug: "foreign-policy-international-relations", Name: "Foreign Policy & International Relations"},
			{Slug: "opinion", Name: "Opinion"},
			{Slug: "u-s-russia-relations", Name: "U.S.–Russia Relations"},
		}
		if diff := cmp.Diff(wantCats, a.Categories); diff != "" {
			t.Errorf("categories (-want +got):\n%s", diff)
		}
		if a.Source.ID != src.URL || a.Source.Title != "Today News Perspectives" {
			t.Errorf("Source = %+v", a.Source)
		}
	})
}

// normAssertSafe fails when html carries script or an event handler or a
// javascript: URL.
func normAssertSafe(t *testing.T, html string) {
	t.Helper()
	lower := strings.ToLower(html)
	for _, bad := range []string{"<script", "onerror", "onload", "javascript:", "<iframe", "<style"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML contains %q: %s", bad, html)
		}
	}
}

// normRSS wraps item elements in an RSS 2.0 document.
func normRSS(items ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Test &amp; Feed</title><link>/site/</link>` + strings.Join(items, "\n") + `</channel></rss>`)
}

func TestNormalizeFilters(t *testing.T) {
	feed := normRSS(
		`<item><title>Ukraine talks</title><guid>1</guid></item>`,
		`<item><title>Sponsored: Ukraine travel deals</title><guid>2</guid></item>`,
		`<item><title>Cricket scores</title><guid>3</guid><description>Nothing about the war</description></item>`,
		`<item><title>Markets</title><guid>4</guid><description>&lt;p&gt;Russia sanctions weigh on oil&lt;/p&gt;</description></item>`,
	)
	tests := []struct {
		name             string
		include, exclude string
		wantGUIDs        []string
		wantFiltered     int
	}{
		{name: "none", wantGUIDs: []string{"1", "2", "3", "4"}},
		{name: "include title or text", include: `(?i)ukraine|russia`, wantGUIDs: []string{"1", "2", "4"}, wantFiltered: 1},
		{name: "exclude", exclude: `(?i)sponsored`, wantGUIDs: []string{"1", "3", "4"}, wantFiltered: 1},
		{name: "both", include: `(?i)ukraine|russia`, exclude: `(?i)sponsored`, wantGUIDs: []string{"1", "4"}, wantFiltered: 2},
		{name: "exclude matches text not markup", exclude: `<p>`, wantGUIDs: []string{"1", "2", "3", "4"}},
		{name: "all dropped", include: `nothing matches this`, wantFiltered: 4},
	}
	n := newNormalizer(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Feed{URL: "https://example.com/feed"}
			if tt.include != "" {
				src.Include = regexp.MustCompile(tt.include)
			}
			if tt.exclude != "" {
				src.Exclude = regexp.MustCompile(tt.exclude)
			}
			got := n.normalize(normParse(t, feed), src, normURL(t, src.URL), normNow)
			var guids []string
			for _, a := range got.Articles {
				guids = append(guids, a.GUID)
			}
			if diff := cmp.Diff(tt.wantGUIDs, guids); diff != "" {
				t.Errorf("kept GUIDs (-want +got):\n%s", diff)
			}
			if got.Filtered != tt.wantFiltered {
				t.Errorf("Filtered = %d, want %d", got.Filtered, tt.wantFiltered)
			}
		})
	}
}

func TestNormalizeItems(t *testing.T) {
	base := "https://example.com/blog/feed.xml"
	tests := []struct {
		name  string
		items []string
		// check inspects the articles of the feed.
		check func(t *testing.T, got []storage.Article)
	}{
		{
			name: "duplicate GUIDs keep the first",
			items: []string{
				`<item><title>First</title><guid>same</guid></item>`,
				`<item><title>Second</title><guid>same</guid></item>`,
				`<item><title>Third</title><guid> same </guid></item>`,
			},
			check: func(t *testing.T, got []storage.Article) {
				if len(got) != 1 || got[0].Title != "First" {
					t.Errorf("got %d articles, first %q; want only \"First\"", len(got), normFirstTitle(got))
				}
			},
		},
		{
			name:  "relative RSS link resolved against the fetch URL",
			items: []string{`<item><title>T</title><link>posts/one.html?utm_source=rss#top</link></item>`},
			check: func(t *testing.T, got []storage.Article) {
				if want := "https://example.com/blog/posts/one.html"; got[0].Link != want {
					t.Errorf("Link = %q, want %q", got[0].Link, want)
				}
			},
		},
		{
			name:  "permalink GUID used when there is no link",
			items: []string{`<item><title>T</title><guid>https://example.com/p/42</guid></item>`},
			check: func(t *testing.T, got []storage.Article) {
				if got[0].Link != "https://example.com/p/42" || got[0].GUID != "https://example.com/p/42" {
					t.Errorf("Link = %q, GUID = %q", got[0].Link, got[0].GUID)
				}
			},
		},
		{
			name:  "non-http link dropped",
			items: []string{`<item><title>T</title><link>javascript:alert(1)</link><guid>x</guid></item>`},
			check: func(t *testing.T, got []storage.Article) {
				if got[0].Link != "" {
					t.Errorf("Link = %q, want empty", got[0].Link)
				}
			},
		},
		{
			name: "untitled items titled from their text",
			items: []string{
				`<item><guid>a</guid><description>&lt;p&gt;A short note &lt;b&gt;about&lt;/b&gt; nothing.&lt;/p&gt;</description></item>`,
				`<item><guid>b</guid><description>` + strings.Repeat("word ", 40) + `</description></item>`,
				`<item><guid>c</guid></item>`,
			},
			check: func(t *testing.T, got []storage.Article) {
				want := []string{"A short note about nothing.", strings.TrimSpace(strings.Repeat("word ", 16)) + "…", "(untitled)"}
				var titles []string
				for _, a := range got {
					titles = append(titles, a.Title)
				}
				if diff := cmp.Diff(want, titles); diff != "" {
					t.Errorf("titles (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:  "identical content and description kept once as content",
			items: []string{`<item><guid>a</guid><description>&lt;p&gt;Same&lt;/p&gt;</description><content:encoded>&lt;p&gt;Same&lt;/p&gt;</content:encoded></item>`},
			check: func(t *testing.T, got []storage.Article) {
				if got[0].Content != "<p>Same</p>" || got[0].Summary != "" {
					t.Errorf("Content = %q, Summary = %q", got[0].Content, got[0].Summary)
				}
			},
		},
		{
			name:  "relative URLs in content resolved against the item link",
			items: []string{`<item><guid>a</guid><link>https://other.example/2025/post/</link><content:encoded><![CDATA[<p><a href="../about">about</a> <img src="i.png" srcset="i.png 1x, /i@2x.png 2x"></p>]]></content:encoded></item>`},
			check: func(t *testing.T, got []storage.Article) {
				want := `<p><a href="https://other.example/2025/about" rel="nofollow noopener" target="_blank">about</a> <img src="https://other.example/2025/post/i.png" srcset="https://other.example/2025/post/i.png 1x, https://other.example/i@2x.png 2x"></p>`
				if got[0].Content != want {
					t.Errorf("Content =\n%s\nwant\n%s", got[0].Content, want)
				}
			},
		},
		{
			name:  "author from dc:creator, tags stripped",
			items: []string{`<item><guid>a</guid><dc:creator>  Jane &lt;b&gt;Doe&lt;/b&gt; </dc:creator></item>`},
			check: func(t *testing.T, got []storage.Article) {
				if got[0].Author != "Jane Doe" {
					t.Errorf("Author = %q", got[0].Author)
				}
			},
		},
		{
			name:  "future and missing dates are unknown (storage uses first-seen)",
			items: []string{`<item><guid>a</guid><pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate></item>`, `<item><guid>b</guid></item>`},
			check: func(t *testing.T, got []storage.Article) {
				for _, a := range got {
					if !a.Published.IsZero() || !a.Updated.IsZero() || !a.FirstSeen.Equal(normNow) {
						t.Errorf("%s: Published %v, Updated %v, FirstSeen %v; want zero, zero, %v", a.GUID, a.Published, a.Updated, a.FirstSeen, normNow)
					}
				}
			},
		},
	}
	n := newNormalizer(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Feed{URL: base}
			got := n.normalize(normParse(t, normRSS(tt.items...)), src, normURL(t, base), normNow)
			if len(got.Articles) == 0 {
				t.Fatal("no articles")
			}
			tt.check(t, got.Articles)
		})
	}
}

// normFirstTitle returns the title of the first article, or "".
func normFirstTitle(as []storage.Article) string {
	if len(as) == 0 {
		return ""
	}
	return as[0].Title
}

func TestNormalizeStableIDWithoutGUIDOrLink(t *testing.T) {
	data := normRSS(
		`<item><title>No identity</title><description>Just words.</description></item>`,
		`<item><title>No identity</title><description>Other words.</description></item>`,
	)
	n := newNormalizer(nil)
	src := config.Feed{URL: "https://example.com/feed"}
	first := n.normalize(normParse(t, data), src, normURL(t, src.URL), normNow)
	second := n.normalize(normParse(t, data), src, normURL(t, src.URL), normNow.Add(time.Hour))
	if len(first.Articles) != 2 || len(second.Articles) != 2 {
		t.Fatalf("got %d and %d articles, want 2 and 2", len(first.Articles), len(second.Articles))
	}
	for i := range first.Articles {
		if first.Articles[i].ID != second.Articles[i].ID {
			t.Errorf("item %d: ID %s then %s", i, first.Articles[i].ID, second.Articles[i].ID)
		}
		if !normValidID(first.Articles[i].ID) {
			t.Errorf("item %d: ID %q is not 32 hex digits", i, first.Articles[i].ID)
		}
	}
	if first.Articles[0].ID == first.Articles[1].ID {
		t.Errorf("two different items share the ID %s", first.Articles[0].ID)
	}
}

// normValidID reports whether id is 32 lower-case hex digits.
func normValidID(id string) bool {
	return regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id)
}

func TestNormalizeNilSafety(t *testing.T) {
	pub := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	tests := []struct {
		name string
		feed *gofeed.Feed
		base *url.URL
		want int
	}{
		{name: "nil feed", feed: nil},
		{name: "empty feed", feed: &gofeed.Feed{}},
		{name: "nil items and people", feed: &gofeed.Feed{
			Authors: []*gofeed.Person{nil},
			Items: []*gofeed.Item{nil, {
				Authors:         []*gofeed.Person{nil, {Email: "a@example.com"}},
				PublishedParsed: nil,
				UpdatedParsed:   &pub,
			}, nil},
		}, want: 1},
		{name: "nil base", feed: &gofeed.Feed{Link: "/rel", FeedLink: "rel.xml", Items: []*gofeed.Item{{Link: "/a", Content: `<a href="/x">x</a>`}}}, want: 1},
	}
	n := newNormalizer(normCategories())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Feed{URL: "https://example.com/feed", SourceCategories: true}
			got := n.normalize(tt.feed, src, tt.base, normNow)
			if len(got.Articles) != tt.want {
				t.Fatalf("got %d articles, want %d", len(got.Articles), tt.want)
			}
			if got.Title != "example.com" {
				t.Errorf("Title = %q, want the host of the source URL", got.Title)
			}
			for _, a := range got.Articles {
				if a.Published.Location() != time.UTC || a.Updated.Before(a.Published) || a.Published.After(normNow) {
					t.Errorf("bad times: published %v, updated %v", a.Published, a.Updated)
				}
			}
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	feed := normParse(b, normFixture(b, "livemint-world.rss"))
	n := newNormalizer(normCategories())
	src := config.Feed{URL: "https://www.livemint.com/rss/world", Categories: []string{"World"}, SourceCategories: true}
	base := normURL(b, src.URL)
	b.ReportAllocs()
	for b.Loop() {
		n.normalize(feed, src, base, normNow)
	}
}

func TestNormalizeConcurrent(t *testing.T) {
	// One normalizer serves every fetch goroutine; run with -race.
	n := newNormalizer(normCategories())
	feed := normParse(t, normFixture(t, "livemint-world.rss"))
	src := config.Feed{URL: "https://www.livemint.com/rss/world", SourceCategories: true}
	base := normURL(t, src.URL)
	want := n.normalize(feed, src, base, normNow)
	results := make(chan normalized, 8)
	for range cap(results) {
		go func() { results <- n.normalize(feed, src, base, normNow) }()
	}
	for range cap(results) {
		if diff := cmp.Diff(want, <-results); diff != "" {
			t.Errorf("concurrent result differs (-want +got):\n%s", diff)
		}
	}
}
