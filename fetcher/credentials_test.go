package fetcher

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

// privateFeed is an RSS feed whose links are relative, so that they are
// resolved against the URL it was fetched from.
const privateFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Private</title><link>/</link><description>members only</description>
<item><title>One</title><link>/post/1</link><guid isPermaLink="false">one</guid>
<description>&lt;a href="/more"&gt;more&lt;/a&gt;&lt;img src="pic.png"&gt;</description></item>
</channel></rss>`

// secrets are what a source's URL, auth and headers carry in these tests;
// none may appear in anything tributary shows.
var secrets = []string{"s3cretpw", "tok123", "alice:", "hdr-secret"}

// checkNoSecret fails the test if s contains one of secrets.
func checkNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains %q: %s", what, secret, s)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// withSecrets returns rawURL with the user alice:s3cretpw and the query
// token=tok123.
func withSecrets(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("alice", "s3cretpw")
	u.RawQuery = "token=tok123"
	return u.String()
}

// TestSecretsNotShown fetches a source whose URL carries a password and a
// token, once successfully and twice failing, and checks that the results,
// the stored state, the logs and the stored articles never show them.
func TestSecretsNotShown(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/feed", route{body: []byte(privateFeed), contentType: "application/rss+xml"})
	fs.set("/broken", route{status: http.StatusInternalServerError})
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more

	okURL := withSecrets(t, fs.URL+"/feed")
	brokenURL := withSecrets(t, fs.URL+"/broken")
	downURL := withSecrets(t, down.URL+"/feed")
	store := newFakeStore()
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newTestFetcher(t, testConfig(feedsAt(okURL, brokenURL, downURL)...), store, Options{Logger: logger})
	results, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	if got := fs.seen("/feed"); len(got) != 1 || !strings.HasPrefix(got[0].Get("Authorization"), "Basic ") {
		t.Errorf("the feed's server saw %v, want one request with the URL's credentials", got)
	}
	var outcomes []string
	for _, r := range results {
		outcomes = append(outcomes, r.Outcome)
		if r.Err != nil {
			checkNoSecret(t, "Result.Err", r.Err.Error())
		}
	}
	if diff := cmp.Diff([]string{outcomeOK, outcomeHTTPError, outcomeNetwork}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if _, ok := errors.AsType[*HTTPError](results[1].Err); !ok {
		t.Errorf("Result.Err %v does not unwrap to an *HTTPError", results[1].Err)
	}
	for _, u := range []string{brokenURL, downURL} {
		st := store.state(t, u)
		if st.LastError == "" {
			t.Errorf("no last error stored for %s", config.RedactURL(u))
		}
		checkNoSecret(t, "stored last_error", st.LastError)
	}
	checkNoSecret(t, "logs", logs.String())
	if !strings.Contains(logs.String(), "token=REDACTED") {
		t.Errorf("logs do not name the failing sources by their redacted URL:\n%s", logs.String())
	}
	a, ok := store.byTitle()["One"]
	if !ok {
		t.Fatalf("article not stored: %v", store.byTitle())
	}
	// The item's links were resolved against the fetched URL: they must not
	// inherit its userinfo.
	// (Source.FeedURL and Source.ID, the configured URL here, are the
	// source's key; feedout publishes them redacted.)
	for what, s := range map[string]string{"link": a.Link, "content": a.Content + a.Summary, "source link": a.Source.Link} {
		checkNoSecret(t, what, s)
	}
}

// TestCredentialsOnlyToTheirOrigin checks that auth and headers reach the
// source's scheme and host, including after a redirect within it, and
// never another host after a redirect, which also gets no Referer naming
// the first URL's token.
func TestCredentialsOnlyToTheirOrigin(t *testing.T) {
	other := newFeedServer(t)
	other.set("/feed", route{body: []byte(privateFeed), contentType: "application/rss+xml"})
	fs := newFeedServer(t)
	fs.set("/feed", route{body: []byte(privateFeed), contentType: "application/rss+xml"})
	fs.set("/old", route{status: http.StatusFound, location: "/feed"})
	fs.set("/away", route{status: http.StatusFound, location: other.URL + "/feed"})

	tests := []struct {
		name, path string
		// wantHere and wantThere count the requests with credentials
		// on the source's server and on the other one.
		wantHere, wantThere int
	}{
		{"same origin", "/feed", 1, 0},
		{"redirect within the origin", "/old", 2, 0},
		{"redirect to another host", "/away", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := config.Feed{
				URL:        fs.URL + tt.path + "?token=tok123",
				Categories: []string{"News"},
				Auth:       &config.BasicAuth{Username: "bob", Password: "s3cretpw"},
				Headers:    map[string]config.Secret{"X-Api-Key": "hdr-secret"},
			}
			fs.reset()
			other.reset()
			f := newTestFetcher(t, testConfig(feed), newFakeStore(), Options{})
			if res := fetchOne(t, f, feed.URL); res.Outcome != outcomeOK {
				t.Fatalf("outcome %s: %v", res.Outcome, res.Err)
			}
			if got := fs.withCredentials(t); got != tt.wantHere {
				t.Errorf("%d requests to the source's host with credentials, want %d", got, tt.wantHere)
			}
			if got := other.withCredentials(t); got != tt.wantThere {
				t.Errorf("%d requests to the other host with credentials, want %d", got, tt.wantThere)
			}
			for _, h := range other.all() {
				checkNoSecret(t, "a request to the other host", h.Get("Referer"))
			}
		})
	}
}

// reset forgets the requests seen.
func (fs *feedServer) reset() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.requests = map[string][]http.Header{}
}

// all returns the headers of every request seen.
func (fs *feedServer) all() []http.Header {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []http.Header
	for _, hs := range fs.requests {
		out = append(out, hs...)
	}
	return out
}

// withCredentials counts the requests that carried the test's credentials;
// a request with only part of them fails the test.
func (fs *feedServer) withCredentials(t *testing.T) int {
	t.Helper()
	n := 0
	for _, h := range fs.all() {
		r := http.Request{Header: h}
		user, pw, auth := r.BasicAuth()
		key := h.Get("X-Api-Key")
		switch {
		case auth && user == "bob" && pw == "s3cretpw" && key == "hdr-secret":
			n++
		case auth || key != "":
			t.Errorf("a request with part of the credentials: %v", h)
		}
	}
	return n
}

// TestUserinfoNotSentAfterRedirect checks that the Basic credentials of a
// URL's userinfo go to its host only, not to the host it redirects to.
func TestUserinfoNotSentAfterRedirect(t *testing.T) {
	other := newFeedServer(t)
	other.set("/feed", route{body: []byte(privateFeed), contentType: "application/rss+xml"})
	fs := newFeedServer(t)
	fs.set("/away", route{status: http.StatusFound, location: other.URL + "/feed"})
	feedURL := withSecrets(t, fs.URL+"/away")
	f := newTestFetcher(t, testConfig(feedsAt(feedURL)...), newFakeStore(), Options{})
	if res := fetchOne(t, f, feedURL); res.Outcome != outcomeOK {
		t.Fatalf("outcome %s: %v", res.Outcome, res.Err)
	}
	if h := fs.seen("/away"); len(h) != 1 || h[0].Get("Authorization") == "" {
		t.Errorf("the source's host saw %v, want its credentials", h)
	}
	if h := other.seen("/feed"); len(h) != 1 || h[0].Get("Authorization") != "" || h[0].Get("Referer") != "" {
		t.Errorf("the other host saw %v, want one request without Authorization or Referer", h)
	}
}

// TestProbeAndExplainErrorsWithoutSecrets checks the errors of tributary
// add and test-rules for a URL with credentials.
func TestProbeAndExplainErrorsWithoutSecrets(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/broken", route{status: http.StatusInternalServerError})
	broken := withSecrets(t, fs.URL+"/broken")
	cfg := testConfig()
	_, err := Probe(t.Context(), nil, cfg.Fetch, broken)
	if _, ok := errors.AsType[*HTTPError](err); !ok {
		t.Fatalf("Probe: %v, want an HTTP error", err)
	}
	checkNoSecret(t, "Probe error", err.Error())
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	_, err = f.Explain(t.Context(), broken, config.FullText{})
	if err == nil {
		t.Fatal("Explain: no error")
	}
	checkNoSecret(t, "Explain error", err.Error())
}
