package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// countSketchEntries returns how many sketch entries of the ID id the
// sketch index holds, and how many live ones the sketch log holds.
func countSketchEntries(t *testing.T, s *Store, id string) int {
	t.Helper()
	n := countKeys(t, s, bucketSketch, id)
	forLogged(t, s, func(tx kv.Tx, e []byte) {
		key := e[periodLen : periodLen+story.SketchKeyLen]
		if string(e[entryLen-idLen:]) == id && liveEntry(tx, key, binary.BigEndian.Uint32(e[periodLen+len(key):]), id) {
			n++
		}
	})
	return n
}

// forLogged calls fn with every entry of the sketch log of s, in a read
// transaction.
func forLogged(t *testing.T, s *Store, fn func(tx kv.Tx, e []byte)) {
	t.Helper()
	err := s.db.View(context.Background(), func(tx kv.Tx) error {
		runs, _, err := readSketchDir(tx)
		if err != nil {
			return err
		}
		for _, r := range runs {
			parts, err := readRun(tx.Bucket([]byte(bucketSketchLog)), r.key, r.entries)
			if err != nil {
				return err
			}
			for _, v := range parts {
				for ; len(v) > 0; v = v[entryLen:] {
					fn(tx, v[:entryLen])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mergeLog merges the sketch log of s into its sketch index, as a store
// of schema version 2 has every entry there.
func mergeLog(t *testing.T, s *Store) {
	t.Helper()
	if err := s.mergeLog(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}

// countKeys returns how many keys the bucket name holds that end in suffix.
func countKeys(t *testing.T, s *Store, name, suffix string) int {
	t.Helper()
	n := 0
	err := s.db.View(context.Background(), func(tx kv.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			if bytes.HasSuffix(k, []byte(suffix)) {
				n++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignatureRecordFollowsTheStory(t *testing.T) {
	s := openTestStore(t)
	const feed = "https://a.example/feed"
	a := storyArticle(t, "quake", "base", "", feed, "https://a.example/q", "world")
	save(t, s, a)
	if n := countKeys(t, s, bucketSignatures, a.ID); n != 1 {
		t.Fatalf("signature records of %s: %d, want 1", a.ID, n)
	}
	keys := len(newRecord(a, textSignature(a)).Keys())
	if n := countSketchEntries(t, s, a.ID); n != keys {
		t.Fatalf("sketch entries of %s: %d, want %d", a.ID, n, keys)
	}

	// An edit with a new headline and text replaces the entries: the old
	// text no longer finds the story, the new one does.
	edited := storyArticle(t, "chips", "base", "", feed, "https://a.example/q", "world")
	edited.ID = a.ID
	if res := save(t, s, edited); res != (SaveResult{Updated: 1}) {
		t.Fatalf("edit: %+v", res)
	}
	if n, want := countSketchEntries(t, s, a.ID), len(newRecord(edited, textSignature(edited)).Keys()); n != want {
		t.Errorf("sketch entries after the edit: %d, want %d", n, want)
	}
	oldCopy := storyArticle(t, "quake", "base", "suffix-today", "https://b.example/feed", "https://b.example/q", "world")
	newCopy := storyArticle(t, "chips", "base", "suffix-today", "https://c.example/feed", "https://c.example/c", "tech")
	if res := save(t, s, oldCopy, newCopy); res != (SaveResult{New: 1, Merged: 1}) {
		t.Errorf("copies of the old and the new text: %+v, want one new, one merged", res)
	}

	if _, err := s.Delete(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, bucketSignatures, a.ID) + countSketchEntries(t, s, a.ID); n != 0 {
		t.Errorf("%d signature records and sketch entries left after Delete", n)
	}
}

// A story stored without a signature record (by a tributary from before
// the records, or with a damaged one) is compared through its article.
func TestCopyOfStoryWithoutSignatureRecord(t *testing.T) {
	for _, tt := range []struct {
		name   string
		record []byte // nil: none
	}{
		{"no record", nil},
		{"malformed record", []byte("short")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			a := storyArticle(t, "summit", "base", "", "https://a.example/feed", "https://a.example/1", "politics")
			save(t, s, a)
			mergeLog(t, s) // a story written without a record has its entries in the index
			err := s.db.Update(context.Background(), func(tx kv.Tx) error {
				sigs := tx.Bucket([]byte(bucketSignatures))
				if tt.record == nil {
					return sigs.Delete([]byte(a.ID))
				}
				return sigs.Put([]byte(a.ID), tt.record)
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.record != nil {
				err := s.Check(t.Context())
				if err == nil || !strings.Contains(err.Error(), "malformed record") {
					t.Errorf("Check = %v, want a malformed record", err)
				}
			}
			copyOf := storyArticle(t, "summit", "base", "wire-agency", "https://b.example/feed", "https://b.example/2", "world")
			if res := save(t, s, copyOf); res != (SaveResult{Merged: 1}) {
				t.Errorf("copy: %+v, want merged", res)
			}
			// Deleting the story removes its sketch entries all the same.
			if _, err := s.Delete(t.Context(), a.ID); err != nil {
				t.Fatal(err)
			}
			if n := countSketchEntries(t, s, a.ID) + countKeys(t, s, bucketSignatures, a.ID); n != 0 {
				t.Errorf("%d sketch entries and records left after Delete", n)
			}
		})
	}
}

func TestCheckFindsStaleSketchEntries(t *testing.T) {
	s := openTestStore(t)
	a := storyArticle(t, "fed", "ecb", "", "https://a.example/feed", "https://a.example/1", "world")
	save(t, s, a)
	mergeLog(t, s) // entries of the log are checked by their records, those of the index by their articles
	var raw []byte
	err := s.db.Update(context.Background(), func(tx kv.Tx) error {
		// The article goes, its record and sketch entries stay.
		arts := tx.Bucket([]byte(bucketArticles))
		raw = bytes.Clone(arts.Get([]byte(a.ID)))
		return arts.Delete([]byte(a.ID))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check(t.Context())
	for _, want := range []string{"signature " + a.ID + ": no such article", "sketch entry"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check = %v, want %q", err, want)
		}
	}
	// Let the cleanup's Check pass: put the article back.
	err = s.db.Update(context.Background(), func(tx kv.Tx) error {
		return tx.Bucket([]byte(bucketArticles)).Put([]byte(a.ID), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
}
