package feedout

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/storage"
)

// TestPodcastEpisodeInEveryFormat renders a podcast episode merged with a
// blog post about it (the post is the primary copy, its photo the first
// enclosure) and checks what a podcast app needs in each format: RSS
// publishes the audio file, not the photo, with the iTunes elements in the
// iTunes namespace; Atom and JSON Feed carry every file with its size and
// JSON Feed its duration.
func TestPodcastEpisodeInEveryFormat(t *testing.T) {
	c := loadCase(t, "podcast-episodes")

	t.Run("rss", func(t *testing.T) {
		raw := writeFormat(t, ".rss", c.Feed, c.Articles)
		if !strings.Contains(string(raw), `xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"`) {
			t.Errorf("no itunes namespace on the rss element:\n%s", raw)
		}
		it := feedcheck.ParseRSS(t, raw).Channel.Items[0]
		if len(it.Enclosures) != 1 || it.Enclosures[0].URL != "https://show.example/media/3.mp3" ||
			it.Enclosures[0].Length != "59551744" || it.Enclosures[0].Type != "audio/mpeg" {
			t.Errorf("enclosures %+v, want the MP3 only", it.Enclosures)
		}
		want := feedcheck.RSSITunes{Duration: "3723", Episode: "3", Season: "2", Explicit: "true", EpisodeType: "full"}
		want.Image.Href = "https://show.example/art/3.jpg"
		if diff := cmp.Diff(want, it.RSSITunes); diff != "" {
			t.Errorf("itunes elements (-want +got):\n%s", diff)
		}
	})
	t.Run("atom", func(t *testing.T) {
		e := feedcheck.Parse(t, writeFormat(t, atomExt, c.Feed, c.Articles)).Entries[0]
		var got []feedcheck.Link
		for _, l := range e.Links {
			if l.Rel == "enclosure" {
				got = append(got, l)
			}
		}
		want := []feedcheck.Link{
			{Href: "https://blog.example/img/lighthouse.jpg", Rel: "enclosure", Type: "image/jpeg", Length: "48213"},
			{Href: "https://show.example/media/3.mp3", Rel: "enclosure", Type: "audio/mpeg", Length: "59551744"},
			{Href: "https://video.show.example/3.mp4", Rel: "enclosure", Type: "video/mp4", Length: "412000000"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("enclosure links (-want +got):\n%s", diff)
		}
	})
	t.Run("json", func(t *testing.T) {
		it := feedcheck.ParseJSONFeed(t, writeFormat(t, ".json", c.Feed, c.Articles)).Items[0]
		want := []feedcheck.JSONAttachment{
			{URL: "https://blog.example/img/lighthouse.jpg", MIMEType: "image/jpeg", Size: 48213},
			{URL: "https://show.example/media/3.mp3", MIMEType: "audio/mpeg", Size: 59551744, Duration: 3723},
			{URL: "https://video.show.example/3.mp4", MIMEType: "video/mp4", Size: 412000000, Duration: 3723},
		}
		if diff := cmp.Diff(want, it.Attachments); diff != "" {
			t.Errorf("attachments (-want +got):\n%s", diff)
		}
		if it.Image != "https://show.example/art/3.jpg" {
			t.Errorf("image %q, want the episode's artwork", it.Image)
		}
	})
}

// FuzzWritePodcast renders an episode whose media and iTunes values are
// anything a damaged or hostile store could hold: the RSS is well-formed
// and gives back the artwork and enclosure URLs as written (no markup gets
// in through them), and the JSON Feed is valid JSON.
func FuzzWritePodcast(f *testing.F) {
	c := loadCase(f, "podcast-episodes")
	for _, a := range c.Articles {
		for _, e := range a.Enclosures {
			p := a.Podcast
			if p == nil {
				p = &storage.Podcast{}
			}
			f.Add(e.URL, e.Type, e.Length, e.Duration, p.Image, p.Explicit, p.EpisodeType, p.Episode)
		}
	}
	f.Add(`https://x.example/a.mp3"><script>alert(1)</script>`, "audio/mpeg\x00", int64(-1), int64(-5), "</itunes:image><x>", "]]>", "\uFFFE", -3)
	f.Fuzz(func(t *testing.T, encURL, encType string, length, duration int64, image, explicit, episodeType string, episode int) {
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		a := storage.Article{
			ID: "0123456789abcdef0123456789abcdef", Title: "Episode", Published: at, Updated: at,
			Enclosures: []storage.Enclosure{{URL: encURL, Type: encType, Length: length, Duration: duration}},
			Podcast:    &storage.Podcast{Image: image, Explicit: explicit, EpisodeType: episodeType, Episode: episode},
		}
		feed := FeedMeta{ID: "urn:x", Title: "Podcasts", SelfURL: "https://news.example/feeds/p.rss"}
		var buf bytes.Buffer
		if err := WriteRSS(&buf, feed, []storage.Article{a}); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, buf.Bytes())
			}
		}
		it := feedcheck.ParseRSS(t, buf.Bytes()).Channel.Items[0]
		if got, want := it.Image.Href, xmlText(image); got != want {
			t.Errorf("itunes:image %q, want %q", got, want)
		}
		if u := xmlText(encURL); u != "" && (len(it.Enclosures) != 1 || it.Enclosures[0].URL != u) {
			t.Errorf("enclosures %+v, want %q", it.Enclosures, u)
		}
		buf.Reset()
		if err := WriteJSONFeed(&buf, feed, []storage.Article{a}); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("invalid JSON:\n%s", buf.Bytes())
		}
	})
}
