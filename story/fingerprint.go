package story

import (
	"encoding/binary"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	shingleWords = 3  // words per shingle
	leadWords    = 50 // words of the text that make the lead sketch
	openingWords = 12 // words of the text that make the opening key
	titleBands   = 6  // LSH bands of the title words' MinHash
	titleRows    = 4  // MinHash values per title band: one common word is not enough
	leadBands    = 8  // LSH bands of the lead shingles' MinHash
	leadRows     = 2  // MinHash values per lead band
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

// Of returns the Story of an article with the given title and sanitised
// HTML content and summary: the text is the content, else the summary. It
// is a pure function.
func Of(title, content, summary string) Story {
	body := content
	if body == "" {
		body = summary
	}
	return Story{
		TitleWords: words(StripTitleSuffix(title)),
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
	if !utf8.ValidString(s) {
		// Dropping a tag must not join invalid bytes into a letter.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	inTag := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			inTag = true
			b.WriteByte(' ')
		case c == '>':
			inTag = false
		case !inTag:
			b.WriteByte(c)
		}
	}
	return html.UnescapeString(b.String())
}

// words splits s into lower-case words of letters and digits; apostrophes
// inside words are dropped ("Trump's" → "trumps"). The words are
// substrings of one new string.
func words(s string) []string {
	buf := make([]byte, 0, len(s))
	var ends []int // end offset in buf of each word; words are 1 byte apart
	inWord := false
	for i := 0; i < len(s); {
		r := rune(s[i])
		if r < utf8.RuneSelf { // ASCII: the same tests, without tables
			i++
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			switch {
			case r == '\'':
			case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
				if !inWord && len(buf) > 0 {
					buf = append(buf, ' ')
				}
				inWord = true
				buf = append(buf, byte(r))
			case inWord:
				ends = append(ends, len(buf))
				inWord = false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == '’' {
			continue
		}
		r = unicode.ToLower(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if !inWord && len(buf) > 0 {
				buf = append(buf, ' ')
			}
			inWord = true
			buf = utf8.AppendRune(buf, r)
			continue
		}
		if inWord {
			ends = append(ends, len(buf))
			inWord = false
		}
	}
	if inWord {
		ends = append(ends, len(buf))
	}
	all := string(buf)
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i] = all[start:end]
		start = end + 1
	}
	return out
}

// FNV-1a, 64 and 32 bits.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// hashWords is the 64-bit FNV-1a hash of ws joined by spaces.
func hashWords(ws []string) uint64 {
	h := uint64(fnvOffset64)
	for i, w := range ws {
		if i > 0 {
			h = (h ^ ' ') * fnvPrime64
		}
		for j := 0; j < len(w); j++ {
			h = (h ^ uint64(w[j])) * fnvPrime64
		}
	}
	return h
}

// shingleHashes returns the hashes of the shingleWords-word shingles of ws
// in text order: shingle i starts at word i. Fewer words than a shingle
// give one shingle of them all; no words, none.
func shingleHashes(ws []string) []uint64 {
	if len(ws) == 0 {
		return nil
	}
	out := make([]uint64, max(len(ws)-shingleWords+1, 1))
	for i := range out {
		out[i] = hashWords(ws[i:min(i+shingleWords, len(ws))])
	}
	return out
}

// titleHashes returns the hashes of the words ws, ascending, without
// duplicates.
func titleHashes(ws []string) []uint64 {
	out := make([]uint64, len(ws))
	for i := range ws {
		out[i] = hashWords(ws[i : i+1])
	}
	return sortedSet(out)
}

// sortedSet sorts hs and drops repeats, in place.
func sortedSet(hs []uint64) []uint64 {
	slices.Sort(hs)
	return slices.Compact(hs)
}

// Similarity compares two stories: the Jaccard similarity of their title
// word sets and the containment of the shorter text's shingles in the
// longer's; shorter is the shingle count of the shorter text.
func Similarity(a, b Story) (title, containment float64, shorter int) {
	return NewRecord(time.Time{}, "", a.Signature()).Similarity(NewRecord(time.Time{}, "", b.Signature()))
}

// SameStory reports whether a and b, published at pa and pb, are copies of
// one story under the Dup* thresholds. It is a pure function.
func SameStory(a, b Story, pa, pb time.Time) bool {
	return NewRecord(pa, "", a.Signature()).SameStory(NewRecord(pb, "", b.Signature()))
}

// sketchKeys returns the index keys of a story's sketch, each 6 bytes:
// a kind byte ('T' title-words MinHash band, 'L' lead-shingles MinHash band, 'O' the
// opening words of the text, which a summary shares with the full text
// whatever the headline), the band number and a 4-byte band value. Stories that are copies share at least
// one key with high probability; SameStory then decides.
func sketchKeys(s Story) [][]byte {
	return sketchKeysOf(titleHashes(s.TitleWords), shingleHashes(s.TextWords), s.TextWords)
}

// sketchKeysOf is sketchKeys given the story's title word hashes and its
// text's shingle hashes in text order (shingleHashes).
func sketchKeysOf(title, shingled []uint64, text []string) [][]byte {
	var keys [][]byte
	if len(title) > 0 {
		keys = append(keys, bandKeys('T', titleRows, minHash(title, titleBands*titleRows))...)
	}
	// The shingles of the lead are the first ones of the text.
	lead := min(len(text), leadWords)
	if lead >= shingleWords+DupMinShingles-1 {
		keys = append(keys, bandKeys('L', leadRows, minHash(shingled[:lead-shingleWords+1], leadBands*leadRows))...)
	}
	if len(text) >= openingWords {
		keys = append(keys, sketchKey('O', 0, uint32(hashWords(text[:openingWords]))))
	}
	return keys
}

// sketchKey builds one sketch key.
func sketchKey(kind byte, band int, v uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kind, byte(band)}, v)
}

// bandKeys turns MinHash values into LSH band keys of the given kind:
// one per rows consecutive values, the 32-bit FNV-1a hash of those values
// (big-endian).
func bandKeys(kind byte, rows int, mins []uint64) [][]byte {
	var keys [][]byte
	for i := 0; i+rows <= len(mins); i += rows {
		h := uint32(fnvOffset32)
		for _, m := range mins[i : i+rows] {
			for shift := 56; shift >= 0; shift -= 8 {
				h = (h ^ uint32(byte(m>>shift))) * fnvPrime32
			}
		}
		keys = append(keys, sketchKey(kind, i/rows, h))
	}
	return keys
}

// minHash returns n MinHash values of the hashes hs (repeats do not
// matter), one per seeded permutation (the splitmix64 finalizer of hash
// plus seed).
func minHash(hs []uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		seed := uint64(i+1) * 0x9e3779b97f4a7c15
		m := ^uint64(0)
		for _, h := range hs {
			x := h + seed
			x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
			x = (x ^ x>>27) * 0x94d049bb133111eb
			m = min(m, x^x>>31)
		}
		out[i] = m
	}
	return out
}
