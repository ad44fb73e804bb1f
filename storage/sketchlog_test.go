package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// syndicationSaves returns the saves of a syndication run over the
// labelled stories: each story from its own feed, then its republished
// copies from other feeds, some edits of stored stories (new text under
// the same ID), and repeats, in batches like a fetch pass's.
func syndicationSaves(t *testing.T) [][]Article {
	t.Helper()
	var saves [][]Article
	stories := loadLabelStories(t)
	eds := edits()
	for i, st := range stories {
		feed := fmt.Sprintf("https://origin%d.example/feed", i%7)
		link := fmt.Sprintf("https://origin%d.example/%s/%s", i%7, st.group, st.name)
		a := storyArticle(t, st.group, st.name, "", feed, link, "world")
		a.Published = a.Published.Add(time.Duration(i) * time.Minute)
		var batch []Article
		batch = append(batch, a)
		for j, e := range eds {
			if (i+j)%3 != 0 {
				continue
			}
			rfeed := fmt.Sprintf("https://republisher%d.example/feed", j)
			c := storyArticle(t, st.group, st.name, e.name, rfeed, fmt.Sprintf("https://republisher%d.example/%d", j, i), "news")
			c.Published = a.Published.Add(time.Duration(j) * time.Hour)
			batch = append(batch, c)
		}
		if i%4 == 3 {
			edited := storyArticle(t, st.group, st.name, eds[i%len(eds)].name, feed, link, "world")
			edited.Published, edited.Updated = a.Published, a.Published.Add(2*time.Hour)
			batch = append(batch, edited)
		}
		saves = append(saves, batch[:len(batch)/2], batch[len(batch)/2:])
	}
	return saves
}

// TestSketchLogFindsWhatTheIndexFinds saves the same syndication run into
// stores that merge their sketch log at every save (every entry in the
// index, as before the log), at some saves, and never: every save has the
// same outcome and the stores end with the same stories and copies.
func TestSketchLogFindsWhatTheIndexFinds(t *testing.T) {
	saves := syndicationSaves(t)
	type outcome struct {
		Results []SaveResult
		Stories []Article
	}
	run := func(mergeAt int) outcome {
		s := openTestStore(t)
		s.sketches.mergeAt = mergeAt
		var out outcome
		for _, batch := range saves {
			out.Results = append(out.Results, save(t, s, batch...))
		}
		arts, err := s.Latest(t.Context(), AllSlug, 10000)
		if err != nil {
			t.Fatal(err)
		}
		out.Stories = arts
		if err := s.Check(t.Context()); err != nil {
			t.Errorf("Check (merge at %d): %v", mergeAt, err)
		}
		return out
	}
	always := run(0)
	merged := 0
	for _, r := range always.Results {
		merged += r.Merged
	}
	if merged < len(saves)/2 || len(always.Stories) == 0 {
		t.Fatalf("the run merged %d copies into %d stories: not a syndication run", merged, len(always.Stories))
	}
	for _, mergeAt := range []int{200, 1 << 30} {
		if diff := cmp.Diff(always, run(mergeAt)); diff != "" {
			t.Errorf("merge at %d, against a merge at every save (-always +got):\n%s", mergeAt, diff)
		}
	}
}

// TestSketchLogMergesAtItsBound checks that the runs of the sketch log stay
// under their bound: the save that passes it merges them into the index,
// and the stories stay findable through the index.
func TestSketchLogMergesAtItsBound(t *testing.T) {
	s := openTestStore(t)
	s.sketches.mergeAt = 100
	a := storyArticle(t, "summit", "base", "", "https://a.example/feed", "https://a.example/1", "world")
	save(t, s, a)
	if runs, n := logRuns(t, s); runs != 1 || n != 15 {
		t.Fatalf("after one story: %d runs of %d entries, want 1 of 15", runs, n)
	}
	for i, name := range []string{"europe", "rubio", "followup", "live1", "live2", "live3"} {
		save(t, s, storyArticle(t, "summit", name, "", "https://a.example/feed", fmt.Sprintf("https://a.example/%d", i+2), "world"))
	}
	if runs, n := logRuns(t, s); n > 100 || runs > 7 {
		t.Errorf("after seven stories: %d runs of %d entries, want at most 100 entries", runs, n)
	}
	if n := countKeys(t, s, bucketSketch, ""); n < 100 {
		t.Errorf("sketch index: %d entries after the merge, want the merged ones", n)
	}
	copyOf := storyArticle(t, "summit", "base", "wire-agency", "https://b.example/feed", "https://b.example/2", "world")
	if res := save(t, s, copyOf); res != (SaveResult{Merged: 1}) {
		t.Errorf("copy of a merged story: %+v, want merged", res)
	}
}

// logRuns returns how many runs the sketch log of s holds, and their entries.
func logRuns(t *testing.T, s *Store) (runs, entries int) {
	t.Helper()
	err := s.db.View(context.Background(), func(tx kv.Tx) error {
		r, n, err := readSketchDir(tx)
		runs, entries = len(r), n
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs, entries
}

// TestSketchCacheForgetsRolledBackRuns saves twice in one transaction that
// then rolls back: the second save has read the first's run into the
// cache, which must drop it, as a later save in the same process would
// otherwise see entries that were never committed.
func TestSketchCacheForgetsRolledBackRuns(t *testing.T) {
	s := openTestStore(t)
	a := storyArticle(t, "summit", "base", "", "https://a.example/feed", "https://a.example/1", "world")
	b := storyArticle(t, "summit", "europe", "", "https://a.example/feed", "https://a.example/2", "world")
	rollBack := errors.New("roll back")
	err := s.db.Update(t.Context(), func(tx kv.Tx) error {
		for _, art := range []Article{a, b} {
			arts, err := prepare([]Article{art})
			if err != nil {
				return err
			}
			v, err := s.sketches.begin(tx)
			if err != nil {
				return err
			}
			var res SaveResult
			var cs counters
			err = planAll(tx, v, arts, testNow(), &res, &cs)
			if err == nil {
				err = v.flush(tx)
			}
			v.release()
			if err != nil {
				return err
			}
		}
		if len(s.sketches.runs) != 1 {
			return fmt.Errorf("cache holds %d runs after the second save, want the first's", len(s.sketches.runs))
		}
		return rollBack
	})
	if !errors.Is(err, rollBack) {
		t.Fatal(err)
	}
	c := storyArticle(t, "summit", "rubio", "", "https://a.example/feed", "https://a.example/3", "world")
	save(t, s, c)
	if len(s.sketches.runs) != 0 {
		t.Errorf("cache holds %d runs after the rollback and a save, want none", len(s.sketches.runs))
	}
	for _, e := range s.sketches.entries {
		if id := string(s.sketches.ids[e.id][:]); id == a.ID {
			t.Errorf("cache holds an entry of the rolled back story %s", id)
		}
	}
}

// TestCheckSketchLog breaks the sketch log's directory and runs: Check
// names each problem.
func TestCheckSketchLog(t *testing.T) {
	for _, tt := range []struct {
		name   string
		break_ func(b kv.Bucket, dir []byte) error
		want   string
	}{
		{"run missing", func(b kv.Bucket, dir []byte) error { return b.Delete(partKey(string(dir[:runKeyLen]), 0)) }, "part 0 missing"},
		{"run cut short", func(b kv.Bucket, dir []byte) error {
			return b.Put(partKey(string(dir[:runKeyLen]), 0), []byte(strings.Repeat("x", entryLen)))
		}, "want 690 (15 entries"},
		{"directory garbled", func(b kv.Bucket, dir []byte) error { return b.Put(keySketchDir, dir[1:]) }, "not a multiple"},
		{"run not listed", func(b kv.Bucket, dir []byte) error { return b.Put([]byte("0123456789abcdef"), nil) }, "not in the directory"},
		{"merge of runs not there", func(b kv.Bucket, dir []byte) error { return b.Put(keySketchMerge, []byte{0, 0, 0, 9, 0}) }, "not a merge of the 1 runs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newBackendStore(t, Options{Now: testNow})
			save(t, s, storyArticle(t, "summit", "base", "", "https://a.example/feed", "https://a.example/1", "world"))
			err := s.db.Update(t.Context(), func(tx kv.Tx) error {
				b := tx.Bucket([]byte(bucketSketchLog))
				return tt.break_(b, append([]byte(nil), b.Get(keySketchDir)...))
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(t.Context()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSketchLogSkipsStaleEntries edits a story's text and deletes another:
// their old entries stay in the log, where no lookup finds them, and the
// merge leaves them out of the index.
func TestSketchLogSkipsStaleEntries(t *testing.T) {
	s := openTestStore(t)
	a, gone := twoStories(t)
	save(t, s, a, gone)
	edited := editStory(t, s, a, "rubio")
	if _, err := s.Delete(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	// The old text of a and the deleted story are not found any more.
	for _, c := range []Article{
		storyArticle(t, "summit", "base", "wire-agency", "https://b.example/feed", "https://b.example/1", "world"),
		storyArticle(t, "summit", "europe", "wire-agency", "https://b.example/feed", "https://b.example/2", "world"),
	} {
		if res := save(t, s, c); res != (SaveResult{New: 1}) {
			t.Errorf("copy of an old text: %+v, want new", res)
		}
	}
	mergeLog(t, s)
	if runs, _ := logRuns(t, s); runs != 0 {
		t.Errorf("%d runs after a merge, want none", runs)
	}
	if n := countKeys(t, s, bucketSketch, gone.ID); n != 0 {
		t.Errorf("%d index entries of the deleted story after the merge", n)
	}
	want := len(newRecord(edited, textSignature(edited)).Keys())
	if n := countKeys(t, s, bucketSketch, a.ID); n != want {
		t.Errorf("%d index entries of the edited story after the merge, want %d", n, want)
	}
}

// TestStaleMarksHideOldEntries edits one story and deletes another, with
// a copy merged into it, while their entries are in the sketch log: the
// save and the deletion mark them
// stale, so a lookup of a key the edited story no longer has, or of the
// deleted story's keys, yields neither as a candidate (as the index, which
// lost those entries, would not), and the next write transaction, with a
// cache read back from the log, sees the marks too.
func TestStaleMarksHideOldEntries(t *testing.T) {
	s := openTestStore(t)
	a, gone := twoStories(t)
	save(t, s, a, gone)
	member := storyArticle(t, "summit", "europe", "wire-agency", "https://b.example/feed", "https://b.example/2", "world")
	if res := save(t, s, member); res != (SaveResult{Merged: 1}) {
		t.Fatalf("copy of the story to delete: %+v, want merged", res)
	}
	oldKeys := newRecord(a, textSignature(a)).Keys()
	goneKeys := newRecord(gone, textSignature(gone)).Keys()
	memberKeys := newRecord(member, textSignature(member)).Keys()
	edited := editStory(t, s, a, "rubio")
	if _, err := s.Delete(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	kept := newRecord(edited, textSignature(edited))
	for _, fresh := range []bool{false, true} {
		if fresh {
			s.sketches.reset() // read every run back, marks included
		}
		err := s.db.Update(t.Context(), func(tx kv.Tx) error {
			v, err := s.sketches.begin(tx)
			if err != nil {
				return err
			}
			defer v.release()
			for _, c := range []struct {
				id   string
				keys [][]byte
			}{{a.ID, oldKeys}, {gone.ID, goneKeys}, {member.ID, memberKeys}} {
				for _, key := range c.keys {
					if c.id == a.ID && kept.HasKey(key) {
						continue
					}
					if ids := sketchCandidates(tx, v, nil, key, dayOf(a.Published)); slices.Contains(ids, c.id) {
						t.Errorf("cache read back %v: a lookup of %x yields %s, whose record no longer has it", fresh, key, c.id)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestSketchLogBoundsCopiesOfOneText saves many copies of one story, each
// from a source of its own: past maxLogged entries of a sketch key the
// log holds no more of them (they go to the index, whose lookups are
// bounded), and every copy joins the one story, as when every entry is in
// the index.
func TestSketchLogBoundsCopiesOfOneText(t *testing.T) {
	var saves [][]Article
	for s := range 3 {
		var batch []Article
		for i := range 100 {
			n := s*100 + i
			feed := fmt.Sprintf("https://copier%d.example/feed", n)
			batch = append(batch, storyArticle(t, "summit", "base", "wire-agency", feed, fmt.Sprintf("https://copier%d.example/1", n), "world"))
		}
		saves = append(saves, batch)
	}
	var outcomes [][]SaveResult
	for _, mergeAt := range []int{0, 1 << 30} {
		s := openTestStore(t)
		s.sketches.mergeAt = mergeAt
		var got []SaveResult
		for _, batch := range saves {
			got = append(got, save(t, s, batch...))
		}
		outcomes = append(outcomes, got)
		for prefix, n := range loggedPerKey(t, s) {
			if n > maxLogged {
				t.Errorf("merge at %d: the log holds %d entries of %x, want at most %d", mergeAt, n, prefix, maxLogged)
			}
		}
	}
	want := []SaveResult{{New: 1, Merged: 99}, {Merged: 100}, {Merged: 100}}
	for i, got := range outcomes {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("store %d (-want +got):\n%s", i, diff)
		}
	}
}

// loggedPerKey counts the entries of the sketch log of s by period and
// sketch key.
func loggedPerKey(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	forLogged(t, s, func(_ kv.Tx, e []byte) {
		if !isStaleMark(e) {
			out[string(e[:periodLen+story.SketchKeyLen])]++
		}
	})
	return out
}

// TestSketchLogMergeInterrupted leaves a merge of the sketch log half done,
// as a crash between its transactions does: the store checks out, a copy
// of a story whose entries are in the index and still in the log joins it
// once, and the next save that adds to the log ends the merge.
func TestSketchLogMergeInterrupted(t *testing.T) {
	s := openTestStore(t)
	const feed = "https://a.example/feed"
	var stories []Article
	for i, name := range []string{"base", "europe", "rubio", "followup"} {
		a := storyArticle(t, "summit", name, "", feed, fmt.Sprintf("https://a.example/%d", i), "world")
		stories = append(stories, a)
		save(t, s, a)
	}
	err := s.db.Update(t.Context(), func(tx kv.Tx) error {
		if _, err := startMerge(tx); err != nil {
			return err
		}
		var read mergeRead
		for range mergeSlices / 2 {
			if done, err := mergeStep(tx, &read); err != nil || done {
				return fmt.Errorf("step: done %t, %v", done, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check mid-merge: %v", err)
	}
	if n := countKeys(t, s, bucketSketch, ""); n == 0 {
		t.Fatal("no entry in the index after half the merge's steps")
	}
	copyOf := storyArticle(t, "summit", "base", "wire-agency", "https://b.example/feed", "https://b.example/1", "world")
	if res := save(t, s, copyOf); res != (SaveResult{Merged: 1}) {
		t.Errorf("copy mid-merge: %+v, want merged", res)
	}
	if runs, _ := logRuns(t, s); runs != 1 {
		t.Errorf("%d runs after the save that ended the merge, want its own", runs)
	}
	want := 0
	for _, a := range stories {
		want += len(newRecord(a, textSignature(a)).Keys())
	}
	if n := countKeys(t, s, bucketSketch, ""); n != want {
		t.Errorf("%d entries in the index after the merge, want the %d of the four stories", n, want)
	}
}

// TestIndexLookupOutlivedByAMerge looks a copy's keys up in a read
// transaction while its story's entries are in the log, then merges the
// log into the index: the write transaction's lookup does not take the
// read transaction's (empty) findings for keys whose slice a merge step
// changed since, and finds the story in the index.
func TestIndexLookupOutlivedByAMerge(t *testing.T) {
	s := openTestStore(t)
	a := storyArticle(t, "summit", "base", "", "https://a.example/feed", "https://a.example/1", "world")
	save(t, s, a)
	ins, err := prepare([]Article{storyArticle(t, "summit", "base", "wire-agency", "https://b.example/feed", "https://b.example/1", "world")})
	if err != nil {
		t.Fatal(err)
	}
	in := ins[0]
	if err := s.db.View(t.Context(), func(tx kv.Tx) error {
		lookUpIndex(tx, ins, testNow())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, entries := range in.indexed.entries {
		if len(entries) != 0 {
			t.Fatalf("key %d: %d index entries before the merge, want none (all in the log)", i, len(entries))
		}
	}
	mergeLog(t, s)
	err = s.db.Update(t.Context(), func(tx kv.Tx) error {
		v, err := s.sketches.begin(tx)
		if err != nil {
			return err
		}
		defer v.release()
		c := newTimes(in.Article, testNow())
		stories, err := matchingStories(tx, v, in, c, newRecord(c, in.signature()))
		if err != nil {
			return err
		}
		if len(stories) != 1 || stories[0].ID != a.ID {
			t.Errorf("after the merge the copy finds %d stories, want its story %s", len(stories), a.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzSketchLog writes arbitrary bytes over the sketch log's directory,
// first run part and merge state of a store, as a damaged database has
// them: Check reports the damage or passes, the migration to schema 4
// goes through (the file opens), and a save stores its article or fails
// with an error, never a panic; a readable log is used as is.
func FuzzSketchLog(f *testing.F) {
	s := newBackendStore(f, Options{Now: testNow})
	a := testArticle("seed", hour(1), "world")
	if _, err := s.SaveArticles(f.Context(), []Article{a}); err != nil {
		f.Fatal(err)
	}
	err := s.db.View(f.Context(), func(tx kv.Tx) error {
		b := tx.Bucket([]byte(bucketSketchLog))
		dir := b.Get(keySketchDir)
		f.Add(bytes.Clone(dir), bytes.Clone(b.Get(partKey(string(dir[:runKeyLen]), 0))), []byte(nil))
		f.Add(bytes.Clone(dir), []byte(nil), []byte{0, 0, 0, 1, 3})
		f.Add(append(bytes.Clone(dir[:runKeyLen]), 0xff, 0xff, 0xff, 0xff), []byte("short"), []byte{0xff})
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dir, part, merge []byte) {
		s := newBackendStore(t, Options{Now: testNow})
		save(t, s, testArticle("first", hour(1), "world"))
		err := s.db.Update(t.Context(), func(tx kv.Tx) error {
			b := tx.Bucket([]byte(bucketSketchLog))
			for key, v := range map[string][]byte{string(keySketchDir): dir, string(keySketchMerge): merge} {
				if v == nil {
					if err := b.Delete([]byte(key)); err != nil {
						return err
					}
				} else if err := b.Put([]byte(key), v); err != nil {
					return err
				}
			}
			if len(dir) >= runKeyLen && part != nil {
				return b.Put(partKey(string(dir[:runKeyLen]), 0), part)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Check(t.Context())
		if err := s.db.Update(t.Context(), markStaleLogEntries); err != nil {
			t.Errorf("the migration to schema 4 failed on a damaged log, which would keep the file from opening: %v", err)
		}
		if _, err := s.SaveArticles(t.Context(), []Article{testArticle("second", hour(2), "world")}); err != nil {
			return // the damage is reported
		}
		if _, found, err := s.Article(t.Context(), testArticle("second", hour(2), "world").ID); err != nil || !found {
			t.Errorf("a save that succeeded did not store its article: %t, %v", found, err)
		}
	})
}

// twoStories returns two stories of one feed, which the tests of stale
// entries edit (a) and delete (gone).
func twoStories(t *testing.T) (a, gone Article) {
	const feed = "https://a.example/feed"
	return storyArticle(t, "summit", "base", "", feed, "https://a.example/1", "world"),
		storyArticle(t, "summit", "europe", "", feed, "https://a.example/2", "world")
}

// editStory saves an edit of the stored story a, an hour later: the text
// of the labelled story name under a's feed and link. It fails the test
// unless the save counts it updated.
func editStory(t *testing.T, s *Store, a Article, name string) Article {
	t.Helper()
	edited := storyArticle(t, "summit", name, "", a.Source.FeedURL, a.Link, "world")
	edited.Updated = a.Published.Add(time.Hour)
	if res := save(t, s, edited); res != (SaveResult{Updated: 1}) {
		t.Fatalf("edit: %+v", res)
	}
	return edited
}

// stripStaleMarks rewrites every run of the sketch log of s without its
// stale marks, as a file of schema version 3 has them.
func stripStaleMarks(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.Update(t.Context(), func(tx kv.Tx) error {
		b := tx.Bucket([]byte(bucketSketchLog))
		runs, _, err := readSketchDir(tx)
		if err != nil {
			return err
		}
		var dir []byte
		for _, r := range runs {
			parts, err := readRun(b, r.key, r.entries)
			if err != nil {
				return err
			}
			var kept [][]byte
			for _, v := range parts {
				for ; len(v) > 0; v = v[entryLen:] {
					if !isStaleMark(v[:entryLen]) {
						kept = append(kept, slices.Clone(v[:entryLen]))
					}
				}
			}
			for i := range runParts(r.entries) {
				if err := b.Delete(partKey(r.key, i)); err != nil {
					return err
				}
			}
			for i, part := range slices.Collect(slices.Chunk(kept, partEntries)) {
				if err := b.Put(partKey(r.key, i), bytes.Join(part, nil)); err != nil {
					return err
				}
			}
			dir = binary.BigEndian.AppendUint32(append(dir, r.key...), uint32(len(kept)))
		}
		return b.Put(keySketchDir, dir)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateMarksStaleLogEntries strips the stale marks of an edit and a
// deletion from the sketch log, as in a file of schema version 3: Check
// reports the unmarked stale entries, and the migration to version 4
// marks them (and nothing else), after which lookups skip them again.
func TestMigrateMarksStaleLogEntries(t *testing.T) {
	s := openTestStore(t)
	a, gone := twoStories(t)
	kept := storyArticle(t, "summit", "rubio", "", a.Source.FeedURL, "https://a.example/3", "world")
	save(t, s, a, gone, kept)
	editStory(t, s, a, "followup")
	if _, err := s.Delete(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	stripStaleMarks(t, s)
	err := s.Check(t.Context())
	for _, id := range []string{a.ID, gone.ID} {
		if err == nil || !strings.Contains(err.Error(), "entries of "+id) {
			t.Errorf("Check with the marks stripped: %v, want the unmarked entries of %s", err, id)
		}
	}
	if err := s.db.Update(t.Context(), markStaleLogEntries); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s.sketches.reset()
	marked := map[string]bool{}
	forLogged(t, s, func(_ kv.Tx, e []byte) {
		if isStaleMark(e) {
			marked[string(e[entryLen-idLen:])] = true
		}
	})
	if want := map[string]bool{a.ID: true, gone.ID: true}; !maps.Equal(marked, want) {
		t.Errorf("marked after the migration: %v, want %v", marked, want)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check after the migration: %v", err)
	}
}

// TestMergeSeesMarksWrittenMidMerge deletes a story between two steps of
// a merge of the sketch log that holds its entries: the deletion takes the
// entries already merged out of the index and marks the story stale in a
// run after the merge's, and the steps after it leave its other entries
// out of the index.
func TestMergeSeesMarksWrittenMidMerge(t *testing.T) {
	s := openTestStore(t)
	const feed = "https://a.example/feed"
	gone := storyArticle(t, "summit", "europe", "", feed, "https://a.example/2", "world")
	save(t, s, storyArticle(t, "summit", "base", "", feed, "https://a.example/1", "world"), gone)
	var read mergeRead
	step := func() (done bool) {
		err := s.db.Update(t.Context(), func(tx kv.Tx) error {
			var err error
			done, err = mergeStep(tx, &read)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return done
	}
	if err := s.db.Update(t.Context(), func(tx kv.Tx) error {
		_, err := startMerge(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for range mergeSlices / 2 {
		step()
	}
	if _, err := s.Delete(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	for !step() {
	}
	if n := countKeys(t, s, bucketSketch, gone.ID); n != 0 {
		t.Errorf("%d index entries of the story deleted mid-merge", n)
	}
}
