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
	text := htmlText(body)
	ws := words(text)
	if mayHoldBoilerplate(text, ws) {
		ws = words(StripBoilerplate(text))
	}
	return Story{TitleWords: words(StripTitleSuffix(title)), TextWords: ws}
}

// StripTitleSuffix removes a trailing publisher name such as " | Today News"
// or " - Bloomberg" from title, unless that would leave less than four
// words: the suffix is the first run of white space followed by one of
// "|", "-", "–", "—" or ":", more white space and at most four words that
// end the title (white space is ASCII space, tab, newline, form feed or
// carriage return). It is a pure function.
func StripTitleSuffix(title string) string {
	title = strings.TrimSpace(title)
	at := titleSuffixAt(title)
	if at < 0 || len(strings.Fields(title[:at])) < 4 {
		return title
	}
	return title[:at]
}

// titleSuffixSeps are the separators of a publisher suffix.
var titleSuffixSeps = []string{"|", "-", "–", "—", ":"}

// titleSuffixAt returns the offset of the publisher suffix of title (see
// StripTitleSuffix), or -1: a scan in place of the equivalent regexp
// `\s+[|\-–—:]\s+(\S+\s*){1,4}$`, whose leftmost match it finds.
func titleSuffixAt(title string) int {
	for i := 0; i < len(title); i++ {
		if !asciiSpace(title[i]) {
			continue
		}
		start := i
		i = skipSpace(title, i)
		rest := title[i:]
		for _, sep := range titleSuffixSeps {
			if after, ok := strings.CutPrefix(rest, sep); ok && after != "" && asciiSpace(after[0]) {
				if n := fieldCount(after, 5); n >= 1 && n <= 4 {
					return start
				}
			}
		}
		i-- // the loop's i++ moves to the byte after the run
	}
	return -1
}

// asciiSpace reports whether c is white space as a regexp's \s sees it.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// skipSpace returns the offset of the first byte at or after i in s that
// is not asciiSpace, or len(s).
func skipSpace(s string, i int) int {
	for i < len(s) && asciiSpace(s[i]) {
		i++
	}
	return i
}

// fieldCount counts the runs of non-asciiSpace bytes in s, stopping at
// limit.
func fieldCount(s string, limit int) int {
	n := 0
	for i := 0; i < len(s) && n < limit; i++ {
		if !asciiSpace(s[i]) && (i == 0 || asciiSpace(s[i-1])) {
			n++
		}
	}
	return n
}

// boilerplateRule removes one kind of boilerplate sentence. The regexp
// runs only when the lower-cased text holds one of the triggers, because
// running a case-insensitive regexp over every text is slow: the triggers
// are lower-case substrings that the lower case of every match contains
// (a pattern letter "s" may match "ſ", which lower-casing keeps, so a
// trigger never spans an "s" of the pattern unless the rule always ran
// on it). Of checks a cheaper condition first, which every text that
// holds a trigger meets: its words hold one of inWords (see holdsWords),
// or the text itself one of inText.
type boilerplateRule struct {
	triggers []string
	inWords  [][]string
	inText   []string
	re       *regexp.Regexp
}

// triggered reports whether lower, a lower-cased text, holds one of r's
// triggers.
func (r boilerplateRule) triggered(lower string) bool {
	return slices.ContainsFunc(r.triggers, func(t string) bool { return strings.Contains(lower, t) })
}

// boilerplate are the sentences that wire agencies and republishers add
// around the same story. Like the tables above it is a compiled constant:
// read only, safe for concurrent use.
var boilerplate = []boilerplateRule{
	{[]string{"assistance"}, [][]string{{"assistance"}}, nil,
		regexp.MustCompile(`(?i)with assistance from [^.]*\.`)},
	{[]string{"wire agency"}, [][]string{{"wire", "agency"}}, nil,
		regexp.MustCompile(`(?i)this story (?:was|has been) published from a wire agency feed[^.]*\.(?:\s*only the headline has been changed\.)?`)},
	{[]string{"g by "}, [][]string{{"g", "by"}}, nil,
		regexp.MustCompile(`(?i)\(?(?:reporting|writing|editing|additional reporting) by [^)]*\)`)},
	{[]string{"©"}, nil, []string{"©"},
		regexp.MustCompile(`©\s*\d{4}(?:[^.]|\.[A-Z])*\.?`)},
	{[]string{"(c)"}, nil, []string{"(c)", "(C)"},
		regexp.MustCompile(`(?i)\(c\)\s*\d{4}[^.]*\.`)},
	{[]string{"copyright"}, [][]string{{"copyright"}}, nil,
		regexp.MustCompile(`(?i)copyright \d{4}[^.]*\.`)},
	{[]string{"read more", "o read"}, [][]string{{"read", "more"}, {"o", "read"}}, nil,
		regexp.MustCompile(`(?i)(?:read more|also read)(?::[^.]*)?\.`)},
	{[]string{"catch all the"}, [][]string{{"catch", "all", "the"}}, nil,
		regexp.MustCompile(`(?i)catch all the [^.]*\.`)},
	{[]string{"subscribe to"}, [][]string{{"subscribe", "to"}}, nil,
		regexp.MustCompile(`(?i)subscribe to [^.]*\.`)},
	{[]string{"appeared"}, [][]string{{"appeared"}}, nil,
		regexp.MustCompile(`(?i)(?:this article|the post) [^.]* (?:first appeared|originally appeared|appeared first) on [^.]*\.`)},
}

// wordTriggers are the inWords of the boilerplate rules, indexed for
// mayHoldBoilerplate: those of several words by the last byte of their
// first word, single words apart with the length of the shortest. Like
// boilerplate it is a compiled constant.
var wordTriggers = func() (t struct {
	spanning [256][][]string
	single   []string
	shortest int
}) {
	for _, r := range boilerplate {
		for _, parts := range r.inWords {
			if len(parts) == 1 {
				t.single = append(t.single, parts[0])
				continue
			}
			last := parts[0][len(parts[0])-1]
			t.spanning[last] = append(t.spanning[last], parts)
		}
	}
	t.shortest = len(slices.MinFunc(t.single, func(a, b string) int { return len(a) - len(b) }))
	return t
}()

// mayHoldBoilerplate reports whether StripBoilerplate may change text,
// whose words are ws: false when no rule's trigger can be in it. A trigger
// is lower-case letters and single spaces, or held by one of the rule's
// inText, and a text's lower case and its words case-fold alike: when
// the lower-cased text holds a trigger, its words joined by spaces hold
// the trigger's words (see holdsWordsAt).
func mayHoldBoilerplate(text string, ws []string) bool {
	for i, w := range ws {
		if len(w) >= wordTriggers.shortest &&
			slices.ContainsFunc(wordTriggers.single, func(t string) bool { return strings.Contains(w, t) }) {
			return true
		}
		if slices.ContainsFunc(wordTriggers.spanning[w[len(w)-1]], func(parts []string) bool { return holdsWordsAt(ws, i, parts) }) {
			return true
		}
	}
	return slices.ContainsFunc(boilerplate, func(r boilerplateRule) bool {
		return slices.ContainsFunc(r.inText, func(t string) bool { return strings.Contains(text, t) })
	})
}

// holdsWordsAt reports whether the words ws joined by spaces hold the
// words parts (two or more) joined by spaces from ws[i] on: the first part
// ends ws[i], the middle ones are the next words and the last starts the
// word after them.
func holdsWordsAt(ws []string, i int, parts []string) bool {
	last := len(parts) - 1
	return i+last < len(ws) && strings.HasSuffix(ws[i], parts[0]) &&
		slices.Equal(ws[i+1:i+last], parts[1:last]) && strings.HasPrefix(ws[i+last], parts[last])
}

// StripBoilerplate removes wire and republishing boilerplate from plain
// text ("With assistance from …", "This story was published from a wire
// agency feed …", copyright lines, "(Reporting by …)", "Read more: …").
// It is a pure function.
func StripBoilerplate(text string) string {
	lower := strings.ToLower(text)
	for _, r := range boilerplate {
		if r.triggered(lower) {
			text = r.re.ReplaceAllString(text, " ")
			lower = strings.ToLower(text)
		}
	}
	return text
}

// htmlText returns the text of sanitised HTML: tags dropped, entities
// decoded, block ends turned into spaces. Every '<' becomes a space and
// starts a tag, every '>' ends one and is dropped.
func htmlText(s string) string {
	if !utf8.ValidString(s) {
		// Dropping a tag must not join invalid bytes into a letter.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '>') < 0 {
		return html.UnescapeString(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	inTag := false
	for {
		i := tagByte(s)
		if i < 0 {
			if !inTag {
				b.WriteString(s)
			}
			break
		}
		if !inTag {
			b.WriteString(s[:i])
		}
		if inTag = s[i] == '<'; inTag {
			b.WriteByte(' ')
		}
		s = s[i+1:]
	}
	return html.UnescapeString(b.String())
}

// tagByte returns the offset of the first '<' or '>' in s, or -1.
func tagByte(s string) int {
	lt := strings.IndexByte(s, '<')
	end := len(s)
	if lt >= 0 {
		end = lt
	}
	if gt := strings.IndexByte(s[:end], '>'); gt >= 0 {
		return gt
	}
	return lt
}

// asciiWord maps an ASCII byte to its lower case when it is a letter or a
// digit, else to 0. Like the regexps it is a compiled constant.
var asciiWord = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			t[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// words splits s into lower-case words of letters and digits; apostrophes
// inside words are dropped ("Trump's" → "trumps"). A word already in that
// form is a substring of s; the others are substrings of one new string.
func words(s string) []string {
	out := make([]string, 0, len(s)/6+1)
	var own []byte    // the words that are not substrings of s, one after another
	var owned []int32 // for each of them: its index in out, its end in own
	for i := 0; i < len(s); {
		end, letters, plain := wordEnd(s, i)
		switch {
		case end == i: // a separator
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			continue
		case letters == 0: // apostrophes only
		case plain:
			out = append(out, s[i:end])
		default:
			own = appendWord(own, s[i:end])
			owned = append(owned, int32(len(out)), int32(len(own)))
			out = append(out, "")
		}
		i = end
	}
	all := string(own)
	start := int32(0)
	for k := 0; k < len(owned); k += 2 {
		out[owned[k]] = all[start:owned[k+1]]
		start = owned[k+1]
	}
	return out
}

// wordEnd returns the end of the run of word characters (letters and
// digits, after lower-casing) and apostrophes that starts at s[i], how many
// letters and digits it holds, and whether it is plain: only lower-case
// ASCII letters and digits, the same bytes as its word.
func wordEnd(s string, i int) (end, letters int, plain bool) {
	plain = true
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII: the same tests, from a table
			switch w := asciiWord[c]; {
			case w != 0:
				letters++
				plain = plain && w == c
			case c == '\'':
				plain = false
			default:
				return i, letters, plain
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != '’' {
			if r = unicode.ToLower(r); !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return i, letters, plain
			}
			letters++
		}
		plain = false
		i += size
	}
	return i, letters, plain
}

// appendWord appends the word of w, a run of word characters and
// apostrophes (wordEnd), to dst: lower-cased, without its apostrophes.
func appendWord(dst []byte, w string) []byte {
	for _, r := range w {
		switch {
		case r < utf8.RuneSelf:
			if c := asciiWord[r]; c != 0 {
				dst = append(dst, c)
			}
		case r != '’':
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
	}
	return dst
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
// in text order: shingle i starts at word i, and its hash is hashWords of
// its words. Fewer words than a shingle give one shingle of them all; no
// words, none. The three shingles a word belongs to are hashed side by
// side, so each byte of the text is read once and the three independent
// multiplications overlap.
func shingleHashes(ws []string) []uint64 {
	if len(ws) < shingleWords {
		if len(ws) == 0 {
			return nil
		}
		return []uint64{hashWords(ws)}
	}
	out := make([]uint64, len(ws)-shingleWords+1)
	// first and second are the hashes of the shingles that started one
	// and two words before w (shingleWords is 3).
	var first, second uint64
	for i, w := range ws {
		third := uint64(fnvOffset64)
		first = (first ^ ' ') * fnvPrime64
		second = (second ^ ' ') * fnvPrime64
		for j := 0; j < len(w); j++ {
			c := uint64(w[j])
			first = (first ^ c) * fnvPrime64
			second = (second ^ c) * fnvPrime64
			third = (third ^ c) * fnvPrime64
		}
		if i >= shingleWords-1 {
			out[i-shingleWords+1] = first
		}
		first, second = second, third
	}
	return out
}

// titleHashes returns the hashes of the words ws, in order: MinHash and
// the signature's sorted set (short) need no other.
func titleHashes(ws []string) []uint64 {
	out := make([]uint64, len(ws))
	for i := range ws {
		out[i] = hashWords(ws[i : i+1])
	}
	return out
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

// maxSketchKeys is the most sketch keys a story has: one per title band
// and lead band, and the opening key.
const maxSketchKeys = titleBands + leadBands + 1

// appendSketchKeys appends the index keys of a story's sketch to dst, each
// SketchKeyLen bytes: a kind byte ('T' title-words MinHash band, 'L'
// lead-shingles MinHash band, 'O' the opening words of the text, which a
// summary shares with the full text whatever the headline), the band
// number and a 4-byte band value. Stories that are copies share at least
// one key with high probability; SameStory then decides. title are the
// story's title word hashes, shingled its text's shingle hashes in text
// order (shingleHashes) and text its text words.
func appendSketchKeys(dst []byte, title, shingled []uint64, text []string) []byte {
	if len(title) > 0 {
		var mins [titleBands * titleRows]uint64
		minHash(title, mins[:])
		dst = appendBandKeys(dst, 'T', titleRows, mins[:])
	}
	// The shingles of the lead are the first ones of the text.
	lead := min(len(text), leadWords)
	if lead >= shingleWords+DupMinShingles-1 {
		var mins [leadBands * leadRows]uint64
		minHash(shingled[:lead-shingleWords+1], mins[:])
		dst = appendBandKeys(dst, 'L', leadRows, mins[:])
	}
	if len(text) >= openingWords {
		dst = appendSketchKey(dst, 'O', 0, uint32(hashWords(text[:openingWords])))
	}
	return dst
}

// appendSketchKey appends one sketch key to dst.
func appendSketchKey(dst []byte, kind byte, band int, v uint32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, kind, byte(band)), v)
}

// appendBandKeys turns MinHash values into LSH band keys of the given
// kind, appended to dst: one per rows consecutive values, the 32-bit
// FNV-1a hash of those values (big-endian).
func appendBandKeys(dst []byte, kind byte, rows int, mins []uint64) []byte {
	for i := 0; i+rows <= len(mins); i += rows {
		h := uint32(fnvOffset32)
		for _, m := range mins[i : i+rows] {
			for shift := 56; shift >= 0; shift -= 8 {
				h = (h ^ uint32(byte(m>>shift))) * fnvPrime32
			}
		}
		dst = appendSketchKey(dst, kind, i/rows, h)
	}
	return dst
}

// minHash fills out with MinHash values of the hashes hs (repeats and
// order do not matter), one per seeded permutation (the splitmix64
// finalizer of hash plus seed).
func minHash(hs []uint64, out []uint64) {
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
}
