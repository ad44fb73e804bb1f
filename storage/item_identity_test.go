package storage

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// feedItem is an item as one source's feed carries it.
type feedItem struct {
	guid, link, title, text string
}

// itemFeed is the source of the feedItem tests.
const itemFeed = "https://status.example.com/history.rss"

// article is the Article the fetcher makes of it.
func (it feedItem) article() Article {
	return Article{
		ID:        story.ItemKey(itemFeed, it.guid, it.link, it.title, it.text),
		GUID:      it.guid,
		Title:     it.title,
		Link:      story.CleanURL(it.link),
		Published: hour(9),
		Content:   "<p>" + it.text + "</p>",
		Source:    Source{FeedURL: itemFeed, ID: itemFeed, Title: "Status"},
	}
}

// storedGUIDs returns the sorted GUIDs of every stored story.
func storedGUIDs(t *testing.T, s *Store) []string {
	t.Helper()
	got := latest(t, s, AllSlug, 1000)
	slices.Sort(got)
	return got
}

func TestSameSourceItemIdentity(t *testing.T) {
	const home = "https://status.example.com/"
	const day = "http://scriptingnews.userland.com/backissues/2002/09/29"
	i1 := feedItem{"incident-1", home, "Elevated API error rates", "We are investigating elevated error rates on the API."}
	i2 := feedItem{"incident-2", home, "Delayed webhook delivery", "Webhooks are delivered with a delay of up to ten minutes."}
	i3 := feedItem{"incident-3", home, "Dashboard unavailable", "The dashboard does not load for some customers in Europe."}
	// A second outage with the same words as the first one.
	again := feedItem{"incident-4", home, i1.title, i1.text}
	renamed := i1
	renamed.guid = "incident-1-v2"
	minted := i1
	minted.guid = "incident-1-v3"
	edited := renamed
	edited.text = "Resolved: API error rates are back to normal."
	tests := []struct {
		name    string
		fetches [][]feedItem
		want    []SaveResult // per fetch
		stored  []string     // GUIDs of the stored stories
	}{
		{
			name:    "one link, distinct GUIDs, one fetch",
			fetches: [][]feedItem{{i3, i2, i1}},
			want:    []SaveResult{{New: 3}},
			stored:  []string{"incident-1", "incident-2", "incident-3"},
		},
		{
			name:    "one link, distinct GUIDs, one by one",
			fetches: [][]feedItem{{i1}, {i2, i1}, {i3, i2, i1}},
			want:    []SaveResult{{New: 1}, {New: 1, Unchanged: 1}, {New: 1, Unchanged: 2}},
			stored:  []string{"incident-1", "incident-2", "incident-3"},
		},
		{
			name: "fragment GUIDs of one page",
			fetches: [][]feedItem{{
				{day + "#When:6:56:02PM", day + "#When:6:56:02PM", "", "Joshua Allen: Who loves namespaces?"},
				{day + "#When:10:05:20AM", day + "#When:10:05:20AM", "", "RSS 2.0 is ready to go."},
			}},
			want:   []SaveResult{{New: 2}},
			stored: []string{day + "#When:10:05:20AM", day + "#When:6:56:02PM"},
		},
		{
			name:    "the same words under two GUIDs in one fetch",
			fetches: [][]feedItem{{again, i1}},
			want:    []SaveResult{{New: 2}},
			stored:  []string{"incident-1", "incident-4"},
		},
		{
			name:    "the same words under a new GUID while the old one is still carried",
			fetches: [][]feedItem{{i1}, {again, i1}},
			want:    []SaveResult{{New: 1}, {New: 1, Unchanged: 1}},
			stored:  []string{"incident-1", "incident-4"},
		},
		{
			name:    "renamed GUID: old one gone, same link and text",
			fetches: [][]feedItem{{i1}, {renamed}, {renamed}},
			want:    []SaveResult{{New: 1}, {Unchanged: 1}, {Unchanged: 1}},
			stored:  []string{"incident-1"},
		},
		{
			name:    "a new GUID minted on every fetch",
			fetches: [][]feedItem{{i1}, {renamed}, {minted}, {i1}},
			want:    []SaveResult{{New: 1}, {Unchanged: 1}, {Unchanged: 1}, {Unchanged: 1}},
			stored:  []string{"incident-1"},
		},
		{
			name:    "a renamed item edited later stays one story",
			fetches: [][]feedItem{{i1}, {renamed}, {edited}},
			want:    []SaveResult{{New: 1}, {Unchanged: 1}, {Updated: 1}},
			stored:  []string{"incident-1"},
		},
		{
			name:    "old GUID gone, new GUID on the same link with other text",
			fetches: [][]feedItem{{i1}, {i2}},
			want:    []SaveResult{{New: 1}, {New: 1}},
			stored:  []string{"incident-1", "incident-2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			var got []SaveResult
			for _, items := range tt.fetches {
				var arts []Article
				for _, it := range items {
					arts = append(arts, it.article())
				}
				got = append(got, save(t, s, arts...))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results per fetch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stored, storedGUIDs(t, s)); diff != "" {
				t.Errorf("stored GUIDs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSaveSplitsItemsMergedByEarlierRules opens a store in the state that
// earlier versions left a feed whose items share one link in: the first
// item's ID holding the last item's GUID and text, every other item
// aliased to it. The next fetch stores each item under its own ID and
// duplicates none.
func TestSaveSplitsItemsMergedByEarlierRules(t *testing.T) {
	const home = "https://podcast.example/"
	items := []feedItem{
		{"ep-3", home, "Episode 3: Tides", "We talk about tides and the moon."},
		{"ep-2", home, "Episode 2: Winds", "We talk about trade winds and sailing."},
		{"ep-1", home, "Episode 1: Clouds", "We talk about clouds and rain."},
	}
	s := openTestStore(t)
	first := items[0].article()
	collapsed := items[2].article()
	collapsed.ID = first.ID
	save(t, s, collapsed)
	err := s.db.Update(context.Background(), func(tx kv.Tx) error {
		for _, it := range items[1:] {
			if err := putIfAbsent(tx, bucketAliases, []byte(it.article().ID), first.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var arts []Article
	for _, it := range items {
		arts = append(arts, it.article())
	}
	if res := save(t, s, arts...); res != (SaveResult{New: 2, Updated: 1}) {
		t.Errorf("fetch after the upgrade: %+v, want 2 new and the first item updated", res)
	}
	if diff := cmp.Diff([]string{"ep-1", "ep-2", "ep-3"}, storedGUIDs(t, s)); diff != "" {
		t.Errorf("stored GUIDs (-want +got):\n%s", diff)
	}
	got, found, err := s.Article(t.Context(), first.ID)
	if err != nil || !found || got.Title != items[0].title {
		t.Errorf("first item's story: %q, %t, %v; want its own title %q", got.Title, found, err, items[0].title)
	}
	if res := save(t, s, arts...); res != (SaveResult{Unchanged: 3}) {
		t.Errorf("next fetch: %+v, want 3 unchanged", res)
	}
}

// TestCopiesOfSameHeadlineStories: an outlet publishes two different
// stories under one headline and one link pattern (a live page with an
// anchor and the next day's page); an aggregator carries both. Each copy
// joins its own story.
func TestCopiesOfSameHeadlineStories(t *testing.T) {
	s := openTestStore(t)
	const outlet, aggregator = "https://outlet.example/rss", "https://aggregator.example/feed"
	const headline = "Summit talks: what we know so far"
	story := func(name, feed, guid, link string) Article {
		a := storyArticle(t, "summit", name, "", feed, link, "world")
		a.ID = story.ItemKey(feed, guid, link, "", "")
		a.GUID = guid
		a.Title = headline
		return a
	}
	first := story("base", outlet, "outlet-123", "https://outlet.example/news/123#a")
	second := story("europe", outlet, "outlet-124", "https://outlet.example/news/124")
	if res := save(t, s, first, second); res != (SaveResult{New: 2}) {
		t.Fatalf("outlet: %+v, want 2 new", res)
	}
	copies := []Article{
		story("europe", aggregator, "agg-9", "https://aggregator.example/r/outlet.example/news/124"),
		story("base", aggregator, "agg-8", "https://outlet.example/news/123"),
	}
	for i := range copies { // republished after the outlet: the outlet stays primary
		copies[i].Published = copies[i].Published.Add(time.Hour)
		copies[i].Updated = copies[i].Published
	}
	if res := save(t, s, copies...); res != (SaveResult{Merged: 2}) {
		t.Fatalf("aggregator: %+v, want 2 merged", res)
	}
	for _, tt := range []struct {
		story Article
		link  string
	}{{first, copies[1].Link}, {second, copies[0].Link}} {
		got, found, err := s.Article(t.Context(), tt.story.ID)
		if err != nil || !found {
			t.Fatalf("Article %s: %t %v", tt.story.Link, found, err)
		}
		want := []Copy{{Source: copies[0].Source, Link: tt.link}}
		if diff := cmp.Diff(want, got.Via); diff != "" {
			t.Errorf("Via of %s (-want +got):\n%s", tt.story.Link, diff)
		}
	}
}

// TestDeletedItemKeepsItsSiblings deletes the item that a shared link's
// URL identity points at (as retention does with the oldest episode): the
// other items of its source that share the link are still stored, while
// the deleted item stays deleted under its GUID, a renamed GUID or none.
func TestDeletedItemKeepsItsSiblings(t *testing.T) {
	const home = "https://podcast.example/"
	ep1 := feedItem{"ep-1", home, "Episode 1: Clouds", "We talk about clouds and rain."}
	ep2 := feedItem{"ep-2", home, "Episode 2: Winds", "We talk about trade winds and sailing."}
	ep3 := feedItem{"ep-3", home, "Episode 3: Tides", "We talk about tides and the moon."}
	renamed := ep1
	renamed.guid = "ep-1-again"
	noGUID := ep1
	noGUID.guid = ""
	s := openTestStore(t)
	save(t, s, ep1.article(), ep2.article())
	if n, err := s.Delete(t.Context(), ep1.article().ID); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	tests := []struct {
		name  string
		items []feedItem
		want  SaveResult
	}{
		{"a new item on the shared link", []feedItem{ep3, ep2}, SaveResult{New: 1, Unchanged: 1}},
		{"the deleted item again", []feedItem{ep3, ep2, ep1}, SaveResult{Unchanged: 2, Suppressed: 1}},
		{"the deleted item renamed", []feedItem{renamed}, SaveResult{Suppressed: 1}},
		{"the deleted item without its GUID", []feedItem{noGUID}, SaveResult{Suppressed: 1}},
	}
	for _, tt := range tests {
		var arts []Article
		for _, it := range tt.items {
			arts = append(arts, it.article())
		}
		if res := save(t, s, arts...); res != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, res, tt.want)
		}
	}
	if diff := cmp.Diff([]string{"ep-2", "ep-3"}, storedGUIDs(t, s)); diff != "" {
		t.Errorf("stored GUIDs (-want +got):\n%s", diff)
	}
}

// FuzzOneFetchKeepsEveryGUID saves one fetch of a feed, one item per line
// of the input ("guid|link|title|text"), into an empty store: every
// distinct GUID is stored, and the same fetch again changes nothing.
func FuzzOneFetchKeepsEveryGUID(f *testing.F) {
	f.Add("incident-1|https://status.example.com/|Elevated API error rates|We are investigating.\n" +
		"incident-2|https://status.example.com/|Delayed webhooks|Webhooks are late.\n" +
		"incident-3|https://status.example.com/|Elevated API error rates|We are investigating.")
	f.Add("http://scriptingnews.userland.com/backissues/2002/09/29#When:6:56:02PM|" +
		"http://scriptingnews.userland.com/backissues/2002/09/29#When:6:56:02PM||Who loves namespaces?\n" +
		"http://scriptingnews.userland.com/backissues/2002/09/29#When:10:05:20AM|" +
		"http://scriptingnews.userland.com/backissues/2002/09/29#When:10:05:20AM||RSS 2.0 is ready.")
	f.Add("a|https://feedproxy.google.com/~r/f/~3/x/story|T|one two three\n" +
		"b|https://feeds.feedburner.com/~r/f/~3/y/story|T|one two three\n" +
		"c|https://amp.example.com/story/amp?utm_source=x|T|one two three")
	f.Fuzz(func(t *testing.T, input string) {
		var arts []Article
		want := map[string]bool{}
		for line := range strings.Lines(input) {
			parts := strings.SplitN(strings.TrimSuffix(line, "\n"), "|", 4)
			if len(parts) < 4 || len(arts) == 30 {
				continue
			}
			for i, p := range parts { // as the fetcher gives them
				parts[i] = strings.ToValidUTF8(p, "\uFFFD")
			}
			it := feedItem{strings.TrimSpace(parts[0]), parts[1], parts[2], parts[3]}
			if it.guid == "" {
				return // the property is about items with GUIDs
			}
			want[it.guid] = true
			arts = append(arts, it.article())
		}
		s := openTestStore(t)
		first := save(t, s, arts...)
		got := map[string]bool{}
		for _, g := range storedGUIDs(t, s) {
			got[g] = true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored GUIDs after %+v (-want +got):\n%s", first, diff)
		}
		if res := save(t, s, arts...); res != (SaveResult{Unchanged: len(want)}) {
			t.Errorf("the same fetch again: %+v, want %d unchanged", res, len(want))
		}
	})
}

// TestFeedBurnerSlugSharedByTwoPosts: a blog reuses one slug for a weekly
// post ("this-week-in-edge-rails") and an aggregator carries its posts as
// FeedBurner redirect links, whose URL identity drops the token that tells
// them apart. Each aggregator copy joins its own post, in every order the
// two feeds and their items arrive.
func TestFeedBurnerSlugSharedByTwoPosts(t *testing.T) {
	const blog, planet = "https://weblog.example/feed", "https://planet.example/rss"
	const headline = "This Week in Edge Rails"
	post := func(name, feed, guid, link string, hours int) Article {
		a := storyArticle(t, "summit", name, "", feed, link, "world")
		a.ID = story.ItemKey(feed, guid, link, "", "")
		a.GUID = guid
		a.Title = headline
		a.Published = a.Published.Add(time.Duration(hours) * time.Hour)
		a.Updated = a.Published
		return a
	}
	posts := []Article{
		post("base", blog, "post-9", "https://weblog.example/2009/1/9/this-week-in-edge-rails", 0),
		post("europe", blog, "post-16", "https://weblog.example/2009/1/16/this-week-in-edge-rails", 0),
	}
	copies := []Article{
		post("base", planet, "planet-1", "http://feeds.feedburner.com/~r/Weblog/~3/507189729/this-week-in-edge-rails", 1),
		post("europe", planet, "planet-2", "http://feeds.feedburner.com/~r/Weblog/~3/513992920/this-week-in-edge-rails", 1),
	}
	want := [][]string{
		{copies[0].Link, posts[0].Link},
		{copies[1].Link, posts[1].Link},
	}
	for _, tt := range []struct {
		name  string
		calls [][]Article
	}{
		{"blog first", [][]Article{posts, copies}},
		{"blog first, copies reversed", [][]Article{posts, {copies[1], copies[0]}}},
		{"planet first", [][]Article{copies, posts}},
		{"planet first, posts reversed", [][]Article{{copies[1], copies[0]}, {posts[1], posts[0]}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			for _, call := range tt.calls {
				save(t, s, call...)
			}
			stored, err := s.Latest(t.Context(), "world", 10)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]string
			for _, a := range stored {
				links := []string{a.Link}
				for _, c := range a.Via {
					links = append(links, c.Link)
				}
				slices.Sort(links)
				got = append(got, links)
			}
			slices.SortFunc(got, func(x, y []string) int { return strings.Compare(x[0], y[0]) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stories by their links (-want +got):\n%s", diff)
			}
		})
	}
}
