package feedout

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/storage"
)

// viewSecret is the secret of the private feeds of viewFixture.
const viewSecret = config.Secret("a secret of more than sixteen bytes")

// copyFrom returns another source's copy of a: same link, so that the
// store merges it into a's story.
func copyFrom(a storage.Article, n int) storage.Article {
	a.ID = fmt.Sprintf("c%x", n) + a.ID[2:]
	a.GUID = fmt.Sprintf("https://copy%d.example/%s", n, a.ID)
	feed := fmt.Sprintf("https://copy%d.example/feed", n)
	a.Source = storage.Source{FeedURL: feed, ID: feed, Title: fmt.Sprintf("Copy %d", n), Link: fmt.Sprintf("https://copy%d.example/", n)}
	return a
}

// viewFixture serves from a real store ten World stories published a
// minute apart from 1 March 2026 00:00 ("Story 0" … "Story 9"), of which
// Story 7 was carried by three sources and Story 3 by two, with the views
// top (by coverage, at least 2 sources, 1 per page), recent (World in a
// 5-minute window at 00:09:30) and hidden (private, by coverage), and the
// private category politics (Story 20).
func viewFixture(t *testing.T) http.Handler {
	t.Helper()
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(t, func() time.Time { return clock })
	world := storage.Category{Slug: "world", Name: "World"}
	arts := seqArticles(0, 10, world)
	saveAll(t, store, arts)
	saveAll(t, store, []storage.Article{copyFrom(arts[7], 1), copyFrom(arts[7], 2), copyFrom(arts[3], 1)})
	politics := seqArticles(20, 1, storage.Category{Slug: "politics", Name: "Politics"})
	saveAll(t, store, politics)
	return NewHandler(store, Options{
		Title:      "Today News",
		BaseURL:    "https://news.example.org",
		PageSize:   5,
		Categories: []storage.Category{world, {Slug: "politics", Name: "Politics"}},
		Views: []config.View{
			{Name: "Top", Slug: "top", Sort: config.SortCoverage, MinSources: 2, PageSize: 1},
			{Name: "Recent", Slug: "recent", Categories: []string{"world"}, Sort: config.SortNewest, MinSources: 1, Window: 5 * time.Minute, PageSize: 10},
			{Name: "Hidden", Slug: "hidden", Sort: config.SortCoverage, MinSources: 1, PageSize: 10, Private: true},
		},
		AccessKeys: map[string]string{
			"hidden":   config.AccessKey(viewSecret, "hidden"),
			"politics": config.AccessKey(viewSecret, "politics"),
		},
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Now:    func() time.Time { return time.Date(2026, 3, 1, 0, 9, 30, 0, time.UTC) },
	})
}

// entryTitles returns the titles of the entries of an Atom document.
func entryTitles(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	for _, e := range feedcheck.Parse(t, body).Entries {
		out = append(out, strings.TrimSuffix(e.Title, ": markets & <policy>"))
	}
	return out
}

// get serves GET target and fails the test unless the status is want.
func get(t *testing.T, h http.Handler, target string, want int) *httptest.ResponseRecorder {
	t.Helper()
	rec := serve(h, "GET", target, nil)
	if rec.Code != want {
		t.Fatalf("GET %s: %d, want %d: %s", target, rec.Code, want, rec.Body)
	}
	return rec
}

func TestViewsServedLikeCategories(t *testing.T) {
	t.Parallel()
	h := viewFixture(t)
	tests := []struct {
		name, target string
		want         []string
	}{
		{"coverage view walks by coverage", "/feeds/top.atom?limit=10", []string{"Story 7", "Story 3"}},
		{"window view", "/feeds/recent.atom", []string{"Story 9", "Story 8", "Story 7", "Story 6", "Story 5"}},
		{"window view with since", "/feeds/recent.atom?since=2026-03-01T00:07:00Z", []string{"Story 9", "Story 8", "Story 7"}},
		{"category with since", "/feeds/world.atom?since=2026-03-01T01:07:00%2B01:00", []string{"Story 9", "Story 8", "Story 7"}},
		{"category with words, any case, any order", "/feeds/world.atom?q=PARAGRAPH+3", []string{"Story 3"}},
		{"words must all match", "/feeds/world.atom?q=paragraph+nowhere", nil},
		{"coverage view with words", "/feeds/top.atom?q=story+7", []string{"Story 7"}},
	}
	docs := map[string][]byte{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.target, http.StatusOK)
			docs[tt.name] = rec.Body.Bytes()
			if diff := cmp.Diff(tt.want, entryTitles(t, rec.Body.Bytes())); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("valid", func(t *testing.T) { feedcheck.Atom(t, docs) })
}

// TestViewPagingByCoverage walks a coverage view one entry per page with
// its next links and back with its previous links.
func TestViewPagingByCoverage(t *testing.T) {
	t.Parallel()
	h := viewFixture(t)
	var titles, pages []string
	for target := "/feeds/top.atom"; target != "" && len(pages) < 5; {
		body := get(t, h, target, http.StatusOK).Body.Bytes()
		pages = append(pages, target)
		titles = append(titles, entryTitles(t, body)...)
		target = linkOf(feedcheck.Parse(t, body), "next")
	}
	if diff := cmp.Diff([]string{"Story 7", "Story 3"}, titles); diff != "" {
		t.Fatalf("walked (-want +got):\n%s", diff)
	}
	prev := linkOf(feedcheck.Parse(t, get(t, h, pages[len(pages)-1], http.StatusOK).Body.Bytes()), "previous")
	if got := entryTitles(t, get(t, h, prev, http.StatusOK).Body.Bytes()); !cmp.Equal(got, []string{"Story 7"}) {
		t.Errorf("previous of the last page: %v", got)
	}
	// A time-index cursor is no coverage cursor.
	get(t, h, "/feeds/top.atom?before="+strings.Repeat("A", 54), http.StatusBadRequest)
}

// TestViewEntriesNameTheirSources checks that every format, and the page,
// says how many sources carried a story and which.
func TestViewEntriesNameTheirSources(t *testing.T) {
	t.Parallel()
	h := viewFixture(t)
	atom := feedcheck.Parse(t, get(t, h, "/feeds/top.atom", http.StatusOK).Body.Bytes())
	var via []string
	for _, l := range atom.Entries[0].Links {
		if l.Rel == "via" {
			via = append(via, l.Href)
		}
	}
	if len(via) != 2 {
		t.Errorf("atom via links %v, want one per other source", via)
	}

	rssBody := get(t, h, "/feeds/top.rss", http.StatusOK).Body.Bytes()
	var rss struct {
		Items []struct {
			Sources struct {
				Count   int `xml:"count,attr"`
				Sources []struct {
					URL   string `xml:"url,attr"`
					Title string `xml:",chardata"`
				} `xml:"source"`
			} `xml:"https://github.com/tributary/tributary#rss-sources sources"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(rssBody, &rss); err != nil {
		t.Fatal(err)
	}
	if got := rss.Items[0].Sources; got.Count != 3 || len(got.Sources) != 3 || got.Sources[0].URL != "https://copy1.example/feed" {
		t.Errorf("rss tributary:sources = %+v", got)
	}
	feedcheck.RSS(t, map[string][]byte{"top.rss": rssBody})

	jsonBody := get(t, h, "/feeds/top.json", http.StatusOK).Body.Bytes()
	var jf struct {
		Items []struct {
			Tributary struct {
				About       string `json:"about"`
				SourceCount int    `json:"source_count"`
				Sources     []struct {
					Title string `json:"title"`
				} `json:"sources"`
			} `json:"_tributary"`
		} `json:"items"`
	}
	if err := json.Unmarshal(jsonBody, &jf); err != nil {
		t.Fatal(err)
	}
	if got := jf.Items[0].Tributary; got.SourceCount != 3 || len(got.Sources) != 3 || got.About == "" {
		t.Errorf("json _tributary = %+v", got)
	}
	feedcheck.JSONFeed(t, map[string][]byte{"top.json": jsonBody})

	page := get(t, h, "/c/top", http.StatusOK).Body.String()
	if !strings.Contains(page, "reported by 3 sources: Copy 1, Copy 2, Source 1") {
		t.Errorf("/c/top lacks the sources line:\n%s", page)
	}
}

// TestPrivateFeedsAreUnknownWithoutKey compares, byte for byte and header
// for header, the answers to a private feed without its key (none, a wrong
// one, another feed's) with those to a slug that does not exist.
func TestPrivateFeedsAreUnknownWithoutKey(t *testing.T) {
	t.Parallel()
	h := viewFixture(t)
	hiddenKey, politicsKey := config.AccessKey(viewSecret, "hidden"), config.AccessKey(viewSecret, "politics")
	for _, path := range []string{"/feeds/%s.atom", "/feeds/%s.json", "/c/%s"} {
		unknown := serve(h, "GET", fmt.Sprintf(path, "nothing")+"?key="+hiddenKey, nil)
		for _, target := range []string{
			fmt.Sprintf(path, "hidden"),
			fmt.Sprintf(path, "hidden") + "?key=wrong",
			fmt.Sprintf(path, "hidden") + "?key=" + politicsKey,
			fmt.Sprintf(path, "hidden") + "?key=" + hiddenKey[:21],
			fmt.Sprintf(path, "politics") + "?limit=0",
		} {
			got := serve(h, "GET", target, nil)
			if got.Code != http.StatusNotFound || got.Body.String() != unknown.Body.String() || !cmp.Equal(got.Header(), unknown.Header()) {
				t.Errorf("GET %s: %d %v %q; unknown slug: %d %v %q", target, got.Code, got.Header(), got.Body, unknown.Code, unknown.Header(), unknown.Body)
			}
		}
	}
	// With its key: served, and every link carries the key.
	atom := feedcheck.Parse(t, get(t, h, "/feeds/hidden.atom?limit=1&key="+hiddenKey, http.StatusOK).Body.Bytes())
	for _, rel := range []string{"self", "first", "next", "alternate"} {
		if l := linkOf(atom, rel); !strings.Contains(l, "key="+hiddenKey) {
			t.Errorf("link %s = %q: no key", rel, l)
		}
	}
	get(t, h, "/c/politics?key="+politicsKey, http.StatusOK)

	// Listed only with a key of theirs.
	for _, target := range []string{"/", "/opml"} {
		plain := get(t, h, target, http.StatusOK).Body.String()
		if strings.Contains(plain, "hidden") || strings.Contains(plain, "politics") {
			t.Errorf("GET %s lists a private feed", target)
		}
		keyed := get(t, h, target+"?key="+hiddenKey, http.StatusOK).Body.String()
		if !strings.Contains(keyed, "/feeds/hidden.atom?key="+hiddenKey) || strings.Contains(keyed, "politics") {
			t.Errorf("GET %s?key=: want hidden with its key and not politics:\n%s", target, keyed)
		}
		if !strings.Contains(keyed, "/feeds/top.atom") {
			t.Errorf("GET %s?key=: the public feeds are gone", target)
		}
	}
}

// TestPrivateCategoryStaysOutOfPublicFeeds checks that a story filed only in
// a private category is not served by the public feeds that merge
// categories ("all" and public views), and is by the private ones.
func TestPrivateCategoryStaysOutOfPublicFeeds(t *testing.T) {
	t.Parallel()
	h := viewFixture(t)
	tests := []struct {
		target string
		want   bool // Story 20, filed only in the private politics, is served
	}{
		{"/feeds/all.atom?limit=100", false},
		{"/feeds/all.atom?limit=100&q=paragraph", false},
		{"/feeds/hidden.atom?limit=100&key=" + config.AccessKey(viewSecret, "hidden"), true},
		{"/feeds/politics.atom?key=" + config.AccessKey(viewSecret, "politics"), true},
	}
	for _, tt := range tests {
		titles := entryTitles(t, get(t, h, tt.target, http.StatusOK).Body.Bytes())
		if got := slices.Contains(titles, "Story 20"); got != tt.want || !tt.want && !slices.Contains(titles, "Story 9") {
			t.Errorf("GET %s: entries %q; Story 20 served: %v, want %v", tt.target, titles, got, tt.want)
		}
	}
}

func TestFeedFilterErrors(t *testing.T) {
	t.Parallel()
	h := viewFixture(t)
	tests := []struct {
		name, target, want string
	}{
		{"since not a time", "/feeds/world.atom?since=yesterday", "since must be an RFC 3339 time"},
		{"since without zone", "/feeds/top.rss?since=2026-03-01T00:00:00", "since must be an RFC 3339 time"},
		{"q too long", "/feeds/world.json?q=" + strings.Repeat("a", 201), "q must be at most 200 bytes"},
		{"q too many words", "/feeds/world.atom?q=w0+w1+w2+w3+w4+w5+w6+w7+w8+w9+w10", "q must have at most 10 words"},
		{"q not UTF-8", "/feeds/world.atom?q=%ff", "q must be UTF-8 text"},
		{"view limit above its bound", "/feeds/top.atom?limit=201", "limit must be an integer from 1 to 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.target, http.StatusBadRequest)
			if !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("body %q lacks %q", rec.Body, tt.want)
			}
		})
	}
}

// TestFilterCacheKeys checks that the spellings of one query share a cache
// entry and that different queries do not.
func TestFilterCacheKeys(t *testing.T) {
	t.Parallel()
	def := feedDef{slug: "world", pageSize: 50, maxLimit: 200}
	key := func(raw string) string {
		t.Helper()
		p, err := parsePageQuery(raw, def)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		p.slug, p.format = "world", formats()[0]
		return p.cacheKey()
	}
	same := [][]string{
		{"q=Ukraine+talks", "q=talks%20ukraine", "q=talks&q=UKRAINE", "q=+talks++ukraine+talks"},
		{"since=2026-03-01T01:00:00%2B01:00", "since=2026-03-01T00:00:00Z", "since=2026-03-01T00:00:00.5Z"},
		{"", "q=", "q=+", "nocache=1"},
	}
	for _, group := range same {
		for _, raw := range group[1:] {
			if key(raw) != key(group[0]) {
				t.Errorf("%q and %q: cache keys %q and %q", group[0], raw, key(group[0]), key(raw))
			}
		}
	}
	if key("q=ukraine") == key("q=talks") || key("since=2026-03-01T00:00:00Z") == key("") {
		t.Errorf("different queries share a cache key")
	}
}

// FuzzPageQuery parses arbitrary feed queries: no panic, and a query that
// parses has a canonical form that parses to the same cache key.
func FuzzPageQuery(f *testing.F) {
	for _, seed := range []string{
		"", "limit=10", "q=Ukraine+talks&since=2026-03-01T01:00:00%2B01:00", "before=" + strings.Repeat("A", 54),
		"after=" + strings.Repeat("_", 54) + "&limit=200", "q=%ff", "since=yesterday", "key=abc&q=a&q=b",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, coverage bool) {
		def := feedDef{slug: "world", pageSize: 50, maxLimit: 200}
		if coverage {
			def.view = &config.View{Sort: config.SortCoverage}
		}
		p, err := parsePageQuery(raw, def)
		if err != nil {
			return
		}
		p.slug, p.format = "world", formats()[0]
		again, err := parsePageQuery(p.query(p.before, p.after).Encode(), def)
		if err != nil {
			t.Fatalf("canonical query of %q does not parse: %v", raw, err)
		}
		again.slug, again.format = "world", formats()[0]
		if p.cacheKey() != again.cacheKey() {
			t.Errorf("%q: cache key %q, canonical %q", raw, p.cacheKey(), again.cacheKey())
		}
	})
}
