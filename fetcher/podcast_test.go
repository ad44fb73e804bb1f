package fetcher

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// podcastFixture reads a feed of testdata/podcast.
func podcastFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "podcast", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return data
}

// TestNormalizePodcast reads every episode field a podcast app needs from
// a feed with several enclosures and every iTunes tag, and drops what is
// not a value of its kind: non-http(s) artwork, a word for an episode
// number, markup in a media type.
func TestNormalizePodcast(t *testing.T) {
	const feedURL = "https://show.example/feed.xml"
	n := newNormalizer(nil)
	got := n.normalize(normParse(t, podcastFixture(t, "show.rss")), config.Feed{URL: feedURL}, normURL(t, feedURL), normNow)
	type episode struct {
		Enclosures []storage.Enclosure
		Podcast    *storage.Podcast
	}
	want := map[string]episode{
		"3: Lighthouses": {
			Enclosures: []storage.Enclosure{
				{URL: "https://show.example/media/3.mp3", Type: "audio/mpeg", Length: 59551744, Duration: 3723},
				{URL: "https://video.show.example/3.mp4", Type: "video/mp4", Length: 412000000, Duration: 3723},
				{URL: "https://show.example/media/3-transcript.txt", Type: "text/plain"},
			},
			Podcast: &storage.Podcast{Image: "https://show.example/art/3.jpg", Episode: 3, Season: 2, Explicit: "true", EpisodeType: "full"},
		},
		"2: Night trains": {
			// A type with markup in it is no media type: the extension tells.
			Enclosures: []storage.Enclosure{{URL: "https://show.example/media/2.m4a", Type: "audio/mp4", Duration: 2730}},
			// javascript: artwork gives way to the show's.
			Podcast: &storage.Podcast{Image: "https://show.example/art/show.jpg", Season: 2, Explicit: "false", EpisodeType: "bonus"},
		},
		"Season 2 trailer": {
			Enclosures: []storage.Enclosure{{URL: "https://show.example/media/trailer-2.mp3", Type: "audio/mpeg", Length: 1520000, Duration: 95}},
			Podcast: &storage.Podcast{
				Image:       "https://show.example/art/trailer.jpg%22%3E%3Cscript%3Ealert%281%29%3C/script%3E",
				Season:      2,
				Explicit:    "false", // the show's
				EpisodeType: "trailer",
			},
		},
	}
	gotEps := map[string]episode{}
	for _, a := range got.Articles {
		gotEps[a.Title] = episode{a.Enclosures, a.Podcast}
	}
	if diff := cmp.Diff(want, gotEps); diff != "" {
		t.Errorf("episodes (-want +got):\n%s", diff)
	}
}

// TestNormalizePodcastCorpus reads the corpus podcast whose channel
// itunes:image is broken: every episode keeps its MP3 (typed audio/mpeg,
// also where the feed says x-audio/mp3 or audio/mp3), its duration and the
// show's RSS image as artwork.
func TestNormalizePodcastCorpus(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(normCorpusDir, "rss-parser", "itunes-missing-image.rss"))
	if err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	const feedURL = "http://www.taverncast.com/feed.xml"
	got := newNormalizer(nil).normalize(normParse(t, data), config.Feed{URL: feedURL}, normURL(t, feedURL), normNow)
	if len(got.Articles) != 130 { // 131 items, one GUID given twice
		t.Fatalf("%d articles, want 130", len(got.Articles))
	}
	first := got.Articles[0]
	wantEnc := []storage.Enclosure{{
		URL:  "http://www.podtrac.com/pts/redirect.mp3?http://www.taverncast.com/shows/taverncast-62.mp3",
		Type: "audio/mpeg", Length: 47160424, Duration: 69*60 + 50,
	}}
	if diff := cmp.Diff(wantEnc, first.Enclosures); diff != "" {
		t.Errorf("first episode's enclosures (-want +got):\n%s", diff)
	}
	wantPod := &storage.Podcast{Image: "http://www.taverncast.com/itunes-logo.png", Explicit: "false"}
	for _, a := range got.Articles {
		if len(a.Enclosures) != 1 || a.Enclosures[0].Type != "audio/mpeg" || a.Enclosures[0].Duration <= 0 {
			t.Errorf("%s: enclosures %+v, want one audio/mpeg file with a duration", a.Title, a.Enclosures)
		}
		if diff := cmp.Diff(wantPod, a.Podcast); diff != "" {
			t.Errorf("%s: podcast (-want +got):\n%s", a.Title, diff)
		}
	}
}

// TestNormalizeNotAPodcast gives no podcast metadata to the items of a feed
// without iTunes tags, with or without enclosures.
func TestNormalizeNotAPodcast(t *testing.T) {
	const feedURL = "https://blog.example/feed.xml"
	got := newNormalizer(nil).normalize(normParse(t, podcastFixture(t, "blog.rss")), config.Feed{URL: feedURL}, normURL(t, feedURL), normNow)
	if len(got.Articles) != 1 || got.Articles[0].Podcast != nil || len(got.Articles[0].Enclosures) != 1 {
		t.Errorf("articles %+v, want one with an enclosure and no podcast metadata", got.Articles)
	}
}

// TestNormalizeMediaBounds keeps the first maxItemEnclosures files of an
// item and drops URLs over maxMediaURLBytes: a feed cannot make one item
// cost more than that.
func TestNormalizeMediaBounds(t *testing.T) {
	const feedURL = "https://show.example/feed.xml"
	long := "https://show.example/" + strings.Repeat("a", maxMediaURLBytes)
	var b strings.Builder
	b.WriteString(`<item><guid>many</guid><itunes:image href="` + long + `"/>`)
	b.WriteString(`<enclosure url="` + long + `.mp3" type="audio/mpeg" length="1"/>`)
	for i := range 2 * maxItemEnclosures {
		fmt.Fprintf(&b, `<media:content url="https://show.example/%d.mp3"/>`, i)
	}
	b.WriteString(`</item>`)
	feed := `<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/">` +
		`<channel><title>t</title><itunes:image href="/show.jpg"/>` + b.String() + `</channel></rss>`
	got := newNormalizer(nil).normalize(normParse(t, []byte(feed)), config.Feed{URL: feedURL}, normURL(t, feedURL), normNow)
	if len(got.Articles) != 1 {
		t.Fatalf("%d articles, want 1", len(got.Articles))
	}
	a := got.Articles[0]
	if len(a.Enclosures) != maxItemEnclosures || a.Enclosures[0].URL != "https://show.example/0.mp3" {
		t.Errorf("%d enclosures, the first of %d bytes: want %d, the first media:content",
			len(a.Enclosures), len(a.Enclosures[0].URL), maxItemEnclosures)
	}
	if a.Podcast == nil || a.Podcast.Image != "https://show.example/show.jpg" {
		t.Errorf("podcast artwork of %d bytes, want the show's in place of the overlong one", len(a.Podcast.Image))
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		typ, url, want string
	}{
		{"audio/mpeg", "https://a.example/1.mp3", "audio/mpeg"},
		{"Audio/MPEG", "https://a.example/1", "audio/mpeg"},
		{"x-audio/mp3", "https://a.example/1.mp3", "audio/mpeg"},
		{"audio/mp3", "https://a.example/1", "audio/mpeg"},
		{`video/mp4; codecs="avc1"`, "https://a.example/1", `video/mp4; codecs=avc1`},
		{"", "https://a.example/ep/1.M4A?sig=x", "audio/mp4"},
		{`audio/x-m4a"><script>`, "https://a.example/1.opus", "audio/ogg"},
		{"", "https://a.example/page.html", ""},
		{"image/jpeg", "https://a.example/1.mp3", "image/jpeg"}, // the source's type wins
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := mediaType(tt.typ, u); got != tt.want {
			t.Errorf("mediaType(%q, %s) = %q, want %q", tt.typ, tt.url, got, tt.want)
		}
	}
}

func TestDurationSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"95", 95},
		{" 3723 ", 3723},
		{"45:30", 2730},
		{"1:02:03", 3723},
		{"01:01:55", 3715},
		{"90:00", 5400}, // minutes past an hour in MM:SS
		{"00:01:02.500", 62},
		{"1234.5", 1234},
		{"", 0},
		{"1:60", 120},
		{"00:60:05", 3605}, // as the corpus podcast writes it
		{"1:2:3:4", 0},
		{"-5", 0},
		{"1h02m", 0},
		{"::", 0},
		{"1.2.3", 0},
		{"99999999999", 0},
		{"3600001", 0},
		{"1000:00:00", 3600000},
		{"1000:00:01", 0},
	}
	for _, tt := range tests {
		if got := durationSeconds(tt.in); got != tt.want {
			t.Errorf("durationSeconds(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// FuzzDurationSeconds checks that any itunes:duration gives a time within
// bounds, and that a time read back from its HH:MM:SS form is itself.
func FuzzDurationSeconds(f *testing.F) {
	for _, s := range []string{"95", "45:30", "1:02:03", "00:01:02.500", "1:60", "", "٣:٠٠", "1e3", "+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := durationSeconds(s)
		if d < 0 || d > maxDurationSeconds {
			t.Fatalf("durationSeconds(%q) = %d, out of bounds", s, d)
		}
		if d == 0 {
			return
		}
		hms := fmtHMS(d)
		if back := durationSeconds(hms); back != d {
			t.Errorf("durationSeconds(%q) = %d, but %q gives %d", s, d, hms, back)
		}
	})
}

// fmtHMS writes seconds as H:MM:SS.
func fmtHMS(s int64) string {
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
