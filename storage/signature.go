package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/tributary/tributary/kv"

	"github.com/tributary/tributary/story"
)

// bucketSignatures holds the signature record of every story written since
// it exists (story ID → record): what near-duplicate detection compares,
// so that a candidate from the sketch index is checked without decoding
// its article and normalising its text again. A story without a record
// (written before the bucket existed) has one computed from its article
// when needed.
const bucketSignatures = "signatures"

// textSignature returns the text signature of a (story.Story.Signature).
func textSignature(a Article) []byte {
	return story.Of(a.Title, a.Content, a.Summary).Signature()
}

// newRecord returns the signature record of a as it is stored, with the
// text signature text.
func newRecord(a Article, text []byte) story.Record {
	return story.NewRecord(a.Published, a.Source.FeedURL, text)
}

// sketchPeriodDays is how many Published days share the period prefix of
// the sketch index: twice the days a lookup reaches on either side of a
// story's day (windowDays), plus its own, so that a lookup reads at most
// two periods. New stories are published lately, so their entries go into
// the last period or two, a small part of the index that stays in memory
// and whose pages each commit rewrites together, instead of fifteen random
// places across the whole index.
const sketchPeriodDays = 2*windowDays + 1

// windowDays is how many Published days a sketch lookup reaches on either
// side of a story's own day: story.DupWindow rounded up, plus one.
const windowDays = uint32(story.DupWindow/(24*time.Hour)) + 1

// periodLen is the length of the period prefix of a sketch entry.
const periodLen = 4

// sketchPrefix returns the sketch index prefix of a sketch key in a
// period: the period (a day number divided by sketchPeriodDays), then the
// key.
func sketchPrefix(period uint32, key []byte) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, periodLen+len(key)+dayLen+idLen), period), key...)
}

// sketchEntries returns the sketch index keys of the story id with record
// r: the period of its Published day, each sketch key, then the day, then
// id.
func sketchEntries(r story.Record, id string) [][]byte {
	day := dayOf(r.Published())
	keys := r.Keys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = append(binary.BigEndian.AppendUint32(sketchPrefix(day/sketchPeriodDays, k), day), id...)
	}
	return out
}

// storedRecord returns the signature record of the stored story a: the
// one in the signatures bucket, else one computed from a.
func storedRecord(tx kv.Tx, a Article) story.Record {
	if r, ok := lookupRecord(tx, a.ID); ok {
		return r
	}
	return newRecord(a, textSignature(a))
}

// lookupRecord returns the stored signature record of the story id, in the
// database's memory; false when there is none or it is malformed.
func lookupRecord(tx kv.Tx, id string) (story.Record, bool) {
	b := tx.Bucket([]byte(bucketSignatures))
	if b == nil {
		return nil, false
	}
	r := story.Record(b.Get([]byte(id)))
	return r, r.Valid()
}

// writeRecord replaces the signature record of the story id, old (nil when
// there was none), with next, and its sketch entries with those of next:
// the new ones go to the sketch log of the save v (see bucketSketchLog),
// or straight into the sketch index when v is nil (a new record, old nil,
// outside a save); those of old that next does not have leave the index,
// and the save marks id's entries in the log stale (staleMark).
func writeRecord(tx kv.Tx, v *sketchView, id string, old, next story.Record) error {
	if bytes.Equal(old, next) {
		return nil
	}
	if old != nil {
		if v == nil {
			return fmt.Errorf("replace signature record of %s: not in a save", id)
		}
		v.markStale(id)
	}
	sk, err := tx.CreateBucketIfNotExists([]byte(bucketSketch))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSketch, err)
	}
	sigs, err := tx.CreateBucketIfNotExists([]byte(bucketSignatures))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSignatures, err)
	}
	add := sketchEntries(next, id)
	if old != nil {
		had := sketchEntries(old, id)
		gone := slices.DeleteFunc(slices.Clone(had), func(k []byte) bool {
			return slices.ContainsFunc(add, func(n []byte) bool { return bytes.Equal(n, k) })
		})
		if err := deleteIndexed(tx, sk, id, gone); err != nil {
			return err
		}
		add = slices.DeleteFunc(add, func(n []byte) bool {
			return slices.ContainsFunc(had, func(k []byte) bool { return bytes.Equal(n, k) })
		})
	}
	if err := sigs.Put([]byte(id), next); err != nil {
		return fmt.Errorf("put signature of %s: %w", id, err)
	}
	if v != nil {
		return v.add(tx, sk, add)
	}
	for _, k := range add {
		if err := sk.Put(k, empty); err != nil {
			return fmt.Errorf("put sketch of %s: %w", id, err)
		}
	}
	return nil
}

// dropRecordOf removes the signature record of the item id and its sketch
// entries, if it has one, and then adds id to stale (see staleMark).
func dropRecordOf(tx kv.Tx, id string, stale *staleMarks) error {
	r, ok := lookupRecord(tx, id)
	if !ok {
		return nil
	}
	stale.add(id)
	if sk := tx.Bucket([]byte(bucketSketch)); sk != nil {
		if err := deleteIndexed(tx, sk, id, sketchEntries(r, id)); err != nil {
			return err
		}
	}
	if err := tx.Bucket([]byte(bucketSignatures)).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete signature of %s: %w", id, err)
	}
	return nil
}

// dropRecord removes the sketch entries and the signature record of the
// stored story a, and adds a's ID to stale (see staleMark).
func dropRecord(tx kv.Tx, a Article, stale *staleMarks) error {
	sk := tx.Bucket([]byte(bucketSketch))
	if sk == nil {
		return nil
	}
	stale.add(a.ID)
	if err := deleteIndexed(tx, sk, a.ID, sketchEntries(storedRecord(tx, a), a.ID)); err != nil {
		return err
	}
	if sigs := tx.Bucket([]byte(bucketSignatures)); sigs != nil {
		if err := sigs.Delete([]byte(a.ID)); err != nil {
			return fmt.Errorf("delete signature of %s: %w", a.ID, err)
		}
	}
	return nil
}

// deleteIndexed deletes the sketch entries of id from the sketch index sk
// and, if it held any of them, counts a change of their slices of the
// index (see keyIndexVersion). Entries of the sketch log stay; they are no longer live.
func deleteIndexed(tx kv.Tx, sk kv.Bucket, id string, entries [][]byte) error {
	var changed [mergeSlices]bool
	deleted := false
	for _, k := range entries {
		if sk.Get(k) == nil {
			continue
		}
		changed[keySlice(k[periodLen:])], deleted = true, true
		if err := sk.Delete(k); err != nil {
			return fmt.Errorf("delete sketch of %s: %w", id, err)
		}
	}
	if !deleted {
		return nil
	}
	return bumpIndexVersion(tx, changed)
}

// bucketSketchV1 is the sketch index of schema version 1, keyed by sketch
// key first: sketch key ‖ BigEndian(uint32 Published day) ‖ ID → empty.
const bucketSketchV1 = "sketch"

// sketchByPeriod is the migration from schema version 1 to 2: the entries
// of the sketch index move from bucketSketchV1 to bucketSketch, under their
// period first (sketchEntries). Entries too short to hold a day, which
// Check reports and no lookup finds, are dropped.
func sketchByPeriod(tx kv.Tx) error {
	old := tx.Bucket([]byte(bucketSketchV1))
	if old == nil {
		return nil
	}
	sk, err := tx.CreateBucketIfNotExists([]byte(bucketSketch))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSketch, err)
	}
	err = old.ForEach(func(k, _ []byte) error {
		if len(k) < story.SketchKeyLen+dayLen {
			return nil
		}
		key, rest := k[:story.SketchKeyLen], k[story.SketchKeyLen:]
		day := binary.BigEndian.Uint32(rest)
		if err := sk.Put(append(sketchPrefix(day/sketchPeriodDays, key), rest...), empty); err != nil {
			return fmt.Errorf("put sketch entry %x: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket([]byte(bucketSketchV1)); err != nil {
		return fmt.Errorf("delete bucket %s: %w", bucketSketchV1, err)
	}
	return nil
}
