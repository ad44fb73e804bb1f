package storage

import (
	"testing"
	"time"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// TestCandidateMemoStandsUntilTheRecordChanges judges, in a save's read
// transaction, the candidate the sketch index gives a copy of a stored
// story: a write transaction may take the verdict while nothing changed,
// not for another record of the article, not once the candidate's story
// was edited (its record replaced, which the edit's save marks in the
// log), and none of the memo once a merge of the log ended.
func TestCandidateMemoStandsUntilTheRecordChanges(t *testing.T) {
	s := openTestStore(t)
	const feed, link = "https://a.example/feed", "https://a.example/1"
	orig := storyArticle(t, "summit", "base", "", feed, link, "world")
	save(t, s, orig)
	mergeLog(t, s) // the read transaction judges the index's candidates
	cp := storyArticle(t, "summit", "base", "wire-agency", "https://b.example/feed", "https://b.example/1", "world")
	ins, err := prepare([]Article{cp})
	if err != nil {
		t.Fatal(err)
	}
	now := s.now().UTC()
	if err := s.db.View(t.Context(), func(tx kv.Tx) error {
		lookUpIndex(tx, ins, now)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	memo := ins[0].judged
	if same, ok := memo.same[orig.ID]; !ok || !same {
		t.Fatalf("the read transaction judged %s: same %v, judged %v; want the same story", orig.ID, same, ok)
	}
	rec := newRecord(newTimes(cp, now), ins[0].signature())
	other := newRecord(newTimes(orig, now), textSignature(orig))
	type result struct{ usable, usableForOther, same, ok bool }
	judge := func() result {
		var r result
		err := s.db.Update(t.Context(), func(tx kv.Tx) error {
			v, err := s.sketches.begin(tx)
			if err != nil {
				return err
			}
			defer v.release()
			m := memo.usable(tx, rec)
			r.usable, r.usableForOther = m != nil, memo.usable(tx, other) != nil
			r.same, r.ok = m.verdict(v, orig.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if got, want := judge(), (result{usable: true, same: true, ok: true}); got != want {
		t.Errorf("nothing changed: %+v, want %+v", got, want)
	}
	edited := storyArticle(t, "summit", "rubio", "", feed, link, "world")
	edited.Updated = orig.Published.Add(time.Hour)
	if res := save(t, s, edited); res != (SaveResult{Updated: 1}) {
		t.Fatalf("edit: %+v", res)
	}
	if got, want := judge(), (result{usable: true}); got != want {
		t.Errorf("candidate edited since: %+v, want %+v (no verdict)", got, want)
	}
	mergeLog(t, s)
	if got := judge(); got.usable {
		t.Errorf("a merge of the log ended since: the memo is still usable")
	}
}

// TestSameStoryAppliesTheSourceTitleRule compares a record with one of
// its own source: same text but another title is not the same story, as
// within one source a headline tells items apart.
func TestSameStoryAppliesTheSourceTitleRule(t *testing.T) {
	const feed = "https://a.example/feed"
	a := storyArticle(t, "summit", "base", "", feed, "https://a.example/1", "world")
	b := a
	b.ID, b.Link, b.Title = "0123456789abcdef0123456789abcdef", "https://a.example/2", "Completely different headline about markets"
	ra, rb := newRecord(a, textSignature(a)), newRecord(b, textSignature(b))
	if title, _, _ := ra.Similarity(rb); title >= story.DupSameSourceMinTitle {
		t.Fatalf("title similarity %v: the test's titles are too alike", title)
	}
	if !ra.SameStory(rb) {
		t.Fatal("the test's texts are not near-duplicates")
	}
	if sameStory(ra, rb) {
		t.Error("two items of one source with different titles are the same story")
	}
	b.Source.FeedURL = "https://b.example/feed"
	rb = newRecord(b, textSignature(b))
	if ra.SameStory(rb) != sameStory(ra, rb) {
		t.Error("for items of two sources, sameStory differs from story.SameStory")
	}
}
