package fetcher

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/websub"
)

// TestIngestStoresLikeFetch stores one feed by a fetch in one database
// and by a push in another: the same articles come out, with the same
// rule applied, and pushing it again adds nothing.
func TestIngestStoresLikeFetch(t *testing.T) {
	body := fetchFixture(t, "livemint-world.rss")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	clock := newTestClock()
	feed := feedsAt(srv.URL + "/feed.xml")
	feed[0].Exclude = regexp.MustCompile(`(?i)markets`)
	cfg := testConfig(feed...)

	fetched := newTestStore(t, clock.Now)
	fr, err := newTestFetcher(t, cfg, fetched, Options{Now: clock.Now}).FetchNow(t.Context())
	if err != nil || fr[0].Err != nil {
		t.Fatalf("fetch: %v %v", err, fr[0].Err)
	}
	pushed := newTestStore(t, clock.Now)
	f := newTestFetcher(t, cfg, pushed, Options{Now: clock.Now})
	pr := f.Ingest(t.Context(), feed[0].URL, body, "application/rss+xml")
	if pr.Err != nil || pr.Outcome != "pushed" {
		t.Fatalf("ingest: %s %v", pr.Outcome, pr.Err)
	}
	counts := func(r Result) []int { return []int{r.Items, r.New, r.Filtered, r.Expired} }
	if diff := cmp.Diff(counts(fr[0]), counts(pr)); diff != "" || pr.New == 0 || pr.Filtered == 0 {
		t.Errorf("push counts (items, new, filtered, expired) differ from the fetch's (-fetch +push):\n%s", diff)
	}
	want, err := fetched.Latest(t.Context(), storage.AllSlug, 100)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pushed.Latest(t.Context(), storage.AllSlug, 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("pushed articles differ from fetched ones (-fetch +push):\n%s", diff)
	}
	again := f.Ingest(t.Context(), feed[0].URL, body, "application/rss+xml")
	if again.New != 0 || again.Err != nil {
		t.Errorf("second push: %d new, %v", again.New, again.Err)
	}
	if st, ok, _ := pushed.SourceState(t.Context(), feed[0].URL); ok {
		t.Errorf("a push wrote fetch state %+v", st)
	}
}

// TestIngestRefuses checks the pushes that cannot be stored.
func TestIngestRefuses(t *testing.T) {
	cfg := testConfig(feedsAt("https://source.example/feed.xml")...)
	cfg.Fetch.MaxBody = 1 << 10
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	tests := []struct {
		name, feedURL, body, outcome string
	}{
		{"unknown source", "https://other.example/feed.xml", "<rss/>", "not-a-feed"},
		{"too large", "https://source.example/feed.xml", string(make([]byte, 2<<10)), "too-large"},
		{"html", "https://source.example/feed.xml", "<html><body>hi</body></html>", "not-a-feed"},
		{"broken", "https://source.example/feed.xml", "<rss><channel><item>", "parse-error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.Ingest(t.Context(), tt.feedURL, []byte(tt.body), "application/xml")
			if r.Err == nil || r.Outcome != tt.outcome {
				t.Errorf("outcome %q, err %v; want %q", r.Outcome, r.Err, tt.outcome)
			}
		})
	}
}

// TestFetchDiscoversHub checks that a fetch reports the hub and topic the
// document and its Link header advertise.
func TestFetchDiscoversHub(t *testing.T) {
	body := fetchFixture(t, "bloomberg-politics.atom")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", `<https://hub.example/>; rel="hub"`)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(feedsAt(srv.URL + "/feed")...)
	f := newTestFetcher(t, cfg, newFakeStore(), Options{Discover: websub.Discover})
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantTopic, _, _ := websubSelf(body)
	if got := []string{res[0].Hub, res[0].Topic}; !cmp.Equal(got, []string{"https://hub.example/", wantTopic}) {
		t.Errorf("hub, topic = %q, want the Link header's hub and %q", got, wantTopic)
	}
}

// websubSelf returns the self link of an Atom document, as Discover sees
// it without headers.
func websubSelf(body []byte) (string, string, bool) {
	_, self := websub.Discover(&url.URL{Scheme: "https", Host: "x.example"}, nil, body)
	return self, "", self != ""
}

// TestPushedSourcePolledAtMaxInterval checks that a source whose documents
// are pushed is polled only every fetch.max_interval, as a safety net.
func TestPushedSourcePolledAtMaxInterval(t *testing.T) {
	body := fetchFixture(t, "perspectives.rss")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	pushedURL, polledURL := srv.URL+"/pushed", srv.URL+"/polled"
	cfg := testConfig(feedsAt(pushedURL, polledURL)...)
	cfg.Fetch.MaxInterval = 6 * time.Hour
	clock := newTestClock()
	store := newFakeStore()
	f := newTestFetcher(t, cfg, store, Options{Now: clock.Now, Pushed: func(u string) bool { return u == pushedURL }})
	if _, err := f.FetchNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	if next := store.state(t, pushedURL).NextDue; next.Before(now.Add(6 * time.Hour)) {
		t.Errorf("pushed source next due at %v, want at least 6h after %v", next, now)
	}
	if next := store.state(t, polledURL).NextDue; next.After(now.Add(time.Hour)) {
		t.Errorf("polled source next due at %v, want within the hour after %v", next, now)
	}
}
