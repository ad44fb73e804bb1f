package fetcher

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary/tributary/storage"
)

// manyItemsFeed returns an RSS feed of n tiny items, item i published i
// minutes before base, in a shuffled order; every tenth item has no date.
func manyItemsFeed(n int, base time.Time) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>many</title><link>http://many.test/</link>`)
	r := rand.New(rand.NewPCG(1, 2))
	for _, i := range r.Perm(n) {
		date := ""
		if i%10 != 0 {
			date = "<pubDate>" + base.Add(-time.Duration(i)*time.Minute).Format(time.RFC1123Z) + "</pubDate>"
		}
		fmt.Fprintf(&b, "<item><title>item %d</title><link>http://many.test/%d</link>%s</item>", i, i, date)
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

// TestMaxItemsKeepsNewest fetches a feed of 5,000 items in shuffled order
// into a real store with the default fetch.max_items: the newest 1,000
// are stored (the undated ones counting as seen now), the Result says how
// many the feed had, and a second fetch of the same items stores nothing
// new.
func TestMaxItemsKeepsNewest(t *testing.T) {
	const n = 5000
	clock := newTestClock()
	srv := newFeedServer(t)
	u := srv.set("/many.rss", route{body: manyItemsFeed(n, clock.Now().Add(-time.Hour))})
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{Now: clock.Now})

	r := fetchOne(t, f, u)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.New != 1000 || r.Items != n || r.OverMax != n-1000 {
		t.Errorf("new %d, items %d, over max %d; want 1000, %d, %d", r.New, r.Items, r.OverMax, n, n-1000)
	}
	// The 500 undated items (i%10 == 0) count as seen now, the newest of
	// all; then the dated ones from the newest, i = 1, 2, …
	var want []string
	for i := range n {
		if i%10 == 0 {
			want = append(want, fmt.Sprintf("item %d", i))
		}
	}
	for i := 0; len(want) < 1000; i++ {
		if i%10 != 0 {
			want = append(want, fmt.Sprintf("item %d", i))
		}
	}
	got := storedTitles(t, store, "news")
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("stored items (-want +got):\n%s", diff)
	}
	clock.Advance(time.Hour)
	if r := fetchOne(t, f, u); r.New != 0 || r.Err != nil {
		t.Errorf("second fetch: %d new, error %v; want 0, nil", r.New, r.Err)
	}
}

// TestMaxItemsDatedFeed keeps the newest 10 of 50 dated items.
func TestMaxItemsDatedFeed(t *testing.T) {
	clock := newTestClock()
	srv := newFeedServer(t)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>dated</title>`)
	for _, i := range rand.New(rand.NewPCG(3, 4)).Perm(50) {
		fmt.Fprintf(&b, "<item><title>item %d</title><link>http://dated.test/%d</link><pubDate>%s</pubDate></item>",
			i, i, clock.Now().Add(-time.Duration(i+1)*time.Hour).Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>")
	u := srv.set("/dated.rss", route{body: []byte(b.String())})
	cfg := testConfig(feedsAt(u)...)
	cfg.Fetch.MaxItems = 10
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
	if r := fetchOne(t, f, u); r.New != 10 || r.OverMax != 40 {
		t.Errorf("new %d, over max %d; want 10, 40", r.New, r.OverMax)
	}
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("item %d", i))
	}
	if diff := cmp.Diff(want, storedTitles(t, store, "news")); diff != "" {
		t.Errorf("stored items, newest first (-want +got):\n%s", diff)
	}
}

// storedTitles returns the titles of the articles of category slug,
// newest first.
func storedTitles(t *testing.T, store *storage.Store, slug string) []string {
	t.Helper()
	arts, err := store.Latest(t.Context(), slug, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, a := range arts {
		titles = append(titles, a.Title)
	}
	return titles
}

// stalledStore is a real store whose SaveArticles waits until its context
// ends, as a save stuck behind a slow disk would.
type stalledStore struct {
	*storage.Store
}

func (s stalledStore) SaveArticles(ctx context.Context, _ []storage.Article) (storage.SaveResult, error) {
	<-ctx.Done()
	return storage.SaveResult{}, ctx.Err()
}

// TestSaveBoundedByTimeout: a save that does not finish within
// fetch.timeout ends the fetch with outcome "timeout", and the source's
// validators are not stored, so that the next fetch gets the feed again.
func TestSaveBoundedByTimeout(t *testing.T) {
	clock := newTestClock()
	srv := newFeedServer(t)
	u := srv.set("/feed.rss", route{body: fetchFixture(t, "livemint-world.rss"), etag: `"v1"`})
	cfg := testConfig(feedsAt(u)...)
	cfg.Fetch.Timeout = 200 * time.Millisecond
	store := stalledStore{newTestStore(t, clock.Now)}
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
	r := fetchOne(t, f, u)
	if r.Outcome != "timeout" || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("outcome %q, error %v; want timeout, deadline exceeded", r.Outcome, r.Err)
	}
	if !strings.Contains(r.Err.Error(), "save articles: not done within 200ms (fetch.timeout)") {
		t.Errorf("error %q does not say the save ran out of time", r.Err)
	}
	st, _, err := store.SourceState(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if st.ETag != "" || st.Outcome != "timeout" {
		t.Errorf("stored state: ETag %q, outcome %q; want no ETag, timeout", st.ETag, st.Outcome)
	}
}

// TestItemFieldCaps fetches one hostile item into a real store: 20,000
// categories (filed under with source_categories), a 5,000-rune title of
// two-byte letters and 2 MB of content. The article is stored with 32 of
// its categories, a title cut to 1 KB of whole runes and content cut
// to 1 MB.
func TestItemFieldCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>caps</title><item><link>http://caps.test/1</link>`)
	b.WriteString("<title>" + strings.Repeat("é", 5000) + "</title>")
	for i := range 20000 {
		fmt.Fprintf(&b, "<category>topic %d</category>", i)
	}
	b.WriteString("<description>" + strings.Repeat("&lt;p&gt;paragraph&lt;/p&gt;", 2<<20/len("<p>paragraph</p>")+1) + "</description>")
	b.WriteString("</item></channel></rss>")
	srv := newFeedServer(t)
	u := srv.set("/caps.rss", route{body: []byte(b.String())})
	feeds := feedsAt(u)
	feeds[0].SourceCategories = true
	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, testConfig(feeds...), store, Options{Now: clock.Now})
	if r := fetchOne(t, f, u); r.New != 1 || r.Err != nil {
		t.Fatalf("new %d, error %v; want 1, nil", r.New, r.Err)
	}
	arts, err := store.Latest(t.Context(), "news", 10)
	if err != nil || len(arts) != 1 {
		t.Fatalf("Latest: %d articles, error %v", len(arts), err)
	}
	a := arts[0]
	if len(a.Categories) != 1+maxItemCategories {
		t.Errorf("%d categories, want %d (News and the item's first %d)", len(a.Categories), 1+maxItemCategories, maxItemCategories)
	}
	if a.Title != strings.Repeat("é", 512) {
		t.Errorf("title of %d bytes (%q…), want 512 é", len(a.Title), a.Title[:min(len(a.Title), 10)])
	}
	if n := len(a.Content) + len(a.Summary); n > maxContentBytes || n < maxContentBytes/2 {
		t.Errorf("content of %d bytes, want at most %d", n, maxContentBytes)
	}
	cats, err := store.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) > 2+maxItemCategories {
		t.Errorf("%d categories in the store, want at most %d", len(cats), 2+maxItemCategories)
	}
}

func TestCutUTF8(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"},
		{"aé", 3, "aé"},
		{"€€", 4, "€"},
		{"€", 0, ""},
	}
	for _, tc := range tests {
		if got := cutUTF8(tc.s, tc.n); got != tc.want {
			t.Errorf("cutUTF8(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
