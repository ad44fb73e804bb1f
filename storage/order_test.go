package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/story"
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
			s := openTestStore(t)
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
// text joins the story published first, not the one the index finds
// first, and the other story is absorbed into it.
func TestCopyJoinsEarliestMatchingStory(t *testing.T) {
	full := storyArticle(t, "summit", "base", "", "https://c.example/feed", "https://c.example/full")
	half := func(feed, link string, first bool, published time.Time) Article {
		return halfStory(t, feed, link, first, published)
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
				s := openTestStore(t)
				if res := save(t, s, order...); res.New != 2 {
					t.Fatalf("the halves: %+v, want two new stories", res)
				}
				if res := save(t, s, full); res.Merged != 1 {
					t.Fatalf("whole text: %+v, want merged", res)
				}
				stored, err := s.Latest(t.Context(), AllSlug, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(stored) != 1 || stored[0].ID != early.ID || len(stored[0].Via) != 2 {
					t.Errorf("stories %+v, want one: %s with two copies", stored, early.ID)
				}
			})
		}
	}
}

// halfStory returns the first or the second half of the paragraphs of the
// labelled story summit.base, under its headline, as an item of feed at
// link published at published: each half is a copy of the whole story,
// but the two halves are not copies of each other.
func halfStory(t *testing.T, feed, link string, first bool, published time.Time) Article {
	t.Helper()
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

// TestChainsResolveInEveryOrder saves a chain (the first half of a text,
// the second half, and the whole text: each half matches the whole, the
// halves do not match each other) in every order, one item per save: it
// always ends as one story with the three copies, attributed to the
// earliest one; a story absorbed on the way leaves an alias, so its
// items seen again change nothing; deleting the story leaves no record.
func TestChainsResolveInEveryOrder(t *testing.T) {
	items := []Article{
		halfStory(t, "https://a.example/feed", "https://a.example/1", true, hour(11)),
		halfStory(t, "https://b.example/feed", "https://b.example/2", false, hour(10)),
		storyArticle(t, "summit", "base", "", "https://c.example/feed", "https://c.example/full", "world"),
	}
	items[2].Published = hour(12)
	for _, order := range permutations(len(items)) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			s := openTestStore(t)
			for _, i := range order {
				save(t, s, items[i])
			}
			stored, err := s.Latest(t.Context(), AllSlug, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != 1 {
				t.Fatalf("%d stories, want 1: %v", len(stored), guids(stored))
			}
			got := stored[0]
			members := []string{got.Source.FeedURL}
			for _, c := range got.Via {
				members = append(members, c.Source.FeedURL)
			}
			want := []string{"https://b.example/feed", "https://a.example/feed", "https://c.example/feed"}
			if diff := cmp.Diff(want, members); diff != "" {
				t.Errorf("primary and copies (-want +got):\n%s", diff)
			}
			if n := len(latest(t, s, "world", 10)); n != 1 {
				t.Errorf("category world holds %d stories, want 1", n)
			}
			if res := save(t, s, items...); res != (SaveResult{Unchanged: 3}) {
				t.Errorf("saved again: %+v, want 3 unchanged", res)
			}
			if _, err := s.Delete(t.Context(), got.ID); err != nil {
				t.Fatal(err)
			}
			if res := save(t, s, items...); res.New != 0 {
				t.Errorf("after delete: %+v, want every item suppressed", res)
			}
		})
	}
}

// TestUndatedCopiesByURLInEveryOrder saves two undated items of two
// sources with the same link, in both orders, at one instant: both count
// as published when first seen, so the feed URL that sorts first is the
// primary whichever arrives first.
func TestUndatedCopiesByURLInEveryOrder(t *testing.T) {
	items := []Article{testArticle("undated", time.Time{}), testArticle("undated", time.Time{})}
	items[1].Source = Source{FeedURL: "https://a-first.example/feed", ID: "a", Title: "A"}
	items[1].ID = story.ItemKey(items[1].Source.FeedURL, "undated", "", "", "")
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			s := openTestStore(t)
			for _, i := range order {
				save(t, s, items[i])
			}
			stored, err := s.Latest(t.Context(), AllSlug, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != 1 || stored[0].Source.FeedURL != items[1].Source.FeedURL || len(stored[0].Via) != 1 {
				t.Errorf("stories %+v, want one from %s with one copy", stored, items[1].Source.FeedURL)
			}
		})
	}
}
