package storage

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkSaveLargeFeed measures one SaveArticles call carrying every item
// of one very large feed (all new, one source) into an empty store, as a
// first fetch of a 100,000-item feed with fetch.max_items raised does. The
// ns/item figure stays flat from 25k to 100k items when a save costs time
// linear in its items.
//
//	go test -run '^$' -bench BenchmarkSaveLargeFeed -benchtime 1x ./storage/
func BenchmarkSaveLargeFeed(b *testing.B) {
	for _, n := range []int{25_000, 50_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			arts := make([]Article, n)
			for k := range arts {
				arts[k] = benchStory(k, "large.example")
			}
			iter := 0
			for b.Loop() {
				iter++
				s, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("large-%d.db", iter)), Options{})
				if err != nil {
					b.Fatal(err)
				}
				res, err := s.SaveArticles(b.Context(), arts)
				if err != nil || res.New+res.Merged != n {
					b.Fatalf("save %d: %+v, %v", n, res, err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iter*n), "ns/item")
		})
	}
}
