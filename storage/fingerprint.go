package storage

import (
	"encoding/binary"
	"hash/fnv"
	"html"
	"math/bits"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Near-duplicate thresholds: the one place that decides when two stories
// from different items are the same story. They were chosen on the labelled
// set in testdata/dupes (TestDuplicatePrecisionRecall logs precision and
// recall; TestDuplicateMargins logs the closest scores): syndicated copies
// (headline suffixes, truncation to a summary, wire boilerplate, tracking
// links, reordered paragraphs, copy edits, a new headline) keep a
// containment of 0.88 or more, while distinct stories on the same topic
// (other articles on the same summit, follow-ups that reuse a background
// paragraph, live-blog updates under one title) stay at 0.24 or less.
// DupMinContainment sits between the two with margin on both sides; the
// title condition guards short texts, where a few shared sentences would
// otherwise suffice.
const (
	// DupWindow is how far apart the Published times of two copies may be.
	DupWindow = 72 * time.Hour
	// DupMinContainment is the least share of the shorter text's shingles
	// found in the longer text for two stories to be copies.
	DupMinContainment = 0.6
	// DupMinTitleSimilarity is the least Jaccard similarity of the title
	// words (suffixes stripped) for two stories to be copies, unless the
	// texts alone prove it (see DupStrongContainment).
	DupMinTitleSimilarity = 0.5
	// DupStrongContainment is the containment from which the texts alone
	// prove a copy, whatever the titles, when the shorter text has at least
	// DupStrongMinShingles shingles.
	DupStrongContainment = 0.9
	// DupStrongMinShingles is the least size of the shorter text, in
	// shingles, for DupStrongContainment to apply.
	DupStrongMinShingles = 20
	// DupMinShingles is the least size, in shingles, of the shorter text for
	// two stories to be compared at all: items with (almost) no text are
	// merged only by identical URL identity.
	DupMinShingles = 8
)

// Sketch parameters: how the candidates of a story are found in the index.
const (
	shingleWords  = 3  // words per shingle
	leadWords     = 50 // words of the text that make the lead sketch
	openingWords  = 12 // words of the text that make the opening key
	titleBands    = 4  // 16-bit bands of the title SimHash
	leadBands     = 8  // bands of the lead MinHash
	leadRows      = 2  // MinHash values per band
	maxCandidates = 32 // candidates read per band key
)

// Story is the normalised text of an article as near-duplicate detection
// sees it: boilerplate stripped, lower case, words only.
type Story struct {
	// TitleWords are the words of the title without a publisher suffix.
	TitleWords []string
	// TextWords are the words of the text (content, else summary) without
	// wire-agency boilerplate.
	TextWords []string
}

// StoryOf returns the Story of a. It is a pure function.
func StoryOf(a Article) Story {
	body := a.Content
	if body == "" {
		body = a.Summary
	}
	return Story{
		TitleWords: words(StripTitleSuffix(a.Title)),
		TextWords:  words(StripBoilerplate(htmlText(body))),
	}
}

// titleSuffix matches a publisher suffix after " | ", " - ", " – " or " — ":
// at most four words at the end of a title.
var titleSuffix = regexp.MustCompile(`\s+[|\-–—:]\s+(\S+\s*){1,4}$`)

// StripTitleSuffix removes a trailing publisher name such as " | Today News"
// or " - Bloomberg" from title, unless that would leave less than four
// words. It is a pure function.
func StripTitleSuffix(title string) string {
	title = strings.TrimSpace(title)
	loc := titleSuffix.FindStringIndex(title)
	if loc == nil || len(strings.Fields(title[:loc[0]])) < 4 {
		return title
	}
	return title[:loc[0]]
}

// boilerplate matches sentences that wire agencies and republishers add
// around the same story.
var boilerplate = regexp.MustCompile(`(?i)` + strings.Join([]string{
	`with assistance from [^.]*\.`,
	`this story (?:was|has been) published from a wire agency feed[^.]*\.(?:\s*only the headline has been changed\.)?`,
	`\(?(?:reporting|writing|editing|additional reporting) by [^)]*\)`,
	`©\s*\d{4}(?:[^.]|\.[A-Z])*\.?`,
	`\(c\)\s*\d{4}[^.]*\.`,
	`copyright \d{4}[^.]*\.`,
	`(?:read more|also read|catch all the [^:]*|subscribe to [^.]*)(?::[^.]*)?\.`,
	`(?:this article|the post) [^.]* (?:first appeared|originally appeared|appeared first) on [^.]*\.`,
}, "|"))

// StripBoilerplate removes wire and republishing boilerplate from plain
// text ("With assistance from …", "This story was published from a wire
// agency feed …", copyright lines, "(Reporting by …)"). It is a pure function.
func StripBoilerplate(text string) string {
	return boilerplate.ReplaceAllString(text, " ")
}

// htmlText returns the text of sanitised HTML: tags dropped, entities
// decoded, block ends turned into spaces.
func htmlText(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>':
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// words splits s into lower-case words of letters and digits; apostrophes
// inside words are dropped ("Trump's" → "trumps").
func words(s string) []string {
	s = strings.Map(func(r rune) rune {
		if r == '\'' || r == '’' {
			return -1
		}
		return r
	}, s)
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// shingles returns the hashes of the shingleWords-word shingles of ws, as a
// set; fewer words than a shingle give one shingle of them all.
func shingles(ws []string) map[uint64]struct{} {
	out := make(map[uint64]struct{}, len(ws))
	if len(ws) == 0 {
		return out
	}
	n := max(len(ws)-shingleWords+1, 1)
	for i := range n {
		out[hashWords(ws[i:min(i+shingleWords, len(ws))])] = struct{}{}
	}
	return out
}

// hashWords is the 64-bit FNV-1a hash of ws joined by spaces.
func hashWords(ws []string) uint64 {
	h := fnv.New64a()
	for i, w := range ws {
		if i > 0 {
			h.Write([]byte{' '})
		}
		h.Write([]byte(w))
	}
	return h.Sum64()
}

// Similarity compares two stories: the Jaccard similarity of their title
// word sets and the containment of the shorter text's shingles in the
// longer's; shorter is the shingle count of the shorter text.
func Similarity(a, b Story) (title, containment float64, shorter int) {
	title = jaccard(a.TitleWords, b.TitleWords)
	sa, sb := shingles(a.TextWords), shingles(b.TextWords)
	if len(sa) > len(sb) {
		sa, sb = sb, sa
	}
	if len(sa) == 0 {
		return title, 0, 0
	}
	common := 0
	for h := range sa {
		if _, ok := sb[h]; ok {
			common++
		}
	}
	return title, float64(common) / float64(len(sa)), len(sa)
}

// jaccard is the Jaccard similarity of the word sets a and b (0 when both
// are empty).
func jaccard(a, b []string) float64 {
	sa := make(map[string]bool, len(a))
	for _, w := range a {
		sa[w] = true
	}
	sb := make(map[string]bool, len(b))
	for _, w := range b {
		sb[w] = true
	}
	inter := 0
	for w := range sa {
		if sb[w] {
			inter++
		}
	}
	union := len(sa) + len(sb) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// SameStory reports whether a and b, published at pa and pb, are copies of
// one story under the Dup* thresholds. It is a pure function.
func SameStory(a, b Story, pa, pb time.Time) bool {
	if d := pa.Sub(pb); d > DupWindow || d < -DupWindow {
		return false
	}
	title, containment, shorter := Similarity(a, b)
	switch {
	case shorter < DupMinShingles || containment < DupMinContainment:
		return false
	case title >= DupMinTitleSimilarity:
		return true
	}
	return containment >= DupStrongContainment && shorter >= DupStrongMinShingles
}

// sketchKeys returns the index keys of a story's sketch, each 6 bytes:
// a kind byte ('T' title SimHash band, 'L' lead MinHash band, 'O' the
// opening words of the text, which a summary shares with the full text
// whatever the headline), the band number and a 4-byte band value. Stories that are copies share at least
// one key with high probability; SameStory then decides.
func sketchKeys(s Story) [][]byte {
	var keys [][]byte
	if len(s.TitleWords) > 0 {
		sh := simHash(s.TitleWords)
		for i := range titleBands {
			keys = append(keys, sketchKey('T', i, uint32(sh>>(16*i))&0xffff))
		}
	}
	lead := s.TextWords[:min(len(s.TextWords), leadWords)]
	if len(lead) >= shingleWords+DupMinShingles-1 {
		mins := minHash(shingles(lead), leadBands*leadRows)
		for i := range leadBands {
			h := fnv.New32a()
			for _, m := range mins[i*leadRows : (i+1)*leadRows] {
				h.Write(binary.BigEndian.AppendUint64(nil, m))
			}
			keys = append(keys, sketchKey('L', i, h.Sum32()))
		}
	}
	if len(s.TextWords) >= openingWords {
		keys = append(keys, sketchKey('O', 0, uint32(hashWords(s.TextWords[:openingWords]))))
	}
	return keys
}

// sketchKey builds one sketch key.
func sketchKey(kind byte, band int, v uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kind, byte(band)}, v)
}

// simHash is the 64-bit SimHash of the word set ws.
func simHash(ws []string) uint64 {
	var acc [64]int
	seen := make(map[string]bool, len(ws))
	for _, w := range ws {
		if seen[w] {
			continue
		}
		seen[w] = true
		h := hashWords([]string{w})
		for i := range acc {
			if h&(1<<i) != 0 {
				acc[i]++
			} else {
				acc[i]--
			}
		}
	}
	var out uint64
	for i, v := range acc {
		if v > 0 {
			out |= 1 << i
		}
	}
	return out
}

// minHash returns n MinHash values of the hash set set, one per seeded
// permutation (a multiply-xorshift mix of each hash).
func minHash(set map[uint64]struct{}, n int) []uint64 {
	hs := make([]uint64, 0, len(set))
	for h := range set {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	out := make([]uint64, n)
	for i := range out {
		seed := uint64(i+1) * 0x9e3779b97f4a7c15
		m := ^uint64(0)
		for _, h := range hs {
			x := (h ^ seed) * 0xbf58476d1ce4e5b9
			x ^= bits.RotateLeft64(x, -31)
			m = min(m, x)
		}
		out[i] = m
	}
	return out
}
