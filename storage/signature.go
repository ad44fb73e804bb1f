package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketSignatures holds the signature record of every story written since
// it exists (story ID → record): what near-duplicate detection compares,
// so that a candidate from the sketch index is checked without decoding
// its article and normalising its text again. A story without a record
// (written before the bucket existed) has one computed from its article
// when needed.
const bucketSignatures = "signatures"

// A signature record is, big-endian:
//
//	format (1, sigFormat) ‖ Published Unix seconds (8) ‖
//	Published nanoseconds (4) ‖ FNV-64a of Source.FeedURL (8) ‖
//	sketch key count (1) ‖ title hash count (2) ‖ sketch keys (sketchKeyLen each) ‖
//	title word hashes (hashLen each, ascending) ‖
//	text shingle hashes (hashLen each, ascending)
//
// Everything from the key count on depends only on the story's title and
// text: that part is a text signature (textSignature). The word and
// shingle hashes are the low 32 bits of their 64-bit FNV-1a hashes: two
// distinct shingles of two texts of a thousand words each collide with a
// chance of 1 in 4,000, which moves a containment by a thousandth, and the
// records are half the size.
const (
	sigFormat    = 1
	sigHeaderLen = 21
	sigCountsLen = 3
	sketchKeyLen = 6
	hashLen      = 4
)

// sigRecord is a signature record, possibly in the database's memory (then
// valid only during its transaction).
type sigRecord []byte

// textSignature returns the text signature of a.
func textSignature(a Article) []byte {
	return encodeText(StoryOf(a))
}

// encodeText returns the text signature of s.
func encodeText(s Story) []byte {
	words, shingled := titleHashes(s.TitleWords), shingleHashes(s.TextWords)
	keys := sketchKeysOf(words, shingled, s.TextWords)
	title := short(words)
	title = title[:min(len(title), math.MaxUint16)]
	text := short(shingled)
	buf := make([]byte, 0, sigCountsLen+len(keys)*sketchKeyLen+hashLen*(len(title)+len(text)))
	buf = append(buf, byte(len(keys)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(title)))
	for _, k := range keys {
		buf = append(buf, k...)
	}
	for _, h := range title {
		buf = binary.BigEndian.AppendUint32(buf, h)
	}
	for _, h := range text {
		buf = binary.BigEndian.AppendUint32(buf, h)
	}
	return buf
}

// short returns the low 32 bits of hs, ascending, without repeats.
func short(hs []uint64) []uint32 {
	out := make([]uint32, len(hs))
	for i, h := range hs {
		out[i] = uint32(h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// newRecord returns the signature record of a story published at published
// by the source feedURL, with the text signature text.
func newRecord(published time.Time, feedURL string, text []byte) sigRecord {
	buf := make([]byte, 0, sigHeaderLen+len(text))
	buf = append(buf, sigFormat)
	buf = binary.BigEndian.AppendUint64(buf, uint64(published.Unix()))
	buf = binary.BigEndian.AppendUint32(buf, uint32(published.Nanosecond()))
	buf = binary.BigEndian.AppendUint64(buf, sourceHash(feedURL))
	return append(buf, text...)
}

// sourceHash is the FNV-64a hash of a source's feed URL.
func sourceHash(feedURL string) uint64 {
	return hashWords([]string{feedURL})
}

// valid reports whether r is a well-formed record.
func (r sigRecord) valid() bool {
	if len(r) < sigHeaderLen+sigCountsLen || r[0] != sigFormat {
		return false
	}
	rest := len(r) - sigHeaderLen - sigCountsLen - r.keyCount()*sketchKeyLen - r.titleCount()*hashLen
	return rest >= 0 && rest%hashLen == 0
}

// keyCount is the number of sketch keys in r.
func (r sigRecord) keyCount() int { return int(r[sigHeaderLen]) }

// titleCount is the number of title word hashes in r.
func (r sigRecord) titleCount() int { return int(binary.BigEndian.Uint16(r[sigHeaderLen+1:])) }

// published is the story's Published time.
func (r sigRecord) published() time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(r[1:])), int64(binary.BigEndian.Uint32(r[9:]))).UTC()
}

// source is the hash of the story's source (sourceHash).
func (r sigRecord) source() uint64 { return binary.BigEndian.Uint64(r[13:]) }

// keys returns the story's sketch keys, sub-slices of r.
func (r sigRecord) keys() [][]byte {
	at := sigHeaderLen + sigCountsLen
	keys := make([][]byte, r.keyCount())
	for i := range keys {
		keys[i] = r[at : at+sketchKeyLen : at+sketchKeyLen]
		at += sketchKeyLen
	}
	return keys
}

// titleHashes returns the packed title word hashes.
func (r sigRecord) titleHashes() []byte {
	at := sigHeaderLen + sigCountsLen + r.keyCount()*sketchKeyLen
	return r[at : at+r.titleCount()*hashLen]
}

// shingleHashes returns the packed text shingle hashes.
func (r sigRecord) shingleHashes() []byte {
	return r[sigHeaderLen+sigCountsLen+r.keyCount()*sketchKeyLen+r.titleCount()*hashLen:]
}

// entries returns the sketch index keys of the story id with record r.
func (r sigRecord) entries(id string) [][]byte {
	day := dayOf(r.published())
	keys := r.keys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		e := make([]byte, 0, len(k)+dayLen+len(id))
		out[i] = append(binary.BigEndian.AppendUint32(append(e, k...), day), id...)
	}
	return out
}

// similarity is Similarity on two records.
func similarity(a, b sigRecord) (title, containment float64, shorter int) {
	ta, tb := a.titleHashes(), b.titleHashes()
	if inter := commonHashes(ta, tb); len(ta)+len(tb) > 0 {
		title = float64(inter) / float64(len(ta)/hashLen+len(tb)/hashLen-inter)
	}
	sa, sb := a.shingleHashes(), b.shingleHashes()
	if len(sa) > len(sb) {
		sa, sb = sb, sa
	}
	if len(sa) == 0 {
		return title, 0, 0
	}
	return title, float64(commonHashes(sa, sb)) / float64(len(sa)/hashLen), len(sa) / hashLen
}

// commonHashes counts the values two ascending packed hash lists share.
func commonHashes(a, b []byte) int {
	n := 0
	for len(a) > 0 && len(b) > 0 {
		x, y := binary.BigEndian.Uint32(a), binary.BigEndian.Uint32(b)
		switch {
		case x < y:
			a = a[hashLen:]
		case x > y:
			b = b[hashLen:]
		default:
			n++
			a, b = a[hashLen:], b[hashLen:]
		}
	}
	return n
}

// sameStory is SameStory on two records.
func sameStory(a, b sigRecord) bool {
	if d := a.published().Sub(b.published()); d > DupWindow || d < -DupWindow {
		return false
	}
	title, containment, shorter := similarity(a, b)
	switch {
	case shorter < DupMinShingles || containment < DupMinContainment:
		return false
	case title >= DupMinTitleSimilarity:
		return true
	}
	return containment >= DupStrongContainment && shorter >= DupStrongMinShingles
}

// storedRecord returns the signature record of the stored story a: the
// one in the signatures bucket, else one computed from a.
func storedRecord(tx *bolt.Tx, a Article) sigRecord {
	if r, ok := lookupRecord(tx, a.ID); ok {
		return r
	}
	return newRecord(a.Published, a.Source.FeedURL, textSignature(a))
}

// lookupRecord returns the stored signature record of the story id, in the
// database's memory; false when there is none or it is malformed.
func lookupRecord(tx *bolt.Tx, id string) (sigRecord, bool) {
	b := tx.Bucket([]byte(bucketSignatures))
	if b == nil {
		return nil, false
	}
	r := sigRecord(b.Get([]byte(id)))
	return r, r.valid()
}

// writeRecord replaces the signature record of the story id, old (nil when
// there was none), with next, and its sketch entries with those of next.
func writeRecord(tx *bolt.Tx, id string, old, next sigRecord) error {
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
	add := next.entries(id)
	if old != nil {
		for _, k := range old.entries(id) {
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
		for _, k := range r.entries(id) {
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
	for _, k := range storedRecord(tx, a).entries(a.ID) {
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
