package storage

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/story"
)

func TestFullTextKeptWhenTheFeedSendsTheItemAgain(t *testing.T) {
	s := openTestStore(t)
	a := testArticle("harbour", hour(9), "world")
	withText := a
	withText.FullText = "<p>The whole article from the page.</p>"
	if res := save(t, s, withText); res.New != 1 {
		t.Fatalf("first save: %+v, want one new", res)
	}
	// Re-fetched: the feed's item, without the page's text.
	if res := save(t, s, a); res.Unchanged != 1 {
		t.Errorf("the same item again: %+v, want unchanged", res)
	}
	edited := a
	edited.Title = "Story harbour, corrected"
	if res := save(t, s, edited); res.Updated != 1 {
		t.Errorf("an edit: %+v, want updated", res)
	}
	got, err := s.Latest(t.Context(), "world", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].FullText != withText.FullText || got[0].Title != edited.Title {
		t.Errorf("stored %+v, want the edit with the first full text", got)
	}
}

func TestKnownItems(t *testing.T) {
	s := openTestStore(t)
	stored := testArticle("stored", hour(9), "world")
	gone := testArticle("gone", hour(8), "world")
	save(t, s, stored, gone)
	copyOf := stored
	copyOf.Source = Source{FeedURL: "https://other.example/feed", ID: "other", Title: "Other"}
	copyOf.ID = story.ItemKey(copyOf.Source.FeedURL, "copy", "", "", "")
	copyOf.GUID = "copy"
	if res := save(t, s, copyOf); res.Merged != 1 {
		t.Fatalf("copy: %+v, want merged", res)
	}
	if _, err := s.Delete(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	unknown := story.ItemKey(testFeed, "unknown", "", "", "")
	got, err := s.KnownItems(t.Context(), []string{stored.ID, copyOf.ID, gone.ID, unknown})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{stored.ID: true, copyOf.ID: true, gone.ID: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KnownItems (-want +got):\n%s", diff)
	}
}

// TestFullTextDoesNotChangeMerging stores the same items twice, with and
// without full texts on one source's copies: the stories are the same,
// copy for copy. The full texts differ from the feed texts and are alike
// between distinct stories (the same site template around short
// articles), which would move a near-duplicate engine that read them.
func TestFullTextDoesNotChangeMerging(t *testing.T) {
	const wire = "https://wire.example/feed"
	const paper = "https://paper.example/feed"
	template := strings.Repeat("Subscribe to the Elwin Courier for all the news from the harbour and the town. ", 20)
	items := []Article{
		storyItem(wire, "cranes", "Harbour cranes return to Port Elwin after a decade",
			"The first of four container cranes was lifted onto the quay at Port Elwin on Tuesday, ending ten years without container traffic.", hour(6)),
		storyItem(paper, "cranes-copy", "Harbour cranes return to Port Elwin after a decade",
			"The first of four container cranes was lifted onto the quay at Port Elwin on Tuesday, ending ten years without container traffic.", hour(7)),
		storyItem(wire, "ferry", "Ferry company adds a late crossing for dock crews",
			"The ferry company will run a crossing at eleven at night from January to carry the crews of the container ships.", hour(8)),
		storyItem(paper, "library", "Town library opens on Sundays from spring",
			"The library on Quay Street will open on Sunday afternoons from April after volunteers offered to staff it.", hour(9)),
	}
	withFullText := make([]Article, len(items))
	for i, a := range items {
		withFullText[i] = a
		if a.Source.FeedURL == paper {
			withFullText[i].FullText = "<p>" + template + a.Title + "</p>"
		}
	}
	stories := func(arts []Article) []Article {
		s := openTestStore(t)
		for _, a := range arts {
			save(t, s, a)
		}
		got, err := s.Latest(t.Context(), AllSlug, 10)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].FullText = ""
		}
		return got
	}
	plain, full := stories(items), stories(withFullText)
	if len(plain) != 3 {
		t.Fatalf("without full text: %d stories, want 3 (the cranes copy merged)", len(plain))
	}
	if diff := cmp.Diff(plain, full); diff != "" {
		t.Errorf("stories with full text differ from those without (-without +with):\n%s", diff)
	}
}

// storyItem returns an article of feed with its own GUID, title and text.
func storyItem(feed, guid, title, text string, published time.Time) Article {
	return Article{
		ID:         story.ItemKey(feed, guid, "", "", ""),
		GUID:       guid,
		Title:      title,
		Link:       strings.TrimSuffix(feed, "/feed") + "/" + guid,
		Published:  published,
		Content:    "<p>" + text + "</p>",
		Categories: []Category{{Slug: "town", Name: "Town"}},
		Source:     Source{FeedURL: feed, ID: feed, Title: feed},
	}
}
