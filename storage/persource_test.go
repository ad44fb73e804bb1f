package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/tributary/tributary/story"
)

func TestLatestPerSource(t *testing.T) {
	s := openTestStore(t)
	var arts []Article
	for i := range 100 { // the 100 newest are from one source
		a := testArticle(fmt.Sprint("chatty-", i), hour(12).Add(-time.Duration(i)*time.Minute), "world")
		arts = append(arts, a)
	}
	for i := range 3 {
		a := testArticle(fmt.Sprint("quiet-", i), hour(6).Add(-time.Duration(i)*time.Minute), "world")
		a.Source = Source{FeedURL: "https://quiet.example/feed", ID: "quiet", Title: "Quiet"}
		a.ID = story.ItemKey(a.Source.FeedURL, a.GUID, "", "", "")
		arts = append(arts, a)
	}
	save(t, s, arts...)
	tests := []struct {
		name        string
		limit, max  int
		wantFirst   string
		wantEntries int
	}{
		{"no cap is Latest", 5, 0, "chatty-0", 5},
		// 10 × perSourceScan entries cover all 103: the quiet source is reached.
		{"cap 2", 10, 2, "chatty-0", 4},
		{"cap 1", 10, 1, "chatty-0", 2},
		// 5 × perSourceScan = 100 entries are read: the quiet source, behind
		// 100 chatty entries, is out of reach.
		{"bounded scan", 5, 2, "chatty-0", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.LatestPerSource(t.Context(), "world", tt.limit, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantEntries || got[0].GUID != tt.wantFirst {
				t.Errorf("LatestPerSource(%d, %d) = %v", tt.limit, tt.max, guids(got))
			}
			if tt.max > 0 {
				per := map[string]int{}
				for _, a := range got {
					per[a.Source.FeedURL]++
					if per[a.Source.FeedURL] > tt.max {
						t.Errorf("source %s has %d entries, cap %d", a.Source.FeedURL, per[a.Source.FeedURL], tt.max)
					}
				}
			}
		})
	}
}
