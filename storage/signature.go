package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

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

// sketchEntries returns the sketch index keys of the story id with record
// r: each sketch key, then the Published day, then id.
func sketchEntries(r story.Record, id string) [][]byte {
	day := dayOf(r.Published())
	keys := r.Keys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		e := make([]byte, 0, len(k)+dayLen+len(id))
		out[i] = append(binary.BigEndian.AppendUint32(append(e, k...), day), id...)
	}
	return out
}

// storedRecord returns the signature record of the stored story a: the
// one in the signatures bucket, else one computed from a.
func storedRecord(tx *bolt.Tx, a Article) story.Record {
	if r, ok := lookupRecord(tx, a.ID); ok {
		return r
	}
	return newRecord(a, textSignature(a))
}

// lookupRecord returns the stored signature record of the story id, in the
// database's memory; false when there is none or it is malformed.
func lookupRecord(tx *bolt.Tx, id string) (story.Record, bool) {
	b := tx.Bucket([]byte(bucketSignatures))
	if b == nil {
		return nil, false
	}
	r := story.Record(b.Get([]byte(id)))
	return r, r.Valid()
}

// writeRecord replaces the signature record of the story id, old (nil when
// there was none), with next, and its sketch entries with those of next.
func writeRecord(tx *bolt.Tx, id string, old, next story.Record) error {
	if bytes.Equal(old, next) {
		return nil
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
		for _, k := range sketchEntries(old, id) {
			if !slices.ContainsFunc(add, func(n []byte) bool { return bytes.Equal(n, k) }) {
				if err := sk.Delete(k); err != nil {
					return fmt.Errorf("delete sketch of %s: %w", id, err)
				}
			}
		}
	}
	for _, k := range add {
		if err := sk.Put(k, nil); err != nil {
			return fmt.Errorf("put sketch of %s: %w", id, err)
		}
	}
	if err := sigs.Put([]byte(id), next); err != nil {
		return fmt.Errorf("put signature of %s: %w", id, err)
	}
	return nil
}

// dropRecordOf removes the signature record of the item id and its sketch
// entries, if it has one.
func dropRecordOf(tx *bolt.Tx, id string) error {
	r, ok := lookupRecord(tx, id)
	if !ok {
		return nil
	}
	if sk := tx.Bucket([]byte(bucketSketch)); sk != nil {
		for _, k := range sketchEntries(r, id) {
			if err := sk.Delete(k); err != nil {
				return fmt.Errorf("delete sketch of %s: %w", id, err)
			}
		}
	}
	if err := tx.Bucket([]byte(bucketSignatures)).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete signature of %s: %w", id, err)
	}
	return nil
}

// dropRecord removes the sketch entries and the signature record of the
// stored story a.
func dropRecord(tx *bolt.Tx, a Article) error {
	sk := tx.Bucket([]byte(bucketSketch))
	if sk == nil {
		return nil
	}
	for _, k := range sketchEntries(storedRecord(tx, a), a.ID) {
		if err := sk.Delete(k); err != nil {
			return fmt.Errorf("delete sketch of %s: %w", a.ID, err)
		}
	}
	if sigs := tx.Bucket([]byte(bucketSignatures)); sigs != nil {
		if err := sigs.Delete([]byte(a.ID)); err != nil {
			return fmt.Errorf("delete signature of %s: %w", a.ID, err)
		}
	}
	return nil
}
