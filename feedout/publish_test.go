package feedout

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

// Sources whose configured URLs carry credentials, as the fetcher stores
// them (the configured URL is the source's key).
const (
	secretFeed  = "http://alice:s3cretpw@127.0.0.1:8081/feed?token=tok123&page=1"
	secretFeed2 = "https://bob:hunter22@private.example/rss?api_key=tok456"
)

// secretArticles returns one article of each secret source, the first
// with its configured URL as source id, the second with a website link
// that carries credentials too.
func secretArticles() []storage.Article {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cats := []storage.Category{{Slug: "world", Name: "World"}}
	return []storage.Article{
		{
			ID: story.ItemKey(secretFeed, "a", "", "", ""), Title: "One", Link: "https://127.0.0.1:8081/one",
			Published: at, Content: "<p>one</p>", Categories: cats,
			Source: storage.Source{FeedURL: secretFeed, ID: secretFeed, Title: "Private one"},
		},
		{
			ID: story.ItemKey(secretFeed2, "b", "", "", ""), Title: "Two", Link: "https://private.example/two",
			Published: at.Add(time.Minute), Content: "<p>two</p>", Categories: cats,
			Source: storage.Source{FeedURL: secretFeed2, ID: "tag:private.example,2026:feed", Title: "Private two",
				Link: "https://bob:hunter22@private.example/?sig=tok456"},
		},
	}
}

// TestSourcesPublishedWithoutSecrets renders the three formats and the
// category page of a category fed by sources whose URLs carry credentials,
// one with a public_url, through the real handler over a real store.
func TestSourcesPublishedWithoutSecrets(t *testing.T) {
	store := newBoltStore(t, nil)
	saveAll(t, store, secretArticles())
	h := NewHandler(store, Options{
		BaseURL:    "https://news.example.org",
		SourceURLs: map[string]string{secretFeed2: "https://private.example/about"},
	})
	docs := map[string][]byte{}
	for _, path := range []string{"/feeds/world.atom", "/feeds/world.rss", "/feeds/world.json", "/c/world"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, body)
		}
		for _, secret := range []string{"s3cretpw", "hunter22", "tok123", "tok456", "alice:", "bob:"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("GET %s publishes %q:\n%s", path, secret, body)
			}
		}
		docs[path] = body
	}
	feedcheck.Atom(t, map[string][]byte{"world.atom": docs["/feeds/world.atom"]})
	feedcheck.RSS(t, map[string][]byte{"world.rss": docs["/feeds/world.rss"]})
	feedcheck.JSONFeed(t, map[string][]byte{"world.json": docs["/feeds/world.json"]})

	// Each source keeps a distinct, stable URL: the public_url when set,
	// else the configured URL less its secrets.
	const redacted = "http://127.0.0.1:8081/feed?token=REDACTED&amp;page=1"
	for path, want := range map[string][]string{
		"/feeds/world.atom": {`<id>` + redacted + `</id>`, `<link href="` + redacted + `" rel="self">`, `<link href="https://private.example/about" rel="self">`,
			`<id>tag:private.example,2026:feed</id>`, `<link href="https://private.example/?sig=REDACTED" rel="alternate">`},
		"/feeds/world.rss":  {`<source url="` + redacted + `">`, `<source url="https://private.example/about">`},
		"/feeds/world.json": {`"feed_url": "http://127.0.0.1:8081/feed?token=REDACTED&page=1"`, `"id": "http://127.0.0.1:8081/feed?token=REDACTED&page=1"`, `"feed_url": "https://private.example/about"`},
	} {
		for _, w := range want {
			if !strings.Contains(string(docs[path]), w) {
				t.Errorf("GET %s lacks %s:\n%s", path, w, docs[path])
			}
		}
	}
}

func TestPublishSourcesVia(t *testing.T) {
	in := []storage.Article{{
		ID:     "1",
		Source: storage.Source{FeedURL: "https://example.com/feed", ID: "https://example.com/feed"},
		Via: []storage.Copy{{
			Link:   "https://copy.example/1",
			Source: storage.Source{FeedURL: secretFeed, ID: secretFeed, Title: "Private one", Link: "http://alice:s3cretpw@127.0.0.1:8081/"},
		}},
	}}
	want := []storage.Article{{
		ID:     "1",
		Source: storage.Source{FeedURL: "https://example.com/feed", ID: "https://example.com/feed"},
		Via: []storage.Copy{{
			Link:   "https://copy.example/1",
			Source: storage.Source{FeedURL: "https://public.example/", ID: "https://public.example/", Title: "Private one", Link: "http://127.0.0.1:8081/"},
		}},
	}}
	got := publishSources(in, map[string]string{secretFeed: "https://public.example/"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("publishSources (-want +got):\n%s", diff)
	}
	if in[0].Via[0].Source.FeedURL != secretFeed {
		t.Errorf("publishSources changed its input: %+v", in[0].Via[0])
	}
}
