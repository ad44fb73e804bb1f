package storage

import (
	"bytes"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// candidateMemo is what a save's read transaction found out about the
// candidates the sketch index gave one of its new articles (lookUpIndex):
// for each whose signature record it read, whether that record makes the
// candidate the same story as the article (sameStory). Reading and
// comparing candidates' records is most of a near-duplicate lookup; done
// in the read transaction, it runs outside the write lock, in the saving
// fetch's goroutine.
//
// The write transaction takes a verdict instead of reading and comparing
// the record again when the verdict cannot have changed since: the
// article's record is the one compared, and the candidate's record is the
// one read, as no merge of the sketch log has ended since (mergesEnded is
// the same: the end of a merge removes the runs it merged, and their
// marks) and neither a run written after the last one the read transaction saw
// nor the save itself marks the candidate stale (every save or deletion
// that replaces or removes a signature record marks it in the log, see
// staleMark, whichever instance it runs on).
type candidateMemo struct {
	rec story.Record
	// lastRun is the sequence number of the last run of the log the read
	// transaction saw, -1 for none.
	lastRun int64
	// merges is the count of merges of the log that had ended.
	merges uint64
	same   map[string]bool
}

// sameStory reports whether cand, the signature record of a stored item,
// makes it the same story as the item of record rec: story.SameStory,
// and for an item of rec's own source, a title similarity of
// story.DupSameSourceMinTitle or more.
func sameStory(rec, cand story.Record) bool {
	if cand.Source() == rec.Source() {
		if title, _, _ := rec.Similarity(cand); title < story.DupSameSourceMinTitle {
			return false
		}
	}
	return rec.SameStory(cand)
}

// judgeIndexed fills the candidate memos of ins, whose index lookups
// lookUpIndex made in tx, a read transaction, for records recs. Candidates without a signature record are left to
// the write transaction. On a backend that prefetches, the records are
// read at once.
func judgeIndexed(tx kv.Tx, ins []*incoming, recs []story.Record) {
	runs, _, err := readSketchDir(tx)
	if err != nil {
		return // the write transaction reports it
	}
	merges, lastRun := mergesEnded(tx), int64(-1)
	if len(runs) > 0 {
		lastRun = int64(runs[len(runs)-1].seq())
	}
	if sigs, ok := tx.Bucket([]byte(bucketSignatures)).(kv.Prefetcher); ok {
		var ids [][]byte
		for _, in := range ins {
			for _, es := range in.indexed.entries {
				for _, e := range es {
					ids = append(ids, []byte(e.id))
				}
			}
		}
		sigs.PrefetchKeys(ids)
	}
	for i, in := range ins {
		m := &candidateMemo{rec: recs[i], lastRun: lastRun, merges: merges, same: make(map[string]bool)}
		for _, es := range in.indexed.entries {
			for _, e := range es {
				if _, done := m.same[e.id]; done || e.id == in.ID {
					continue
				}
				if cand, ok := lookupRecord(tx, e.id); ok {
					m.same[e.id] = sameStory(recs[i], cand)
				}
			}
		}
		in.judged = m
	}
}

// usable returns m if its verdicts can stand for an article of record
// rec in the write transaction tx, else nil.
func (m *candidateMemo) usable(tx kv.Tx, rec story.Record) *candidateMemo {
	if m == nil || m.merges != mergesEnded(tx) || !bytes.Equal(m.rec, rec) {
		return nil
	}
	return m
}

// verdict returns the memo's verdict on the candidate id, if it has one
// that stands in the save of view v.
func (m *candidateMemo) verdict(v *sketchView, id string) (same, ok bool) {
	if m == nil {
		return false, false
	}
	same, ok = m.same[id]
	if !ok || v.markedAfter(id, m.lastRun) {
		return false, false
	}
	return same, true
}
