package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/storage"
)

// TestFetchSkipsExpiredItems runs "tributary fetch" on a feed with one item
// older than retention.max_age and one within it: the old one is not
// stored, and the summary counts it as expired.
func TestFetchSkipsExpiredItems(t *testing.T) {
	now := time.Now().UTC()
	feed := fmt.Sprintf(`<?xml version="1.0"?>
<rss version="2.0"><channel><title>Ages</title><link>https://ages.example/</link>
<item><title>Fresh news</title><link>https://ages.example/fresh</link><guid>fresh</guid><pubDate>%s</pubDate></item>
<item><title>Old news</title><link>https://ages.example/old</link><guid>old</guid><pubDate>%s</pubDate></item>
</channel></rss>`, now.Add(-time.Hour).Format(time.RFC1123Z), now.Add(-40*24*time.Hour).Format(time.RFC1123Z))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, feed)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf("data_dir: %s\nretention:\n  max_age: 720h\nfeeds:\n  - url: %s/ages.rss\n    categories: [News]\n",
		filepath.Join(dir, "data"), srv.URL))

	r := tributary(t, "fetch", "-config", cfg)
	if r.code != 0 {
		t.Fatalf("fetch: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^OUTCOME\s+NEW\s+UPDATED\s+UNCHANGED\s+FILTERED\s+EXPIRED\s+MERGED\s+TIME\s+SOURCE$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^ok\s+1\s+0\s+0\s+0\s+1\s+0\s+\S+\s+Ages <`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "articles: 1 new, 0 updated, 0 unchanged, 0 filtered, 1 expired, 0 merged into stories") {
		t.Errorf("fetch summary does not count one new and one expired item:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, `msg="fetch pass finished"`) || !strings.Contains(r.stderr, "expired=1") {
		t.Errorf("pass log does not count the expired item:\n%s", r.stderr)
	}

	s, err := storage.Open(filepath.Join(dir, "data", "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored, err := s.Latest(t.Context(), storage.AllSlug, 10)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, a := range stored {
		titles = append(titles, a.Title)
	}
	if diff := cmp.Diff([]string{"Fresh news"}, titles); diff != "" {
		t.Errorf("stored titles (-want +got):\n%s", diff)
	}
}

// TestItemMetricsCountExpired checks that the expired items of fetches
// reach tributary_items_total{result="expired"} on /metrics.
func TestItemMetricsCountExpired(t *testing.T) {
	s, err := storage.Open(filepath.Join(t.TempDir(), "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := newMetrics(func() (*storage.Store, *config.Config) { return s, &config.Config{} }, slog.New(slog.DiscardHandler))
	m.observe(fetcher.Result{Outcome: "ok", New: 1, Expired: 2})
	m.observe(fetcher.Result{Outcome: "ok", Expired: 1})
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`tributary_items_total{result="new"} 1`,
		`tributary_items_total{result="expired"} 3`,
		`tributary_items_total{result="filtered"} 0`,
	} {
		if !strings.Contains(rec.Body.String(), want+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", want, rec.Body.String())
		}
	}
}
