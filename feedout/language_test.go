package feedout

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/storage"
)

// TestFeedLanguage serves every format of a real store with and without
// Options.Language: when set, the Atom feed's xml:lang, the RSS channel's
// language and the JSON Feed language carry it; when not, none does. Every
// document is validated.
func TestFeedLanguage(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(t, func() time.Time { return clock })
	world := storage.Category{Slug: "world", Name: "World"}
	saveAll(t, store, seqArticles(0, 3, world))
	atoms, rsss, jsons := map[string][]byte{}, map[string][]byte{}, map[string][]byte{}
	for _, lang := range []string{"pt-BR", ""} {
		h := NewHandler(store, Options{
			Title:      "Notícias",
			BaseURL:    "https://news.example.org",
			Language:   lang,
			Categories: []storage.Category{world},
			Logger:     slog.New(slog.NewTextHandler(t.Output(), nil)),
		})
		get := func(target string) []byte {
			rec := serve(h, "GET", target, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
			}
			return rec.Body.Bytes()
		}
		name := "world-" + lang
		atoms[name], rsss[name], jsons[name] = get("/feeds/world.atom"), get("/feeds/world.rss"), get("/feeds/world.json")
		got := []string{
			feedcheck.Parse(t, atoms[name]).Lang,
			feedcheck.ParseRSS(t, rsss[name]).Channel.Language,
			feedcheck.ParseJSONFeed(t, jsons[name]).Language,
		}
		if diff := cmp.Diff([]string{lang, lang, lang}, got); diff != "" {
			t.Errorf("language %q: atom, rss, json (-want +got):\n%s", lang, diff)
		}
	}
	t.Run("atom valid", func(t *testing.T) { feedcheck.Atom(t, atoms) })
	t.Run("rss valid", func(t *testing.T) { feedcheck.RSS(t, rsss) })
	t.Run("json valid", func(t *testing.T) { feedcheck.JSONFeed(t, jsons) })
}
