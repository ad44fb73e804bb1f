package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/story"
)

// storyArticle returns the labelled story group.name (see ../story/testdata/dupes),
// edited by the edit named editName ("" for none), as an item of feed at
// link, filed in slugs.
func storyArticle(t *testing.T, group, name, editName, feed, link string, slugs ...string) Article {
	t.Helper()
	var st *labelStory
	for _, s := range loadLabelStories(t) {
		if s.group == group && s.name == name {
			st = &s
		}
	}
	if st == nil {
		t.Fatalf("no labelled story %s.%s", group, name)
	}
	var e *edit
	for _, x := range edits() {
		if x.name == editName {
			e = &x
		}
	}
	a := labelArticle(*st, e)
	a.ID = story.ItemKey(feed, "", link, "", "")
	a.Link = story.CleanURL(link)
	a.Source = Source{FeedURL: feed, ID: feed, Title: "Feed " + feed}
	for _, s := range slugs {
		a.Categories = append(a.Categories, Category{Slug: s, Name: s})
	}
	return a
}

func TestSaveMergesSyndicatedCopies(t *testing.T) {
	s := openTestStore(t)
	const bbg, mint, yahoo = "https://bloomberg.example/feed", "https://mint.example/feed", "https://yahoo.example/feed"
	origin := storyArticle(t, "summit", "base", "", bbg, "https://bloomberg.example/a/1", "politics")
	other := storyArticle(t, "summit", "europe", "", bbg, "https://bloomberg.example/a/2", "politics")
	if res := save(t, s, origin, other); res != (SaveResult{New: 2}) {
		t.Fatalf("first save: %+v", res)
	}
	mintCopy := storyArticle(t, "summit", "base", "wire-agency", mint, "https://mint.example/x?utm_source=rss", "world", "u-s-russia-relations")
	yahooCopy := storyArticle(t, "summit", "base", "summary-suffix-boilerplate", yahoo, "https://yahoo.example/y", "world")
	if res := save(t, s, mintCopy, yahooCopy); res != (SaveResult{Merged: 2}) {
		t.Fatalf("copies: %+v", res)
	}
	// Seen again, the copies change nothing.
	if res := save(t, s, mintCopy, yahooCopy); res != (SaveResult{Unchanged: 2}) {
		t.Fatalf("copies again: %+v", res)
	}

	got, found, err := s.Article(t.Context(), origin.ID)
	if err != nil || !found {
		t.Fatalf("Article: %t %v", found, err)
	}
	wantVia := []Copy{
		{Source: mintCopy.Source, Link: "https://mint.example/x"},
		{Source: yahooCopy.Source, Link: "https://yahoo.example/y"},
	}
	if diff := cmp.Diff(wantVia, got.Via); diff != "" {
		t.Errorf("Via (-want +got):\n%s", diff)
	}
	wantCats := []Category{{"politics", "politics"}, {"u-s-russia-relations", "u-s-russia-relations"}, {"world", "world"}}
	if diff := cmp.Diff(wantCats, got.Categories); diff != "" {
		t.Errorf("Categories (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		slug string
		want int
	}{{AllSlug, 2}, {"politics", 2}, {"world", 1}, {"u-s-russia-relations", 1}} {
		arts, err := s.Latest(t.Context(), tt.slug, 10)
		if err != nil || len(arts) != tt.want {
			t.Errorf("Latest(%s): %d articles, %v; want %d", tt.slug, len(arts), err, tt.want)
		}
	}

	// An edit of the origin keeps the copies and their categories.
	edited := origin
	edited.Updated = origin.Published.Add(time.Hour)
	edited.Title += " (Corrected)"
	if res := save(t, s, edited); res != (SaveResult{Updated: 1}) {
		t.Fatalf("edit: %+v", res)
	}
	got, _, _ = s.Article(t.Context(), origin.ID)
	if len(got.Via) != 2 || len(got.Categories) != 3 || got.Title != edited.Title {
		t.Errorf("after edit: %q via %d, %d categories", got.Title, len(got.Via), len(got.Categories))
	}
}

func TestSaveKeepsDistinctStoriesApart(t *testing.T) {
	s := openTestStore(t)
	var arts []Article
	for i, name := range []string{"base", "europe", "rubio", "followup", "live1", "live2", "live3"} {
		feed := fmt.Sprintf("https://feed%d.example/rss", i)
		arts = append(arts, storyArticle(t, "summit", name, "", feed, feed+"/story", "world"))
	}
	if res := save(t, s, arts...); res != (SaveResult{New: len(arts)}) {
		t.Errorf("distinct stories: %+v, want all new", res)
	}
}

func TestSaveURLIdentity(t *testing.T) {
	s := openTestStore(t)
	const feed = "https://example.com/feed"
	a := storyArticle(t, "fed", "base", "", feed, "https://www.example.com/2025/fed-holds/", "business")
	if res := save(t, s, a); res != (SaveResult{New: 1}) {
		t.Fatalf("first: %+v", res)
	}
	tests := []struct {
		name, feed, link string
		want             SaveResult
	}{
		// Same source, no GUID, the link changes form: the same item.
		{"tracking parameters", feed, "https://www.example.com/2025/fed-holds/?utm_source=x#top", SaveResult{Unchanged: 1}},
		// The link takes its new form; the story keeps its ID.
		{"amp and http", feed, "http://amp.example.com/2025/fed-holds/amp", SaveResult{Updated: 1}},
		{"back without www", feed, "https://example.com/2025/fed-holds", SaveResult{Updated: 1}},
		// Another source linking the same article: a copy.
		{"other source same URL", "https://aggregator.example/feed", "https://example.com/2025/fed-holds", SaveResult{Merged: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := a
			b.ID = story.ItemKey(tt.feed, "", tt.link, "", "")
			b.Link = story.CleanURL(tt.link)
			b.Source = Source{FeedURL: tt.feed, ID: tt.feed, Title: "x"}
			b.Title = "Completely different words here today"
			b.Content = "<p>Different text entirely so only the URL can match it.</p>"
			if tt.feed == feed {
				b.Title, b.Content, b.Source = a.Title, a.Content, a.Source
			}
			if res := save(t, s, b); res != tt.want {
				t.Errorf("save: %+v, want %+v", res, tt.want)
			}
		})
	}
	if n := len(latest(t, s, AllSlug, 10)); n != 1 {
		t.Errorf("%d stories stored, want 1", n)
	}
}

func TestDeleteTombstones(t *testing.T) {
	s := openTestStore(t)
	const feed, other = "https://example.com/feed", "https://other.example/feed"
	a := storyArticle(t, "quake", "base", "", feed, "https://example.com/quake", "world")
	b := storyArticle(t, "quake", "volcano", "", feed, "https://example.com/volcano", "world")
	save(t, s, a, b)
	n, err := s.Delete(t.Context(), a.ID)
	if err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	if n, err := s.Delete(t.Context(), a.ID); err != nil || n != 0 {
		t.Errorf("second Delete = %d, %v; want 0, nil", n, err)
	}
	if _, err := s.Delete(t.Context(), "not-an-id"); err == nil {
		t.Error("Delete of an invalid id succeeded")
	}
	tests := []struct {
		name string
		art  Article
		want SaveResult
	}{
		{"same item again", a, SaveResult{Suppressed: 1}},
		{"same link under another scheme", func() Article {
			c := storyArticle(t, "fed", "ecb", "", feed, "http://www.example.com/quake/", "world")
			return c
		}(), SaveResult{Suppressed: 1}},
		// A copy from a new source is not tied to the deleted story any
		// more (its sketch is gone): it is stored as a story of its own.
		{"copy from another source", storyArticle(t, "quake", "base", "suffix-today", other, "https://other.example/q", "world"), SaveResult{New: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := save(t, s, tt.art); res != tt.want {
				t.Errorf("save: %+v, want %+v", res, tt.want)
			}
		})
	}
	if got := latest(t, s, "world", 10); len(got) != 2 {
		t.Errorf("world holds %d stories, want 2", len(got))
	}
}

func TestDuplicateWindow(t *testing.T) {
	s := openTestStore(t)
	a := storyArticle(t, "chips", "base", "", "https://a.example/feed", "https://a.example/1", "tech")
	late := storyArticle(t, "chips", "base", "suffix-today", "https://b.example/feed", "https://b.example/1", "tech")
	late.Published = a.Published.Add(story.DupWindow + time.Hour)
	if res := save(t, s, a, late); res != (SaveResult{New: 2}) {
		t.Errorf("copies %v apart: %+v, want two stories", story.DupWindow+time.Hour, res)
	}
	inside := storyArticle(t, "chips", "base", "suffix-bloomberg", "https://c.example/feed", "https://c.example/1", "tech")
	inside.Published = a.Published.Add(story.DupWindow - time.Hour)
	if res := save(t, s, inside); res != (SaveResult{Merged: 1}) {
		t.Errorf("copy inside the window: %+v, want merged", res)
	}
}

func TestSyndicationAcrossManySources(t *testing.T) {
	s := openTestStore(t)
	stories := loadLabelStories(t)
	es := edits()
	const sources = 50
	origins := map[string]bool{}
	for i := range sources {
		feed := fmt.Sprintf("https://source%02d.example/rss", i)
		var batch []Article
		// Each source carries an overlapping window of the wire stories,
		// each with its own edit.
		for j, st := range stories {
			if (i+j)%3 == 0 {
				continue
			}
			e := es[(i+j)%len(es)]
			a := labelArticle(st, &e)
			a.Link = fmt.Sprintf("https://source%02d.example/%s-%s", i, st.group, st.name)
			a.ID = story.ItemKey(feed, "", a.Link, "", "")
			a.Source = Source{FeedURL: feed, ID: feed, Title: feed}
			a.Categories = []Category{{Slug: fmt.Sprintf("cat%d", i%5), Name: "Cat"}}
			batch = append(batch, a)
			origins[st.group+"."+st.name] = true
		}
		if _, err := s.SaveArticles(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	arts, err := s.Latest(t.Context(), AllSlug, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != len(origins) {
		t.Errorf("%d stories stored from %d sources, want %d (one per wire story)", len(arts), sources, len(origins))
	}
	for _, a := range arts {
		feeds := []string{a.Source.FeedURL}
		for _, c := range a.Via {
			feeds = append(feeds, c.Source.FeedURL)
		}
		slices.Sort(feeds)
		if len(slices.Compact(feeds)) != len(feeds) || len(feeds) < sources/2 {
			t.Errorf("%q: carried by %d sources (want ≥ %d, no repeats)", a.Title, len(feeds), sources/2)
		}
		if len(a.Categories) != 5 {
			t.Errorf("%q: %d categories, want the 5 of its sources", a.Title, len(a.Categories))
		}
	}
}

func TestSameSourceTemplateBodiesStayApart(t *testing.T) {
	s := openTestStore(t)
	var arts []Article
	for i := range 5 {
		a := testArticle(fmt.Sprint("episode-", i), hour(8+i), "podcasts")
		a.Title = fmt.Sprintf("Weekly Briefing Episode %d", i)
		a.Content = strings.Repeat("<p>Listen to the full episode on our website and subscribe wherever you get your podcasts.</p>", 5)
		arts = append(arts, a)
	}
	if res := save(t, s, arts...); res != (SaveResult{New: 5}) {
		t.Errorf("same-source items with one template body: %+v, want 5 new", res)
	}
}

// Copies of the same stories saved at the same moment by several fetches
// (so in one shared transaction or in consecutive ones, planned first in
// read transactions that cannot see each other) still make one story each,
// which lists every other source.
func TestConcurrentCopiesMergeOnce(t *testing.T) {
	var groups []string
	for _, s := range loadLabelStories(t) {
		if s.name == "base" {
			groups = append(groups, s.group)
		}
	}
	editsBySource := []string{"", "suffix-today", "suffix-bloomberg", "wire-agency", "tracking-links", "copyright"}
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			s := openTestStore(t)
			start := make(chan struct{})
			errs := make(chan error, len(editsBySource))
			for i, e := range editsBySource {
				feed := fmt.Sprintf("https://source%d.example/feed", i)
				var arts []Article
				for _, g := range groups {
					arts = append(arts, storyArticle(t, g, "base", e, feed, fmt.Sprintf("https://source%d.example/%s", i, g), "world"))
				}
				go func() {
					<-start
					_, err := s.SaveArticles(context.Background(), arts)
					errs <- err
				}()
			}
			close(start)
			for range editsBySource {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			stories, err := s.Latest(t.Context(), AllSlug, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(stories) != len(groups) {
				t.Fatalf("%d stories stored, want %d (one per group)", len(stories), len(groups))
			}
			for _, a := range stories {
				if len(a.Via) != len(editsBySource)-1 {
					t.Errorf("story %q lists %d other sources, want %d", a.Title, len(a.Via), len(editsBySource)-1)
				}
			}
		})
	}
}
