package status

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

var now = time.Date(2025, 8, 18, 9, 0, 0, 0, time.UTC)

// newStore opens a real store holding: an ok source with two articles, a
// gone one, a moved one, and a failing one; a fifth source is never fetched.
func newStore(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("Check: %v", err)
		}
		_ = s.Close()
	})
	ctx := t.Context()
	for _, st := range []storage.SourceState{
		{FeedURL: "https://ok.example/feed", Title: "Ok News", LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), Outcome: "not-modified", NextDue: now.Add(14 * time.Minute),
			FullTextFetched: 12, FullTextFailed: 3, FullTextError: "full text https://ok.example/c: http status 404 Not Found from https://ok.example/c"},
		{FeedURL: "https://gone.example/feed", LastFetch: now.Add(-time.Hour), Outcome: "gone", LastError: "http status 410 Gone from https://gone.example/feed", ConsecutiveFailures: 1},
		{FeedURL: "https://moved.example/feed", LastFetch: now.Add(-time.Minute), Outcome: "ok", PermanentURL: "https://new.example/feed"},
		{FeedURL: "https://bad.example/feed", LastFetch: now.Add(-2 * time.Hour), Outcome: "timeout", LastError: "no complete answer\nwithin 30s", ConsecutiveFailures: 3, NextDue: now.Add(2 * time.Hour)},
		{FeedURL: "https://removed.example/feed", Outcome: "ok"},
	} {
		if err := s.PutSourceState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	var arts []storage.Article
	for _, g := range []string{"a", "b"} {
		arts = append(arts, storage.Article{
			ID: story.ItemKey("https://ok.example/feed", g, "", "", ""), GUID: g, Title: "Story " + g,
			Link: "https://ok.example/" + g, Published: now.Add(-time.Hour),
			Categories: []storage.Category{{Slug: "world", Name: "World"}},
			Source:     storage.Source{FeedURL: "https://ok.example/feed", ID: "https://ok.example/feed", Title: "Ok News"},
		})
	}
	if _, err := s.SaveArticles(ctx, arts); err != nil {
		t.Fatal(err)
	}
	return s
}

var sources = []Source{
	{URL: "https://ok.example/feed"},
	{URL: "https://gone.example/feed", Title: "Gone Daily"},
	{URL: "https://moved.example/feed"},
	{URL: "https://bad.example/feed"},
	{URL: "https://new.example/feed"},
}

func TestHandler(t *testing.T) {
	s := newStore(t)
	h := Handler(s, sources, nil, func() time.Time { return now })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var got Report
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{URL: "https://ok.example/feed", Title: "Ok News", LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Minute), Outcome: "not-modified", NextDue: now.Add(14 * time.Minute), Items: 2,
			FullText: FullText{Fetched: 12, Failed: 3, LastError: "full text https://ok.example/c: http status 404 Not Found from https://ok.example/c"}},
		{URL: "https://gone.example/feed", Title: "Gone Daily", LastFetch: now.Add(-time.Hour), Outcome: "gone", LastError: "http status 410 Gone from https://gone.example/feed", ConsecutiveFailures: 1,
			Hint: "the server says the feed is gone (410): remove it or change its URL in the config; tributary fetch -feed URL tries again"},
		{URL: "https://moved.example/feed", LastFetch: now.Add(-time.Minute), Outcome: "ok", PermanentURL: "https://new.example/feed", Hint: "update the config: URL moved to https://new.example/feed"},
		{URL: "https://bad.example/feed", LastFetch: now.Add(-2 * time.Hour), Outcome: "timeout", LastError: "no complete answer\nwithin 30s", ConsecutiveFailures: 3, NextDue: now.Add(2 * time.Hour)},
		{URL: "https://new.example/feed", Outcome: "never"},
	}
	if diff := cmp.Diff(want, got.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if len(got.Categories) != 2 || got.Categories[0].Slug != "all" || got.Categories[1].Count != 2 {
		t.Errorf("categories = %+v", got.Categories)
	}
	// The raw JSON names every field the contract lists.
	for _, key := range []string{`"url"`, `"title"`, `"last_fetch"`, `"outcome"`, `"last_error"`, `"consecutive_failures"`, `"next_due"`, `"items"`, `"permanent_url"`} {
		if !strings.Contains(rec.Body.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/status", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

func TestWriteTable(t *testing.T) {
	rep, err := Collect(t.Context(), newStore(t), sources, now)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"CATEGORY  NAME   ARTICLES  UPDATED",
		"world     World  2",
		"Ok News <https://ok.example/feed>",
		"not-modified  2      1m0s ago    in 14m0s",
		"Gone Daily <https://gone.example/feed>  gone",
		"gone", "update the config: URL moved to https://new.example/feed",
		"no complete answer within 30s", // the newline flattened
		"https://new.example/feed                never",
		"2 of 5 sources healthy",
		"full text: 12 fetched, 3 failed (kept the feed's text): full text https://ok.example/c: http status 404",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

// TestCollectRedactsSecrets reads a state stored by an older tributary,
// whose last error and permanent URL quote the source's credentials.
func TestCollectRedactsSecrets(t *testing.T) {
	const feed = "http://alice:s3cretpw@private.example/feed?token=tok123"
	s, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.PutSourceState(t.Context(), storage.SourceState{
		FeedURL: feed, Outcome: "http-error", ConsecutiveFailures: 1,
		LastError:    "fetch " + feed + ": http status 500 Internal Server Error from " + feed,
		PermanentURL: "https://alice:s3cretpw@private.example/new?key=tok123",
	}); err != nil {
		t.Fatal(err)
	}
	r, err := Collect(t.Context(), s, []Source{{URL: feed}}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{
		URL:                 "http://private.example/feed?token=REDACTED",
		Outcome:             "http-error",
		LastError:           "fetch http://private.example/feed?token=REDACTED: http status 500 Internal Server Error from http://private.example/feed?token=REDACTED",
		ConsecutiveFailures: 1,
		PermanentURL:        "https://private.example/new?key=REDACTED",
		Hint:                "update the config: URL moved to https://private.example/new?key=REDACTED",
	}
	if diff := cmp.Diff([]Entry{want}, r.Sources); diff != "" {
		t.Errorf("Sources (-want +got):\n%s", diff)
	}
}
