package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/feedcheck"
)

// podcastFeeds are the feeds TestPodcastSurvivesTheMerge serves, by path:
// a podcast with several enclosures and every iTunes tag, a blog whose
// post about episode 3 links the episode's page (so the two merge into one
// story, the post first), and the corpus podcast whose show artwork is
// broken.
var podcastFeeds = map[string]string{
	"/show.rss":       filepath.Join("..", "..", "testdata", "podcast", "show.rss"),
	"/blog.rss":       filepath.Join("..", "..", "testdata", "podcast", "blog.rss"),
	"/taverncast.rss": filepath.Join("..", "..", "..", "shared", "corpus", "rss-parser", "itunes-missing-image.rss"),
}

// TestPodcastSurvivesTheMerge fetches the podcast feeds from a loopback
// server into a real store and reads the Podcasts category back through
// the real handlers in all three formats: every episode stays playable in
// a podcast app, the episode merged with a blog post included.
func TestPodcastSurvivesTheMerge(t *testing.T) {
	if _, err := os.Stat(podcastFeeds["/taverncast.rss"]); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	feeds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, ok := podcastFeeds[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		http.ServeFile(w, r, path)
	}))
	t.Cleanup(feeds.Close)
	h, s := adminTestService(t, fmt.Sprintf(`base_url: https://agg.example
retention:
  max_age: 300000h # the corpus podcast began in 2005
feeds:
  - url: %[1]s/show.rss
    categories: [Podcasts]
  - url: %[1]s/blog.rss
    categories: [Blogs]
  - url: %[1]s/taverncast.rss
    categories: [Podcasts]
`, feeds.URL))
	results, err := s.gen.Load().fetcher.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("fetch %s: %v", r.FeedURL, r.Err)
		}
	}
	docs := map[string][]byte{}
	for _, ext := range []string{".rss", ".atom", ".json"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/feeds/podcasts"+ext+"?limit=200", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET podcasts%s: %d\n%s", ext, rec.Code, rec.Body.Bytes())
		}
		docs[ext] = rec.Body.Bytes()
	}
	t.Run("valid", func(t *testing.T) {
		feedcheck.RSS(t, map[string][]byte{"podcasts": docs[".rss"]})
		feedcheck.Atom(t, map[string][]byte{"podcasts": docs[".atom"]})
		feedcheck.JSONFeed(t, map[string][]byte{"podcasts": docs[".json"]})
	})
	t.Run("rss", func(t *testing.T) { checkPodcastRSS(t, docs[".rss"], feeds.URL) })
	t.Run("atom", func(t *testing.T) { checkPodcastAtom(t, docs[".atom"], feeds.URL) })
	t.Run("json", func(t *testing.T) { checkPodcastJSON(t, docs[".json"], feeds.URL) })
	t.Run("newsboat", func(t *testing.T) {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		checkNewsboatEnclosures(t, srv.URL+"/feeds/podcasts.rss?limit=200", 133)
	})
}

// checkPodcastRSS checks the merged episode and every corpus episode of
// the Podcasts RSS document.
func checkPodcastRSS(t *testing.T, raw []byte, feedsURL string) {
	t.Helper()
	items := feedcheck.ParseRSS(t, raw).Channel.Items
	if len(items) != 133 { // 3 episodes of the show (one merged with the post), 130 of the corpus
		t.Errorf("%d items, want 133", len(items))
	}
	for _, it := range items {
		switch {
		case it.Link == "https://show.example/episodes/3":
			// The blog post is the story's primary copy; the episode's
			// audio file, not the post's photo, is the one enclosure.
			if it.Source.Title != "Coastal Notes" || len(it.Enclosures) != 1 ||
				it.Enclosures[0].URL != feedsURL+"/media/3.mp3" || it.Enclosures[0].Length != "59551744" {
				t.Errorf("merged episode: source %q, enclosures %+v, want the show's MP3", it.Source.Title, it.Enclosures)
			}
			want := feedcheck.RSSITunes{Duration: "3723", Episode: "3", Season: "2", Explicit: "true", EpisodeType: "full"}
			want.Image.Href = "https://show.example/art/3.jpg"
			if diff := cmp.Diff(want, it.RSSITunes); diff != "" {
				t.Errorf("merged episode's itunes elements (-want +got):\n%s", diff)
			}
		case it.Source.Title == "Taverncast - Happy Hour in Your Head - Since 2005":
			if len(it.Enclosures) != 1 || it.Enclosures[0].Type != "audio/mpeg" || it.Duration == "" || it.Duration == "0" ||
				it.Image.Href != "http://www.taverncast.com/itunes-logo.png" || it.Explicit != "false" {
				t.Errorf("%s: enclosures %+v, itunes %+v: want an audio/mpeg file, its duration, the show's artwork", it.Title, it.Enclosures, it.RSSITunes)
			}
		}
	}
}

// checkPodcastAtom checks that the merged episode's entry links every
// file of both copies as an enclosure, the primary copy's first.
func checkPodcastAtom(t *testing.T, raw []byte, feedsURL string) {
	t.Helper()
	for _, e := range feedcheck.Parse(t, raw).Entries {
		if feedcheck.Alternate(e.Links) != "https://show.example/episodes/3" {
			continue
		}
		var got []feedcheck.Link
		for _, l := range e.Links {
			if l.Rel == "enclosure" {
				got = append(got, l)
			}
		}
		want := []feedcheck.Link{
			{Href: "https://blog.example/img/lighthouse.jpg", Rel: "enclosure", Type: "image/jpeg", Length: "48213"},
			{Href: feedsURL + "/media/3.mp3", Rel: "enclosure", Type: "audio/mpeg", Length: "59551744"},
			{Href: "https://video.show.example/3.mp4", Rel: "enclosure", Type: "video/mp4", Length: "412000000"},
			{Href: "https://show.example/media/3-transcript.txt", Rel: "enclosure", Type: "text/plain"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("merged episode's enclosures (-want +got):\n%s", diff)
		}
		return
	}
	t.Error("no entry for the merged episode")
}

// checkPodcastJSON checks the attachments of the merged episode and the
// durations of the corpus episodes.
func checkPodcastJSON(t *testing.T, raw []byte, feedsURL string) {
	t.Helper()
	withDuration := 0
	for _, it := range feedcheck.ParseJSONFeed(t, raw).Items {
		if it.URL == "https://show.example/episodes/3" {
			want := []feedcheck.JSONAttachment{
				{URL: "https://blog.example/img/lighthouse.jpg", MIMEType: "image/jpeg", Size: 48213},
				{URL: feedsURL + "/media/3.mp3", MIMEType: "audio/mpeg", Size: 59551744, Duration: 3723},
				{URL: "https://video.show.example/3.mp4", MIMEType: "video/mp4", Size: 412000000, Duration: 3723},
				{URL: "https://show.example/media/3-transcript.txt", MIMEType: "text/plain"},
			}
			if diff := cmp.Diff(want, it.Attachments); diff != "" {
				t.Errorf("merged episode's attachments (-want +got):\n%s", diff)
			}
		}
		if slices.ContainsFunc(it.Attachments, func(a feedcheck.JSONAttachment) bool { return a.Duration > 0 }) {
			withDuration++
		}
	}
	if withDuration != 133 {
		t.Errorf("%d items with a duration_in_seconds, want all 133", withDuration)
	}
}

// checkNewsboatEnclosures has newsboat reload feedURL and reads its cache:
// it must hold want items, each with its enclosure, as newsboat's podcast
// queue (podboat) would download it.
func checkNewsboatEnclosures(t *testing.T, feedURL string, want int) {
	t.Helper()
	bin, err := exec.LookPath("newsboat")
	if err != nil {
		t.Skipf("newsboat not available: %v", err)
	}
	sqlite, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skipf("sqlite3 not available: %v", err)
	}
	dir := t.TempDir()
	urls, cache, config := filepath.Join(dir, "urls"), filepath.Join(dir, "cache.db"), filepath.Join(dir, "config")
	writeFile(t, urls, feedURL+"\n")
	writeFile(t, config, "")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir, "TERM=dumb")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out.Bytes())
		}
		return out.String()
	}
	run(bin, "-u", urls, "-c", cache, "-C", config, "-x", "reload")
	got := strings.TrimSpace(run(sqlite, cache, "SELECT count(*) FROM rss_item WHERE enclosure_url LIKE 'http%'"))
	if got != fmt.Sprint(want) {
		t.Errorf("newsboat holds %s items with an enclosure, want %d", got, want)
	}
}
