package story

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"time"
)

// A signature record is, big-endian:
//
//	format (1, sigFormat) ‖ Published Unix seconds (8) ‖
//	Published nanoseconds (4) ‖ FNV-64a of Source.FeedURL (8) ‖
//	sketch key count (1) ‖ title hash count (2) ‖ sketch keys (SketchKeyLen each) ‖
//	title word hashes (hashLen each, ascending) ‖
//	text shingle hashes (hashLen each, ascending)
//
// Everything from the key count on depends only on the story's title and
// text: that part is a text signature (Story.Signature). The word and
// shingle hashes are the low 32 bits of their 64-bit FNV-1a hashes: two
// distinct shingles of two texts of a thousand words each collide with a
// chance of 1 in 4,000, which moves a containment by a thousandth, and the
// records are half the size.
const (
	sigFormat    = 1
	sigHeaderLen = 21
	sigCountsLen = 3
	hashLen      = 4
)

// SketchKeyLen is the length of a sketch key (Record.Keys): a kind byte
// ('T' title-words MinHash band, 'L' lead-shingles MinHash band, 'O' the
// opening words), the band number and a 4-byte band value.
const SketchKeyLen = 6

// Record is a signature record: what near-duplicate detection compares of
// a stored story, so that a candidate is checked without normalising its
// text again. A Record may alias memory owned by its caller (such as a
// database page, valid only during its transaction); its methods only read
// it and are safe for concurrent use.
type Record []byte

// Signature returns the text signature of s: its sketch keys, title word
// hashes and text shingle hashes, the part of a Record that depends only
// on the story's title and text. It is a pure function.
func (s Story) Signature() []byte {
	h := hashPool.Get().(*textHashes)
	defer h.release()
	h.hashTitle(s.Title)
	h.hashText(s.Text)
	h.title32 = h.title32[:0]
	for _, x := range h.title {
		h.title32 = append(h.title32, uint32(x))
	}
	title := h.sortedSet(h.title32)
	title = title[:min(len(title), math.MaxUint16)]
	text := h.sortedSet(h.text32)
	buf := make([]byte, sigCountsLen, sigCountsLen+maxSketchKeys*SketchKeyLen+hashLen*(len(title)+len(text)))
	buf = appendSketchKeys(buf, h)
	buf[0] = byte((len(buf) - sigCountsLen) / SketchKeyLen)
	binary.BigEndian.PutUint16(buf[1:], uint16(len(title)))
	for _, x := range title {
		buf = binary.BigEndian.AppendUint32(buf, x)
	}
	for _, x := range text {
		buf = binary.BigEndian.AppendUint32(buf, x)
	}
	return buf
}

// sortedSet sorts hs ascending in place and returns it without repeats,
// with h's tmp as the sort's second buffer.
func (h *textHashes) sortedSet(hs []uint32) []uint32 {
	if len(hs) < spreadMin {
		slices.Sort(hs)
		return slices.Compact(hs)
	}
	h.tmp = slices.Grow(h.tmp[:0], len(hs))[:len(hs)]
	if len(hs) <= spreadMax {
		sortSpread(hs, h.tmp)
	} else {
		sortUint32(hs, h.tmp)
	}
	return slices.Compact(hs)
}

// The lengths from which sortedSet sorts by spreading the values over
// buckets of their top byte (sortSpread), and above which by radix
// (sortUint32); shorter lists are sorted in place by comparison. Measured
// on uniformly spread values, spreading is three times faster than the
// radix sort at 160 values and as fast at 3,000.
const (
	spreadMin = 64
	spreadMax = 2048
)

// sortSpread sorts hs ascending with tmp, of the same length, as its
// second buffer: a counting sort puts the values into tmp by their top
// byte, then an insertion sort brings them back into hs, each value moving
// past the few larger ones of its bucket. A text's shingle hashes are
// uniformly spread, so a bucket holds about len(hs)/256 of them; values
// crafted into one bucket cost at most spreadMax²/2 moves.
func sortSpread(hs, tmp []uint32) {
	var at [256]int32 // per top byte: counts, then offsets
	for _, h := range hs {
		at[h>>24]++
	}
	var pos int32
	for i, n := range at {
		at[i] = pos
		pos += n
	}
	for _, h := range hs {
		tmp[at[h>>24]] = h
		at[h>>24]++
	}
	for i, h := range tmp {
		j := i
		for j > 0 && hs[j-1] > h {
			hs[j] = hs[j-1]
			j--
		}
		hs[j] = h
	}
}

// sortUint32 sorts hs ascending with tmp, of the same length, as its
// second buffer. It is a radix sort, a byte per pass after one pass that
// counts all four bytes, which needs no comparisons: a text's shingle
// hashes are uniformly spread, and comparison sorts mispredict half of
// their branches on them.
func sortUint32(hs, tmp []uint32) {
	var at [4][256]int32 // per byte of the values: counts, then offsets
	for _, h := range hs {
		at[0][byte(h)]++
		at[1][byte(h>>8)]++
		at[2][byte(h>>16)]++
		at[3][byte(h>>24)]++
	}
	src, dst := hs, tmp
	for pass := range at {
		var pos int32
		for i, n := range at[pass] {
			at[pass][i] = pos
			pos += n
		}
		shift := 8 * pass
		for _, h := range src {
			b := byte(h >> shift)
			dst[at[pass][b]] = h
			at[pass][b]++
		}
		src, dst = dst, src
	}
	// Four passes: the sorted values are back in hs.
}

// NewRecord returns the signature record of a story published at published
// by the source feedURL, with the text signature text (Story.Signature).
func NewRecord(published time.Time, feedURL string, text []byte) Record {
	buf := make([]byte, 0, sigHeaderLen+len(text))
	buf = append(buf, sigFormat)
	buf = binary.BigEndian.AppendUint64(buf, uint64(published.Unix()))
	buf = binary.BigEndian.AppendUint32(buf, uint32(published.Nanosecond()))
	buf = binary.BigEndian.AppendUint64(buf, SourceHash(feedURL))
	return append(buf, text...)
}

// SourceHash is the FNV-64a hash of a source's feed URL, as a Record holds
// it. It is a pure function.
func SourceHash(feedURL string) uint64 {
	return fnv64(feedURL)
}

// Valid reports whether r is a well-formed record; the other methods
// require one.
func (r Record) Valid() bool {
	if len(r) < sigHeaderLen+sigCountsLen || r[0] != sigFormat {
		return false
	}
	rest := len(r) - sigHeaderLen - sigCountsLen - r.keyCount()*SketchKeyLen - r.titleCount()*hashLen
	return rest >= 0 && rest%hashLen == 0
}

// keyCount is the number of sketch keys in r.
func (r Record) keyCount() int { return int(r[sigHeaderLen]) }

// titleCount is the number of title word hashes in r.
func (r Record) titleCount() int { return int(binary.BigEndian.Uint16(r[sigHeaderLen+1:])) }

// Published is the story's Published time, in UTC.
func (r Record) Published() time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(r[1:])), int64(binary.BigEndian.Uint32(r[9:]))).UTC()
}

// Source is the hash of the story's source (SourceHash).
func (r Record) Source() uint64 { return binary.BigEndian.Uint64(r[13:]) }

// Keys returns the story's sketch keys, SketchKeyLen bytes each,
// sub-slices of r: stories that are copies share at least one key with
// high probability.
func (r Record) Keys() [][]byte {
	at := sigHeaderLen + sigCountsLen
	keys := make([][]byte, r.keyCount())
	for i := range keys {
		keys[i] = r[at : at+SketchKeyLen : at+SketchKeyLen]
		at += SketchKeyLen
	}
	return keys
}

// HasKey reports whether key is one of the story's sketch keys (Keys).
func (r Record) HasKey(key []byte) bool {
	at := sigHeaderLen + sigCountsLen
	for range r.keyCount() {
		if bytes.Equal(r[at:at+SketchKeyLen], key) {
			return true
		}
		at += SketchKeyLen
	}
	return false
}

// Text returns the story's text signature (Story.Signature), a sub-slice
// of r.
func (r Record) Text() []byte { return r[sigHeaderLen:] }

// titleHashes returns the packed title word hashes.
func (r Record) titleHashes() []byte {
	at := sigHeaderLen + sigCountsLen + r.keyCount()*SketchKeyLen
	return r[at : at+r.titleCount()*hashLen]
}

// shingleHashes returns the packed text shingle hashes.
func (r Record) shingleHashes() []byte {
	return r[sigHeaderLen+sigCountsLen+r.keyCount()*SketchKeyLen+r.titleCount()*hashLen:]
}

// Similarity is the package's Similarity on the records r and o.
func (r Record) Similarity(o Record) (title, containment float64, shorter int) {
	ta, tb := r.titleHashes(), o.titleHashes()
	if inter := commonHashes(ta, tb); len(ta)+len(tb) > 0 {
		title = float64(inter) / float64(len(ta)/hashLen+len(tb)/hashLen-inter)
	}
	sa, sb := r.shingleHashes(), o.shingleHashes()
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

// SameStory is the package's SameStory on the records r and o, with their
// Published times.
func (r Record) SameStory(o Record) bool {
	if d := r.Published().Sub(o.Published()); d > DupWindow || d < -DupWindow {
		return false
	}
	title, containment, shorter := r.Similarity(o)
	switch {
	case shorter < DupMinShingles || containment < DupMinContainment:
		return false
	case title >= DupMinTitleSimilarity:
		return true
	}
	return containment >= DupStrongContainment && shorter >= DupStrongMinShingles
}
