package storage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMergedCopiesKeepMedia merges a podcast episode with a text copy of
// the same story (another source linking the same page), in either
// arrival order and with either copy published first: the story keeps
// every enclosure, its primary copy's first, and the episode's podcast
// metadata, and an edit of the primary copy does not drop them.
func TestMergedCopiesKeepMedia(t *testing.T) {
	const show, blog = "https://show.example/feed", "https://blog.example/feed"
	const link = "https://show.example/episodes/62"
	audio := Enclosure{URL: "https://cdn.show.example/62.mp3", Type: "audio/mpeg", Length: 47160424, Duration: 4190}
	cover := Enclosure{URL: "https://cdn.show.example/62.jpg", Type: "image/jpeg"}
	photo := Enclosure{URL: "https://blog.example/img/studio.jpg", Type: "image/jpeg", Length: 2048}
	meta := &Podcast{Image: "https://cdn.show.example/art.png", Episode: 62, Season: 3, Explicit: "false", EpisodeType: "full"}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	episode := func(published time.Time) Article {
		a := storyArticle(t, "fed", "base", "", show, link, "podcasts")
		a.Published, a.Updated = published, published
		a.Enclosures = []Enclosure{audio, cover}
		a.Podcast = meta
		return a
	}
	post := func(published time.Time) Article {
		a := storyArticle(t, "fed", "base", "", blog, link, "blogs")
		a.Published, a.Updated = published, published
		a.Enclosures = []Enclosure{photo, audio} // the blog links the same audio file
		return a
	}
	tests := []struct {
		name          string
		first, second Article
		want          []Enclosure
	}{
		{"episode first and earlier", episode(t0), post(t0.Add(time.Hour)), []Enclosure{audio, cover, photo}},
		{"post first, episode earlier", post(t0.Add(time.Hour)), episode(t0), []Enclosure{audio, cover, photo}},
		{"episode first, post earlier", episode(t0.Add(time.Hour)), post(t0), []Enclosure{photo, audio, cover}},
		{"post first and earlier", post(t0), episode(t0.Add(time.Hour)), []Enclosure{photo, audio, cover}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			if res := save(t, s, tt.first); res != (SaveResult{New: 1}) {
				t.Fatalf("first: %+v", res)
			}
			if res := save(t, s, tt.second); res != (SaveResult{Merged: 1}) {
				t.Fatalf("second: %+v", res)
			}
			check := func(when string) Article {
				t.Helper()
				got, found, err := s.Article(t.Context(), tt.first.ID)
				if err != nil || !found {
					t.Fatalf("%s: Article: %t %v", when, found, err)
				}
				if diff := cmp.Diff(tt.want, got.Enclosures); diff != "" {
					t.Errorf("%s: enclosures (-want +got):\n%s", when, diff)
				}
				if diff := cmp.Diff(meta, got.Podcast); diff != "" {
					t.Errorf("%s: podcast (-want +got):\n%s", when, diff)
				}
				return got
			}
			got := check("merged")
			// Both copies seen again change nothing.
			if res := save(t, s, tt.first, tt.second); res != (SaveResult{Unchanged: 2}) {
				t.Errorf("again: %+v", res)
			}
			// An edit of the primary copy keeps what the other brought.
			primary := tt.first
			if got.Source != tt.first.Source {
				primary = tt.second
			}
			primary.Title += " (corrected)"
			primary.Updated = primary.Updated.Add(time.Hour)
			if res := save(t, s, primary); res != (SaveResult{Updated: 1}) {
				t.Errorf("edit: %+v", res)
			}
			check("edited")
		})
	}
}

// TestArticleWithoutMediaDecodes reads an article as stored before
// enclosure durations and podcast metadata existed.
func TestArticleWithoutMediaDecodes(t *testing.T) {
	raw := `{"id":"0123456789abcdef0123456789abcdef","title":"Old","published":"2024-01-02T03:04:05Z",` +
		`"updated":"2024-01-02T03:04:05Z","source":{"feed_url":"https://a.example/feed","id":"x","title":"A"},` +
		`"first_seen":"2024-01-02T03:04:05Z","enclosures":[{"url":"https://a.example/1.mp3","type":"audio/mpeg","length":5}]}`
	var a Article
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	want := []Enclosure{{URL: "https://a.example/1.mp3", Type: "audio/mpeg", Length: 5}}
	if diff := cmp.Diff(want, a.Enclosures); diff != "" || a.Podcast != nil {
		t.Errorf("enclosures (-want +got):\n%s\npodcast %+v, want nil", diff, a.Podcast)
	}
	enc, err := encodeArticle(a)
	if err != nil || string(enc) != raw {
		t.Errorf("re-encoded (%v):\n%s\nwant\n%s", err, enc, raw)
	}
}
