package fetcher

import (
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// testItem is an item of a test RSS feed.
type testItem struct {
	guid, title, link, text string
}

// rssOf returns an RSS feed of items.
func rssOf(title string, items ...testItem) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>http://example.test/</link>`, title)
	for _, it := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><guid isPermaLink="false">%s</guid><link>%s</link><description>%s</description><pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>`,
			html.EscapeString(it.title), it.guid, html.EscapeString(it.link), html.EscapeString(it.text))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// servePage serves the test page file (in ../fulltext/testdata) at path
// of s and returns its URL.
func servePage(t *testing.T, s *netServer, path, file, contentType string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "fulltext", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return s.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	})
}

// serveFeed serves the RSS feed body at path of s and returns its URL.
func serveFeed(s *netServer, path string, body *string) string {
	return s.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, *body)
	})
}

// hitsOf returns the requests s has had for path.
func (s *netServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// storedByGUID returns the articles of store by GUID.
func storedByGUID(t *testing.T, store *storage.Store) map[string]storage.Article {
	t.Helper()
	arts, err := store.Latest(t.Context(), storage.AllSlug, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]storage.Article{}
	for _, a := range arts {
		out[a.GUID] = a
	}
	return out
}

// fetchAll fetches every source of f now and returns the results.
func fetchAll(t *testing.T, f *Fetcher) []Result {
	t.Helper()
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatalf("FetchNow: %v", err)
	}
	return res
}

const craneSummary = "The first crane is back on the quay at Port Elwin."

func TestFullTextOfNewItemsOnly(t *testing.T) {
	srv := newServerOn(t, "127.0.0.1")
	cranes := servePage(t, srv, "/news/cranes.html", "news-article.html", "text/html; charset=utf-8")
	landing := servePage(t, srv, "/news/landing.html", "landing.html", "text/html")
	ferry := servePage(t, srv, "/news/ferry.html", "news-article.html", "text/html")
	gone := srv.URL + "/news/gone.html" // 404
	body := rssOf("Courier",
		testItem{"cranes", "Cranes return", cranes, craneSummary},
		testItem{"landing", "A landing page", landing, "Only links there."},
		testItem{"gone", "A page gone", gone, "Removed since."})
	feedURL := serveFeed(srv, "/feed.xml", &body)
	feed := config.Feed{URL: feedURL, FullText: config.FullText{Enabled: true}}
	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, testConfig(feed), store, Options{Now: clock.Now})

	res := fetchAll(t, f)[0]
	if res.Outcome != outcomeOK || res.New != 3 || res.FullText != 1 || res.FullTextFailed != 2 {
		t.Fatalf("first fetch: %+v, want 3 new, 1 full text, 2 failed", res)
	}
	arts := storedByGUID(t, store)
	got := arts["cranes"]
	for _, want := range []string{"Harbour master Ilse Varga said", "Not everyone is pleased.",
		`src="` + srv.URL + `/news/images/crane-barge.jpg"`, `href="` + srv.URL + `/news/harbour-board-budget"`} {
		if !strings.Contains(got.FullText, want) {
			t.Errorf("full text lacks %q:\n%s", want, got.FullText)
		}
	}
	for _, junk := range []string{"NAVIGATION-MENU", "COMMENT-TEXT", "FOOTER-TEXT", "TRACKING-SCRIPT", "<script", "<form"} {
		if strings.Contains(got.FullText, junk) {
			t.Errorf("full text keeps %q", junk)
		}
	}
	if !strings.Contains(got.Summary, craneSummary) {
		t.Errorf("summary = %q, want the feed's text kept", got.Summary)
	}
	for _, guid := range []string{"landing", "gone"} {
		if a := arts[guid]; a.FullText != "" || a.Summary == "" {
			t.Errorf("%s: full text %q, summary %q; want the feed's text only", guid, a.FullText, a.Summary)
		}
	}
	st, _, _ := store.SourceState(t.Context(), feedURL)
	if st.FullTextFetched != 1 || st.FullTextFailed != 2 || !strings.Contains(st.FullTextError, "404") {
		t.Errorf("state: fetched %d, failed %d, error %q; want 1, 2 and the 404 of the last item", st.FullTextFetched, st.FullTextFailed, st.FullTextError)
	}

	// The feed again, with one more item: only the new item's page is asked.
	body = rssOf("Courier",
		testItem{"ferry", "Ferry adds a crossing", ferry, "A late ferry."},
		testItem{"cranes", "Cranes return", cranes, craneSummary},
		testItem{"landing", "A landing page", landing, "Only links there."},
		testItem{"gone", "A page gone", gone, "Removed since."})
	res = fetchAll(t, f)[0]
	if res.New != 1 || res.Unchanged != 3 || res.FullText != 1 || res.FullTextFailed != 0 {
		t.Errorf("second fetch: %+v, want 1 new with its full text, 3 unchanged", res)
	}
	for path, want := range map[string]int{"/news/cranes.html": 1, "/news/landing.html": 1, "/news/gone.html": 1, "/news/ferry.html": 1} {
		if got := srv.hitsOf(path); got != want {
			t.Errorf("%s requested %d times, want %d", path, got, want)
		}
	}
	if a := storedByGUID(t, store)["cranes"]; a.FullText != got.FullText {
		t.Errorf("the re-fetched item lost its full text")
	}
	st, _, _ = store.SourceState(t.Context(), feedURL)
	if st.FullTextFetched != 2 || st.FullTextFailed != 2 || st.FullTextError != "" {
		t.Errorf("state after a page gave its text: fetched %d, failed %d, error %q", st.FullTextFetched, st.FullTextFailed, st.FullTextError)
	}
}

func TestFullTextSelector(t *testing.T) {
	srv := newServerOn(t, "127.0.0.1")
	post := servePage(t, srv, "/2026/11/leeks.html", "allotment-blog.html", "text/html")
	body := rssOf("Allotment", testItem{"leeks", "Leeks in November", post, "Leeks."})
	feed := config.Feed{URL: serveFeed(srv, "/feed.xml", &body), FullText: config.FullText{Enabled: true, Selector: "div.entry-content"}}
	store := newTestStore(t, nil)
	f := newTestFetcher(t, testConfig(feed), store, Options{})
	if res := fetchAll(t, f)[0]; res.FullText != 1 {
		t.Fatalf("fetch: %+v, want the full text", res)
	}
	got := storedByGUID(t, store)["leeks"].FullText
	for _, want := range []string{"café owners", "the onions failed again", `href="` + srv.URL + `/2026/recipes/leek-soup.html"`, `src="` + srv.URL + `/img/leeks.jpg"`} {
		if !strings.Contains(got, want) {
			t.Errorf("full text lacks %q:\n%s", want, got)
		}
	}
	for _, junk := range []string{"SIDEBAR-ARCHIVE", "ENTRY-META", "FOOTER-TEXT"} {
		if strings.Contains(got, junk) {
			t.Errorf("full text keeps %q", junk)
		}
	}
}

// TestFullTextHostAskedToWait: a page answering 429 with Retry-After
// defers its host, and the other pages of that host are not asked.
func TestFullTextHostAskedToWait(t *testing.T) {
	feeds := newServerOn(t, "127.0.0.1")
	pages := newServerOn(t, "127.0.0.1")
	var items []testItem
	for i := range 3 {
		path := fmt.Sprintf("/p%d.html", i)
		items = append(items, testItem{fmt.Sprint(i), fmt.Sprintf("Item %d", i), pages.handle(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}), "Text."})
	}
	body := rssOf("Busy", items...)
	feed := config.Feed{URL: serveFeed(feeds, "/feed.xml", &body), FullText: config.FullText{Enabled: true}}
	cfg := testConfig(feed)
	cfg.Fetch.PerHost = 1
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	res := fetchAll(t, f)[0]
	asked := 0
	for i := range 3 {
		asked += pages.hitsOf(fmt.Sprintf("/p%d.html", i))
	}
	if asked != 1 || res.FullTextFailed != 3 || res.Outcome != outcomeOK {
		t.Errorf("pages asked %d times, result %+v; want one request, 3 failures, the feed stored", asked, res)
	}
}

// TestFullTextPrivatePageRefused: a source on a public address whose item
// links to a private address gets no page from there.
func TestFullTextPrivatePageRefused(t *testing.T) {
	public := newServerOn(t, publicIP)
	private := newServerOn(t, "127.0.0.1")
	secret := servePage(t, private, "/admin.html", "news-article.html", "text/html")
	body := rssOf("Public", testItem{"x", "Look inside", secret, "Short."})
	feed := config.Feed{URL: serveFeed(public, "/feed.xml", &body), FullText: config.FullText{Enabled: true}}
	store := newFakeStore()
	f := newTestFetcher(t, testConfig(feed), store, Options{IsPrivate: testIsPrivate})
	res := fetchAll(t, f)[0]
	if res.FullTextFailed != 1 || res.FullTextErr == nil || !strings.Contains(res.FullTextErr.Error(), "private") {
		t.Errorf("result %+v, want the page refused", res)
	}
	if n := private.hitsOf("/admin.html"); n != 0 {
		t.Errorf("the private page was asked %d times", n)
	}
}

// TestFullTextCredentialsStayHome: a source's headers go to its own host's
// pages only.
func TestFullTextCredentialsStayHome(t *testing.T) {
	home := newServerOn(t, "127.0.0.1")
	other := newServerOn(t, "127.0.0.1")
	seen := map[string]string{}
	record := func(name string) http.HandlerFunc {
		page, _ := os.ReadFile(filepath.Join("..", "fulltext", "testdata", "news-article.html"))
		return func(w http.ResponseWriter, r *http.Request) {
			home.mu.Lock()
			seen[name] = r.Header.Get("X-Api-Key")
			home.mu.Unlock()
			_, _ = w.Write(page)
		}
	}
	body := rssOf("Members",
		testItem{"a", "Home page", home.handle("/a.html", record("home")), "Short."},
		testItem{"b", "Elsewhere", other.handle("/b.html", record("other")), "Short."})
	feed := config.Feed{URL: serveFeed(home, "/feed.xml", &body), FullText: config.FullText{Enabled: true},
		Headers: map[string]config.Secret{"X-Api-Key": "k3y"}}
	f := newTestFetcher(t, testConfig(feed), newFakeStore(), Options{})
	if res := fetchAll(t, f)[0]; res.FullText != 2 {
		t.Fatalf("result %+v, want both full texts", res)
	}
	if diff := cmp.Diff(map[string]string{"home": "k3y", "other": ""}, seen); diff != "" {
		t.Errorf("X-Api-Key seen by each host (-want +got):\n%s", diff)
	}
}

// TestFullTextMergesAsWithout: two sources carry the same story, one with
// fulltext, one summary-only; a third story of each source is distinct.
// The stories stored are the same as without fulltext, copy for copy.
func TestFullTextMergesAsWithout(t *testing.T) {
	srv := newServerOn(t, "127.0.0.1")
	cranesPage := servePage(t, srv, "/wire/cranes.html", "news-article.html", "text/html")
	ferryPage := servePage(t, srv, "/wire/ferry.html", "news-article.html", "text/html")
	const cranesText = "The first of four container cranes was lifted onto the quay at Port Elwin on Tuesday, ending ten years in which the harbour handled no container traffic."
	wireBody := rssOf("Wire",
		testItem{"w-cranes", "Harbour cranes return to Port Elwin after a decade", cranesPage, cranesText},
		testItem{"w-ferry", "Ferry company adds a late crossing for dock crews", ferryPage,
			"The ferry company will run a crossing at eleven at night from January to carry the crews of the container ships."})
	paperBody := rssOf("Paper",
		testItem{"p-cranes", "Harbour cranes return to Port Elwin after a decade", srv.URL + "/paper/cranes", cranesText},
		testItem{"p-library", "Town library opens on Sundays from spring", srv.URL + "/paper/library",
			"The library on Quay Street will open on Sunday afternoons from April after volunteers offered to staff it."})
	wire, paper := serveFeed(srv, "/wire.xml", &wireBody), serveFeed(srv, "/paper.xml", &paperBody)

	// The sources are fetched one after the other, in both orders: a
	// story's ID is that of the copy stored first.
	stories := func(fullText bool, order ...string) ([]storage.Article, int) {
		clock := newTestClock()
		store := newTestStore(t, clock.Now)
		cfg := testConfig(config.Feed{URL: wire, FullText: config.FullText{Enabled: fullText}}, config.Feed{URL: paper})
		f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
		fetched := 0
		for _, u := range order {
			res, err := f.FetchNow(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			fetched += res[0].FullText
		}
		arts, err := store.Latest(t.Context(), storage.AllSlug, 100)
		if err != nil {
			t.Fatal(err)
		}
		for i := range arts {
			arts[i].FullText = ""
		}
		return arts, fetched
	}
	for _, order := range [][]string{{wire, paper}, {paper, wire}} {
		without, _ := stories(false, order...)
		with, fetched := stories(true, order...)
		if fetched != 2 {
			t.Fatalf("%d full texts fetched, want 2", fetched)
		}
		if len(without) != 3 {
			t.Fatalf("without fulltext: %d stories, want 3 (cranes merged)", len(without))
		}
		if diff := cmp.Diff(without, with); diff != "" {
			t.Errorf("stories, %s first (-without fulltext +with):\n%s", order[0], diff)
		}
	}
}
