package storage

import (
	"fmt"
	"path/filepath"
	"testing"
)

// benchFeedItems is the size of the feeds of BenchmarkSaveBackends, and
// benchFeedCopies how many of their items are copies of stories another
// source's feed brought before.
const (
	benchFeedItems  = 50
	benchFeedCopies = 10
)

// benchFeed returns the items of the i-th feed a first ingest saves: from
// one of 20 sources, benchFeedItems-benchFeedCopies new stories and
// benchFeedCopies syndicated copies of stories of feed i-1, which another
// source published.
func benchFeed(i int) []Article {
	const fresh = benchFeedItems - benchFeedCopies
	feed := fmt.Sprintf("source%d.example", i%20)
	arts := make([]Article, 0, benchFeedItems)
	for k := i * fresh; k < (i+1)*fresh; k++ {
		arts = append(arts, benchStory(k, feed))
	}
	if i > 0 {
		for k := (i - 1) * fresh; k < (i-1)*fresh+benchFeedCopies; k++ {
			arts = append(arts, benchStory(k, feed))
		}
	}
	return arts
}

// BenchmarkSaveBackends measures a first ingest on each backend: every op
// is the SaveArticles of one new 50-item feed (40 new stories, 10 copies
// of stories stored before) into a store that starts empty, bbolt as Open
// opens it (every commit synced) and PostgreSQL on the test server (fsync
// off; see pgtest). ns/item is the cost of one item; the target is
// PostgreSQL within twice bbolt's.
//
//	go test -run '^$' -bench BenchmarkSaveBackends -benchtime 200x ./storage/
func BenchmarkSaveBackends(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) *Store
	}{
		{"bolt", func(b *testing.B) *Store {
			s, err := Open(filepath.Join(b.TempDir(), "tributary.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) *Store {
			s, err := New(openPostgresTestDB(b), Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			b.Cleanup(func() { _ = s.Close() })
			items, i := 0, 0
			for b.Loop() {
				feed := benchFeed(i)
				res, err := s.SaveArticles(b.Context(), feed)
				if err != nil || res.New+res.Merged != len(feed) {
					b.Fatalf("save feed %d: %+v, %v", i, res, err)
				}
				items += len(feed)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(items), "ns/item")
		})
	}
}
