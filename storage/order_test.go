package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// permutations returns every order of the indexes 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// TestEarliestCopyIsPrimary saves three copies of one story, one save
// each, in every order: the story always names the earliest-published
// copy as its primary (source, link, title, times) and the others in Via,
// sorted by feed URL; its ID is the first stored item's. Saved again, no
// copy changes anything.
func TestEarliestCopyIsPrimary(t *testing.T) {
	const bbg, mint, yahoo = "https://bloomberg.example/feed", "https://mint.example/feed", "https://yahoo.example/feed"
	copies := []Article{
		storyArticle(t, "summit", "base", "", bbg, "https://bloomberg.example/a/1", "politics"),
		storyArticle(t, "summit", "base", "wire-agency", mint, "https://mint.example/x", "world"),
		storyArticle(t, "summit", "base", "summary-suffix-boilerplate", yahoo, "https://yahoo.example/y", "world"),
	}
	copies[0].Published = hour(11)
	copies[1].Published = hour(9) // the earliest
	copies[2].Published = hour(10)
	for _, order := range permutations(len(copies)) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			s := newTestStore(t)
			for _, i := range order {
				save(t, s, copies[i])
			}
			stored := latest(t, s, AllSlug, 10)
			if len(stored) != 1 {
				t.Fatalf("%d stories, want 1", len(stored))
			}
			got, found, err := s.Article(t.Context(), copies[order[0]].ID)
			if err != nil || !found {
				t.Fatalf("the first stored item's ID holds no story: %t %v", found, err)
			}
			want := copies[1]
			if got.ID != copies[order[0]].ID || got.Source != want.Source || got.Link != want.Link ||
				got.Title != want.Title || !got.Published.Equal(want.Published) {
				t.Errorf("story %s %q from %s <%s> at %v, want ID %s and the Mint copy",
					got.ID, got.Title, got.Source.FeedURL, got.Link, got.Published, copies[order[0]].ID)
			}
			wantVia := []Copy{{Source: copies[0].Source, Link: copies[0].Link}, {Source: copies[2].Source, Link: copies[2].Link}}
			if diff := cmp.Diff(wantVia, got.Via); diff != "" {
				t.Errorf("Via (-want +got):\n%s", diff)
			}
			if res := save(t, s, copies...); res != (SaveResult{Unchanged: 3}) {
				t.Errorf("saved again: %+v, want 3 unchanged", res)
			}
		})
	}
}

// TestCopyJoinsEarliestMatchingStory stores two distinct stories that a
// third item matches (the first and the second half of one text, under
// the same headline, and then the whole text), in both orders: the whole
// text joins the story published first, not the one the index finds first.
func TestCopyJoinsEarliestMatchingStory(t *testing.T) {
	full := storyArticle(t, "summit", "base", "", "https://c.example/feed", "https://c.example/full")
	half := func(feed, link string, first bool, published time.Time) Article {
		a := storyArticle(t, "summit", "base", "", feed, link)
		var s labelStory
		for _, x := range loadLabelStories(t) {
			if x.group == "summit" && x.name == "base" {
				s = x
			}
		}
		n := len(s.paras) / 2
		paras := s.paras[n:]
		if first {
			paras = s.paras[:n]
		}
		a.Content = labelArticle(labelStory{title: s.title, paras: paras}, nil).Content
		a.Published = published
		return a
	}
	for _, earlyFirstHalf := range []bool{true, false} {
		a := half("https://a.example/feed", "https://a.example/1", true, hour(11))
		b := half("https://b.example/feed", "https://b.example/2", false, hour(11))
		early := b
		if earlyFirstHalf {
			a.Published, early = hour(10), a
		} else {
			b.Published, early = hour(10), b
		}
		full.Published = hour(12)
		for _, order := range [][]Article{{a, b}, {b, a}} {
			t.Run(fmt.Sprintf("early %s, %s stored first", early.Link, order[0].Link), func(t *testing.T) {
				s := newTestStore(t)
				if res := save(t, s, order...); res.New != 2 {
					t.Fatalf("the halves: %+v, want two new stories", res)
				}
				if res := save(t, s, full); res.Merged != 1 {
					t.Fatalf("whole text: %+v, want merged", res)
				}
				got, _, err := s.Article(t.Context(), early.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Via) != 1 || got.Via[0].Link != full.Link {
					t.Errorf("the earliest story has copies %+v, want the whole text", got.Via)
				}
			})
		}
	}
}
