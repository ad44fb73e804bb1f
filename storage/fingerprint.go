package storage

import (
	"encoding/binary"
	"hash/fnv"
	"html"
	"regexp"
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
	// DupSameSourceMinTitle is the least title similarity of two items of
	// the same source for them to be copies: a source's own items often
	// share a template body (podcast notes, "read the full story"), so
	// within one source the text alone proves nothing.
	DupSameSourceMinTitle = 0.8
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
	titleBands    = 6  // LSH bands of the title words' MinHash
	titleRows     = 4  // MinHash values per title band: one common word is not enough
	leadBands     = 8  // LSH bands of the lead shingles' MinHash
	leadRows      = 2  // MinHash values per lead band
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

// boilerplateRule removes one kind of boilerplate sentence; trigger is a
// lower-case substring every match contains, checked first because running
// a case-insensitive regexp over every text is slow.
type boilerplateRule struct {
	trigger string
	re      *regexp.Regexp
}

// boilerplate are the sentences that wire agencies and republishers add
// around the same story. Like titleSuffix it is a compiled constant: read
// only, safe for concurrent use.
var boilerplate = []boilerplateRule{
	{"assistance", regexp.MustCompile(`(?i)with assistance from [^.]*\.`)},
	{"wire agency", regexp.MustCompile(`(?i)this story (?:was|has been) published from a wire agency feed[^.]*\.(?:\s*only the headline has been changed\.)?`)},
	{" by ", regexp.MustCompile(`(?i)\(?(?:reporting|writing|editing|additional reporting) by [^)]*\)`)},
	{"©", regexp.MustCompile(`©\s*\d{4}(?:[^.]|\.[A-Z])*\.?`)},
	{"(c)", regexp.MustCompile(`(?i)\(c\)\s*\d{4}[^.]*\.`)},
	{"copyright", regexp.MustCompile(`(?i)copyright \d{4}[^.]*\.`)},
	{"read", regexp.MustCompile(`(?i)(?:read more|also read)(?::[^.]*)?\.`)},
	{"catch all the", regexp.MustCompile(`(?i)catch all the [^.]*\.`)},
	{"subscribe to", regexp.MustCompile(`(?i)subscribe to [^.]*\.`)},
	{"appeared", regexp.MustCompile(`(?i)(?:this article|the post) [^.]* (?:first appeared|originally appeared|appeared first) on [^.]*\.`)},
}

// StripBoilerplate removes wire and republishing boilerplate from plain
// text ("With assistance from …", "This story was published from a wire
// agency feed …", copyright lines, "(Reporting by …)", "Read more: …").
// It is a pure function.
func StripBoilerplate(text string) string {
	lower := strings.ToLower(text)
	for _, r := range boilerplate {
		if strings.Contains(lower, r.trigger) {
			text = r.re.ReplaceAllString(text, " ")
			lower = strings.ToLower(text)
		}
	}
	return text
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
	return similarity(newRecord(time.Time{}, "", encodeText(a)), newRecord(time.Time{}, "", encodeText(b)))
}

// SameStory reports whether a and b, published at pa and pb, are copies of
// one story under the Dup* thresholds. It is a pure function.
func SameStory(a, b Story, pa, pb time.Time) bool {
	return sameStory(newRecord(pa, "", encodeText(a)), newRecord(pb, "", encodeText(b)))
}

// sketchKeys returns the index keys of a story's sketch, each 6 bytes:
// a kind byte ('T' title-words MinHash band, 'L' lead-shingles MinHash band, 'O' the
// opening words of the text, which a summary shares with the full text
// whatever the headline), the band number and a 4-byte band value. Stories that are copies share at least
// one key with high probability; SameStory then decides.
func sketchKeys(s Story) [][]byte {
	var keys [][]byte
	if len(s.TitleWords) > 0 {
		set := make(map[uint64]struct{}, len(s.TitleWords))
		for _, w := range s.TitleWords {
			set[hashWords([]string{w})] = struct{}{}
		}
		keys = append(keys, bandKeys('T', titleRows, minHash(set, titleBands*titleRows))...)
	}
	lead := s.TextWords[:min(len(s.TextWords), leadWords)]
	if len(lead) >= shingleWords+DupMinShingles-1 {
		keys = append(keys, bandKeys('L', leadRows, minHash(shingles(lead), leadBands*leadRows))...)
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

// bandKeys turns MinHash values into LSH band keys of the given kind:
// one per rows consecutive values, the hash of those values.
func bandKeys(kind byte, rows int, mins []uint64) [][]byte {
	var keys [][]byte
	for i := 0; i+rows <= len(mins); i += rows {
		h := fnv.New32a()
		for _, m := range mins[i : i+rows] {
			h.Write(binary.BigEndian.AppendUint64(nil, m))
		}
		keys = append(keys, sketchKey(kind, i/rows, h.Sum32()))
	}
	return keys
}

// minHash returns n MinHash values of the hash set set, one per seeded
// permutation (the splitmix64 finalizer of hash plus seed).
func minHash(set map[uint64]struct{}, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		seed := uint64(i+1) * 0x9e3779b97f4a7c15
		m := ^uint64(0)
		for h := range set {
			x := h + seed
			x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
			x = (x ^ x>>27) * 0x94d049bb133111eb
			m = min(m, x^x>>31)
		}
		out[i] = m
	}
	return out
}
