package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPrune(t *testing.T) {
	tests := []struct {
		name       string
		opts       PruneOptions
		wantAll    []string
		wantWorld  []string
		wantPruned int
	}{
		{
			name:       "max age",
			opts:       PruneOptions{MaxAge: 4 * time.Hour, Batch: 1},
			wantAll:    []string{"e", "d"},
			wantWorld:  []string{"e"},
			wantPruned: 3,
		},
		{
			name:       "max per category",
			opts:       PruneOptions{MaxPerCategory: 2},
			wantAll:    []string{"e", "d", "c"},
			wantWorld:  []string{"e", "c"},
			wantPruned: 2,
		},
		{
			name:       "max per category does not cap all",
			opts:       PruneOptions{MaxPerCategory: 4},
			wantAll:    []string{"e", "d", "c", "b", "a"},
			wantWorld:  []string{"e", "c", "b", "a"},
			wantPruned: 0,
		},
		{
			name:       "both",
			opts:       PruneOptions{MaxPerCategory: 2, MaxAge: 3*time.Hour + 30*time.Minute},
			wantAll:    []string{"e"},
			wantWorld:  []string{"e"},
			wantPruned: 4,
		},
		{
			name:       "nothing to do",
			opts:       PruneOptions{MaxAge: 100 * time.Hour, MaxPerCategory: 10},
			wantAll:    []string{"e", "d", "c", "b", "a"},
			wantWorld:  []string{"e", "c", "b", "a"},
			wantPruned: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			arts := []Article{
				testArticle("a", hour(8), "world"),
				testArticle("b", hour(9), "world"),
				testArticle("c", hour(10), "world"),
				testArticle("d", hour(11), "tech"),
				testArticle("e", hour(12), "world"),
			}
			save(t, s, arts...)
			res, err := s.Prune(t.Context(), tt.opts)
			if err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if res.Pruned != tt.wantPruned {
				t.Errorf("Pruned = %d, want %d", res.Pruned, tt.wantPruned)
			}
			if diff := cmp.Diff(tt.wantAll, latest(t, s, AllSlug, 10)); diff != "" {
				t.Errorf("all (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWorld, latest(t, s, "world", 10)); diff != "" {
				t.Errorf("world (-want +got):\n%s", diff)
			}
			counts, err := s.SourceArticleCounts(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := counts[testFeed], len(tt.wantAll); got != want {
				t.Errorf("articles counted for the source = %d, want %d", got, want)
			}
			// The source still lists every item: pruned ones stay pruned.
			again := save(t, s, arts...)
			if again.New != 0 || again.Suppressed != tt.wantPruned {
				t.Errorf("re-save: %+v, want 0 new and %d suppressed", again, tt.wantPruned)
			}
			if diff := cmp.Diff(tt.wantAll, latest(t, s, AllSlug, 10)); diff != "" {
				t.Errorf("all after re-save (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPruneTombstonesExpire(t *testing.T) {
	now := testNow()
	s := newBackendStore(t, Options{Now: func() time.Time { return now }})
	old := testArticle("old", hour(1), "world")
	save(t, s, old)
	res, err := s.Prune(t.Context(), PruneOptions{MaxAge: time.Hour, TombstoneTTL: 48 * time.Hour})
	if err != nil || res.Pruned != 1 {
		t.Fatalf("Prune: %+v, %v", res, err)
	}
	now = now.Add(47 * time.Hour)
	if res, err := s.Prune(t.Context(), PruneOptions{MaxAge: time.Hour, TombstoneTTL: 48 * time.Hour}); err != nil || res.Expired != 0 {
		t.Fatalf("Prune before expiry: %+v, %v", res, err)
	}
	now = now.Add(2 * time.Hour)
	if res, err := s.Prune(t.Context(), PruneOptions{MaxAge: time.Hour, TombstoneTTL: 48 * time.Hour}); err != nil || res.Expired != 1 {
		t.Fatalf("Prune after expiry: %+v, %v", res, err)
	}
	if got := save(t, s, old); got.New != 1 {
		t.Errorf("save after the tombstone expired: %+v, want 1 new", got)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestFileSizePlateausUnderChurn ingests new articles and prunes old ones in
// cycles: bbolt reuses the freed pages, so the file stops growing.
func TestFileSizePlateausUnderChurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	now := testNow()
	s, err := Open(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const cycles, perCycle = 30, 200
	sizes := make([]int64, 0, cycles)
	for c := range cycles {
		var arts []Article
		for i := range perCycle {
			a := testArticle(fmt.Sprintf("c%d-%d", c, i), now.Add(-time.Duration(i)*time.Second), "world", "tech")
			a.Content = fmt.Sprintf("<p>%0500d</p>", i)
			arts = append(arts, a)
		}
		save(t, s, arts...)
		if _, err := s.Prune(t.Context(), PruneOptions{MaxPerCategory: 2 * perCycle, TombstoneTTL: 3 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, info.Size())
	}
	if err := s.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	mid, last := sizes[cycles/3], sizes[cycles-1]
	t.Logf("file size after cycle 1: %d, %d: %d, %d: %d", sizes[0], cycles/3+1, mid, cycles, last)
	if last > mid {
		t.Errorf("file grew from %d to %d bytes between cycle %d and %d under steady churn", mid, last, cycles/3+1, cycles)
	}
}
