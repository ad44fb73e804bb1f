package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// copyOf returns a's copy as another source carried it: same link, so the
// URL identity merges it into a's story.
func copyOf(a Article, feed string) Article {
	a.ID = story.ItemKey(feed, a.GUID, "", "", "")
	a.Source = Source{FeedURL: feed, ID: feed, Title: feed}
	return a
}

// coverageStore stores stories a (1 source, 10:00), b (3 sources, 08:00),
// c (2 sources, 11:00, in politics), d (3 sources, 06:00) and e (2
// sources, 12:00, about sport), filed in world (c in politics).
func coverageStore(t *testing.T) *Store {
	t.Helper()
	s := openTestStore(t)
	story := func(name string, h, sources int, slug string) []Article {
		a := testArticle(name, hour(h), slug)
		out := []Article{a}
		for i := 1; i < sources; i++ {
			out = append(out, copyOf(a, fmt.Sprintf("https://copy%d.example/feed", i)))
		}
		return out
	}
	e := story("e", 12, 2, "world")
	for i := range e {
		e[i].Title = "Sport: " + e[i].Title
	}
	save(t, s, slices.Concat(story("a", 10, 1, "world"), story("b", 8, 3, "world"),
		story("c", 11, 2, "politics"), story("d", 6, 3, "world"), e)...)
	return s
}

func TestViewPage(t *testing.T) {
	t.Parallel()
	s := coverageStore(t)
	notSport := func(a Article) bool { return !strings.HasPrefix(a.Title, "Sport") }
	tests := []struct {
		name  string
		slugs []string
		q     PageQuery
		want  []string
	}{
		{"newest of one category", []string{"world"}, PageQuery{Limit: 10}, []string{"e", "a", "b", "d"}},
		{"two categories, each story once", []string{"world", "politics", AllSlug}, PageQuery{Limit: 10}, []string{"e", "c", "a", "b", "d"}},
		{"by coverage, then newest", []string{"world", "politics"}, PageQuery{Limit: 10, ByCoverage: true}, []string{"b", "d", "e", "c", "a"}},
		{"by coverage, at least 2 sources", []string{AllSlug}, PageQuery{Limit: 10, ByCoverage: true, MinSources: 2}, []string{"b", "d", "e", "c"}},
		{"newest, at least 3 sources", []string{AllSlug}, PageQuery{Limit: 10, MinSources: 3}, []string{"b", "d"}},
		{"by coverage since 07:00", []string{AllSlug}, PageQuery{Limit: 10, ByCoverage: true, Since: hour(7)}, []string{"b", "e", "c", "a"}},
		{"newest since 09:00", []string{AllSlug}, PageQuery{Limit: 10, Since: hour(9)}, []string{"e", "c", "a"}},
		{"by coverage, filtered", []string{AllSlug}, PageQuery{Limit: 10, ByCoverage: true, Keep: notSport}, []string{"b", "d", "c", "a"}},
		{"by coverage, limited", []string{AllSlug}, PageQuery{Limit: 2, ByCoverage: true}, []string{"b", "d"}},
		{"unknown category", []string{"nope"}, PageQuery{Limit: 10, ByCoverage: true}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.ViewPage(t.Context(), tt.slugs, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, guids(p.Articles)); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
		})
	}
}

// TestViewPageWalksBothWays pages a coverage view one entry at a time
// backwards, then forwards from the oldest page, and finds every story
// once in the same order, with the filters applied on every page.
func TestViewPageWalksBothWays(t *testing.T) {
	t.Parallel()
	s := coverageStore(t)
	base := PageQuery{Limit: 1, ByCoverage: true, MinSources: 2, Since: hour(7)}
	var back []string
	q := base
	var last Page
	for range 10 {
		p, err := s.ViewPage(t.Context(), []string{AllSlug}, q)
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, guids(p.Articles)...)
		last = p
		if !p.HasOlder || p.Oldest == nil {
			break
		}
		q.Before = p.Oldest
	}
	if diff := cmp.Diff([]string{"b", "e", "c"}, back); diff != "" {
		t.Fatalf("backwards (-want +got):\n%s", diff)
	}
	var fwd []string
	q = base
	q.After = last.Newest
	for range 10 {
		p, err := s.ViewPage(t.Context(), []string{AllSlug}, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Articles) == 0 {
			break
		}
		fwd = append(guids(p.Articles), fwd...)
		q.After = p.Newest
	}
	if diff := cmp.Diff([]string{"b", "e"}, fwd); diff != "" {
		t.Errorf("forwards from the oldest (-want +got):\n%s", diff)
	}
}

// TestCoverageFollowsMerges checks that a story moves up the coverage
// index when a copy joins it and leaves it when deleted.
func TestCoverageFollowsMerges(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	a, b := testArticle("a", hour(9), "world"), testArticle("b", hour(10), "world")
	save(t, s, a, b)
	top := func() []string {
		p, err := s.ViewPage(t.Context(), []string{"world"}, PageQuery{Limit: 10, ByCoverage: true})
		if err != nil {
			t.Fatal(err)
		}
		return guids(p.Articles)
	}
	if diff := cmp.Diff([]string{"b", "a"}, top()); diff != "" {
		t.Fatalf("before the copy (-want +got):\n%s", diff)
	}
	save(t, s, copyOf(a, "https://other.example/feed"))
	if diff := cmp.Diff([]string{"a", "b"}, top()); diff != "" {
		t.Fatalf("after a copy of a (-want +got):\n%s", diff)
	}
	if _, err := s.Delete(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b"}, top()); diff != "" {
		t.Errorf("after deleting a (-want +got):\n%s", diff)
	}
}

// TestOpenBuildsCoverage opens a file written before the coverage index
// existed (the bucket removed) and finds the index built and checked.
func TestOpenBuildsCoverage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tributary.db")
	s, err := Open(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	a := testArticle("a", hour(9), "world")
	if _, err := s.SaveArticles(t.Context(), []Article{testArticle("b", hour(10), "world"), a, copyOf(a, "https://other.example/feed")}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(context.Background(), func(tx kv.Tx) error { return tx.DeleteBucket([]byte(bucketCoverage)) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestFile(t, path) // its cleanup runs Check
	p, err := s.ViewPage(t.Context(), []string{"world"}, PageQuery{Limit: 10, ByCoverage: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, guids(p.Articles)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
