package fetcher

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// agesFeed has items published 1 hour, 47 hours, 49 hours and 30 days
// before the test clock, and one without a date.
const agesFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Ages</title><link>https://ages.example/</link>
<item><title>One hour</title><link>https://ages.example/1h</link><pubDate>Mon, 18 Aug 2025 08:00:00 +0000</pubDate></item>
<item><title>Two days less an hour</title><link>https://ages.example/47h</link><pubDate>Sat, 16 Aug 2025 10:00:00 +0000</pubDate></item>
<item><title>Two days and an hour</title><link>https://ages.example/49h</link><pubDate>Sat, 16 Aug 2025 08:00:00 +0000</pubDate></item>
<item><title>A month</title><link>https://ages.example/30d</link><pubDate>Sat, 19 Jul 2025 09:00:00 +0000</pubDate></item>
<item><title>Undated</title><link>https://ages.example/undated</link></item>
</channel></rss>`

// TestFetchSkipsExpiredItems fetches a feed into a real store: items
// published longer than retention.max_age ago are counted as expired and
// not stored, so the next prune has nothing to delete.
func TestFetchSkipsExpiredItems(t *testing.T) {
	tests := []struct {
		name    string
		maxAge  time.Duration
		stored  []string
		expired int
	}{
		{"48h", 48 * time.Hour, []string{"Undated", "One hour", "Two days less an hour"}, 2},
		{"zero keeps all", 0, []string{"Undated", "One hour", "Two days less an hour", "Two days and an hour", "A month"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFeedServer(t)
			u := srv.set("/ages.rss", route{body: []byte(agesFeed)})
			cfg := testConfig(feedsAt(u)...)
			cfg.Retention.MaxAge = tt.maxAge
			clock := newTestClock()
			store := newTestStore(t, clock.Now)
			f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})

			res, err := f.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].Err != nil || res[0].New != len(tt.stored) || res[0].Expired != tt.expired {
				t.Fatalf("results %+v, want %d new and %d expired", res, len(tt.stored), tt.expired)
			}
			arts, err := store.Latest(t.Context(), storage.AllSlug, 10)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, a := range arts {
				titles = append(titles, a.Title)
			}
			if diff := cmp.Diff(tt.stored, titles); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			pruned, err := store.Prune(t.Context(), storage.PruneOptions{MaxAge: tt.maxAge})
			if err != nil {
				t.Fatal(err)
			}
			if pruned.Pruned != 0 {
				t.Errorf("the prune after the fetch deleted %d articles, want 0", pruned.Pruned)
			}
		})
	}
}
