package storage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pageGUIDs returns the GUIDs of a page and fails the test on error.
func pageGUIDs(t *testing.T, s *Store, slug string, q PageQuery) ([]string, Page) {
	t.Helper()
	p, err := s.Page(t.Context(), slug, q)
	if err != nil {
		t.Fatalf("Page(%q, %+v): %v", slug, q, err)
	}
	return guids(p.Articles), p
}

func TestPageWalksWholeHistory(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	var arts []Article
	for h := range 7 {
		arts = append(arts, testArticle(fmt.Sprintf("s%d", h), hour(h), "world"))
	}
	save(t, s, arts...)

	// Walk backwards with Before from the newest page.
	var walked []string
	q := PageQuery{Limit: 3}
	var pages [][]string
	for range 5 {
		got, p := pageGUIDs(t, s, "world", q)
		pages = append(pages, got)
		walked = append(walked, got...)
		if !p.HasOlder {
			break
		}
		q = PageQuery{Limit: 3, Before: p.Oldest}
	}
	if diff := cmp.Diff([]string{"s6", "s5", "s4", "s3", "s2", "s1", "s0"}, walked); diff != "" {
		t.Errorf("walk (-want +got):\n%s", diff)
	}
	if len(pages) != 3 {
		t.Errorf("walk took %d pages, want 3", len(pages))
	}

	tests := []struct {
		name        string
		q           func(all []Article) PageQuery
		want        []string
		newer, olde bool
	}{
		{"first page", func([]Article) PageQuery { return PageQuery{Limit: 2} }, []string{"s6", "s5"}, false, true},
		{"before middle", func(a []Article) PageQuery { return PageQuery{Limit: 2, Before: CursorOf(a[4])} }, []string{"s3", "s2"}, true, true},
		{"before oldest", func(a []Article) PageQuery { return PageQuery{Limit: 2, Before: CursorOf(a[0])} }, []string{}, true, false},
		{"after middle", func(a []Article) PageQuery { return PageQuery{Limit: 2, After: CursorOf(a[2])} }, []string{"s4", "s3"}, true, true},
		{"after near newest", func(a []Article) PageQuery { return PageQuery{Limit: 3, After: CursorOf(a[5])} }, []string{"s6"}, false, true},
		{"after newest", func(a []Article) PageQuery { return PageQuery{Limit: 3, After: CursorOf(a[6])} }, []string{}, false, true},
		{"zero limit", func([]Article) PageQuery { return PageQuery{} }, []string{}, false, false},
	}
	stored, err := s.Latest(t.Context(), "world", 100)
	if err != nil {
		t.Fatal(err)
	}
	// stored is newest first; index it oldest first like arts.
	byAge := make([]Article, len(stored))
	for i, a := range stored {
		byAge[len(stored)-1-i] = a
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p := pageGUIDs(t, s, "world", tt.q(byAge))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
			if p.HasNewer != tt.newer || p.HasOlder != tt.olde {
				t.Errorf("HasNewer, HasOlder = %v, %v; want %v, %v", p.HasNewer, p.HasOlder, tt.newer, tt.olde)
			}
		})
	}
}

func TestPageCursorSurvivesRemoval(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	a, b, c := testArticle("a", hour(1), "world"), testArticle("b", hour(2), "world"), testArticle("c", hour(3), "world")
	save(t, s, a, b, c)
	// A cursor between stored keys (b's position, b re-dated away) still
	// selects what is older than that position.
	cur := CursorOf(b)
	b.Published, b.Updated = hour(5), hour(5)
	save(t, s, b)
	got, _ := pageGUIDs(t, s, "world", PageQuery{Limit: 5, Before: cur})
	if diff := cmp.Diff([]string{"a"}, got); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestPageErrors(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	if _, err := s.Page(t.Context(), "world", PageQuery{Limit: 1, Before: Cursor("short")}); !errors.Is(err, ErrInvalidCursor) {
		t.Errorf("short cursor: err = %v, want ErrInvalidCursor", err)
	}
	p, err := s.Page(t.Context(), "nothing", PageQuery{Limit: 1})
	if err != nil || len(p.Articles) != 0 || p.HasNewer || p.HasOlder {
		t.Errorf("unknown slug: %+v, %v", p, err)
	}
}
