package story

import (
	"encoding/binary"
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"
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
// sees it: boilerplate stripped, lower case, words only, each separated
// from the next by one space (see wordText).
type Story struct {
	// Title is the words of the title without a publisher suffix.
	Title string
	// Text is the words of the text (content, else summary) without
	// wire-agency boilerplate.
	Text string
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
	ws := wordText(text)
	if mayHoldBoilerplate(text, ws) {
		ws = wordText(StripBoilerplate(text))
	}
	return Story{Title: wordText(StripTitleSuffix(title)), Text: ws}
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
// holds a trigger meets: its word text holds one of inWords, or the text
// itself one of inText (see mayHoldBoilerplate).
type boilerplateRule struct {
	triggers []string
	inWords  []string
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
	{[]string{"assistance"}, []string{"assistance"}, nil,
		regexp.MustCompile(`(?i)with assistance from [^.]*\.`)},
	{[]string{"wire agency"}, []string{"wire agency"}, nil,
		regexp.MustCompile(`(?i)this story (?:was|has been) published from a wire agency feed[^.]*\.(?:\s*only the headline has been changed\.)?`)},
	{[]string{"g by "}, []string{"g by"}, nil,
		regexp.MustCompile(`(?i)\(?(?:reporting|writing|editing|additional reporting) by [^)]*\)`)},
	{[]string{"©"}, nil, []string{"©"},
		regexp.MustCompile(`©\s*\d{4}(?:[^.]|\.[A-Z])*\.?`)},
	{[]string{"(c)"}, nil, []string{"(c)", "(C)"},
		regexp.MustCompile(`(?i)\(c\)\s*\d{4}[^.]*\.`)},
	{[]string{"copyright"}, []string{"copyright"}, nil,
		regexp.MustCompile(`(?i)copyright \d{4}[^.]*\.`)},
	{[]string{"read more", "o read"}, []string{"read more", "o read"}, nil,
		regexp.MustCompile(`(?i)(?:read more|also read)(?::[^.]*)?\.`)},
	{[]string{"catch all the"}, []string{"catch all the"}, nil,
		regexp.MustCompile(`(?i)catch all the [^.]*\.`)},
	{[]string{"subscribe to"}, []string{"subscribe to"}, nil,
		regexp.MustCompile(`(?i)subscribe to [^.]*\.`)},
	{[]string{"appeared"}, []string{"appeared"}, nil,
		regexp.MustCompile(`(?i)(?:this article|the post) [^.]* (?:first appeared|originally appeared|appeared first) on [^.]*\.`)},
}

// wordTrigger is an inWords of a boilerplate rule and its first four
// bytes, big-endian.
type wordTrigger struct {
	first4 uint32
	words  string
}

// wordTriggerBits is log2 of the number of slots of wordTriggers.
const wordTriggerBits = 7

// wordTriggerSlot is the slot of wordTriggers of four bytes, big-endian.
func wordTriggerSlot(first4 uint32) uint32 { return first4 * 0x85ebca6b >> (32 - wordTriggerBits) }

// wordTriggers are the inWords of the boilerplate rules, each in the slot
// of its first four bytes, so that mayHoldBoilerplate finds them all in one
// pass. Like boilerplate it is a compiled constant; every inWords is at
// least four bytes long.
var wordTriggers = func() (t [1 << wordTriggerBits][]wordTrigger) {
	for _, r := range boilerplate {
		for _, w := range r.inWords {
			first4 := binary.BigEndian.Uint32([]byte(w))
			t[wordTriggerSlot(first4)] = append(t[wordTriggerSlot(first4)], wordTrigger{first4, w})
		}
	}
	return t
}()

// mayHoldBoilerplate reports whether StripBoilerplate may change text,
// whose word text is ws: false when no rule's trigger can be in it. A
// trigger is lower-case letters and single spaces, or held by one of the
// rule's inText, and a text's lower case and its word text case-fold
// alike, with one space where the text has a run of separators: when the
// lower-cased text holds a trigger, the word text holds the trigger's
// words, which is what inWords are. It reads ws once, looking each run of
// four bytes up in wordTriggers.
func mayHoldBoilerplate(text, ws string) bool {
	var last4 uint32
	for i := 0; i < len(ws); i++ {
		last4 = last4<<8 | uint32(ws[i])
		for _, t := range wordTriggers[wordTriggerSlot(last4)] {
			if t.first4 == last4 && i >= 3 && strings.HasPrefix(ws[i-3:], t.words) {
				return true
			}
		}
	}
	return slices.ContainsFunc(boilerplate, func(r boilerplateRule) bool {
		return slices.ContainsFunc(r.inText, func(t string) bool { return strings.Contains(text, t) })
	})
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

// Classes of a byte for wordText.
const (
	sepByte        = iota // an ASCII separator
	plainByte             // a lower-case ASCII letter or a digit: its own word byte
	upperByte             // an upper-case ASCII letter
	apostropheByte        // an ASCII apostrophe, dropped
	multiByte             // part of a multi-byte UTF-8 sequence
)

// byteClass is the class of every byte. Like the regexps it is a compiled
// constant.
var byteClass = func() (t [256]byte) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			t[c] = plainByte
		case 'A' <= c && c <= 'Z':
			t[c] = upperByte
		case c == '\'':
			t[c] = apostropheByte
		case c >= utf8.RuneSelf:
			t[c] = multiByte
		}
	}
	return t
}()

// wordText returns the lower-case words of letters and digits of s, each
// separated from the next by one space; apostrophes inside words are
// dropped ("Trump's" → "trumps"). It reads s once, copying the runs that
// are already word text as they are.
func wordText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	gap := false // a separator since the last byte written
	for i := 0; i < len(s); {
		switch byteClass[s[i]] {
		case plainByte:
			j := plainRunEnd(s, i+1)
			gap = writeGap(&b, gap)
			b.WriteString(s[i:j])
			i = j
			continue
		case upperByte:
			gap = writeGap(&b, gap)
			b.WriteByte(s[i] + 'a' - 'A')
		case apostropheByte:
		case multiByte:
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if r == '’' {
				continue
			}
			if r = unicode.ToLower(r); unicode.IsLetter(r) || unicode.IsDigit(r) {
				gap = writeGap(&b, gap)
				b.WriteRune(r)
			} else {
				gap = true
			}
			continue
		default:
			gap = true
		}
		i++
	}
	return b.String()
}

// plainRunEnd returns the end of the run of s from i on that is already
// word text: lower-case ASCII letters and digits, and single spaces
// between them. Its test of a byte has no branch of its own, so that the
// end of each word costs no mispredicted one.
func plainRunEnd(s string, i int) int {
	for ; i+1 < len(s); i++ {
		c := s[i]
		if isPlain[c]|isSpace[c]&isPlain[s[i+1]] == 0 {
			return i
		}
	}
	if i < len(s) && isPlain[s[i]] == 1 {
		i++
	}
	return i
}

// isPlain is 1 for a plainByte, 0 for any other; isSpace is 1 for an ASCII
// space only. Like byteClass they are compiled constants.
var isPlain, isSpace = func() (plain, space [256]byte) {
	for c := range plain {
		if byteClass[c] == plainByte {
			plain[c] = 1
		}
	}
	space[' '] = 1
	return plain, space
}()

// writeGap writes the space between two words to b when a separator came
// since the last word byte and b holds one; it returns false, the gap of
// the word byte its caller writes next.
func writeGap(b *strings.Builder, gap bool) bool {
	if gap && b.Len() > 0 {
		b.WriteByte(' ')
	}
	return false
}

// FNV-1a, 64 and 32 bits.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// fnv64 is the 64-bit FNV-1a hash of s.
func fnv64(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime64
	}
	return h
}

// textHashes are the hashes a text signature is made of. Signature takes
// one from hashPool and puts it back, so that its buffers are reused; a
// textHashes is used by one goroutine at a time.
type textHashes struct {
	title      []uint64 // the hashes of the title words, in order
	title32    []uint32 // the low 32 bits of title, then the sorted set of them
	lead       []uint64 // the hashes of the lead's shingles, in text order
	text32     []uint32 // the low 32 bits of every shingle hash, then the sorted set of them
	tmp        []uint32 // sortUint32's second buffer
	opening    uint64   // the hash of the opening words, when hasOpening
	hasOpening bool     // whether the text has openingWords words
}

// maxPooledHashes is the most title or shingle hashes whose buffers a
// textHashes keeps in hashPool: one huge text must not pin its buffers for
// good.
const maxPooledHashes = 1 << 16

// hashPool holds textHashes for Signature.
var hashPool = sync.Pool{New: func() any { return new(textHashes) }}

// release puts h back into hashPool, unless its buffers grew too large.
func (h *textHashes) release() {
	if max(cap(h.title), cap(h.text32)) <= maxPooledHashes {
		hashPool.Put(h)
	}
}

// hashTitle sets h's title hashes from the word text title: the 64-bit
// FNV-1a hash of each word.
func (h *textHashes) hashTitle(title string) {
	h.title = h.title[:0]
	if title == "" {
		return
	}
	x := uint64(fnvOffset64)
	for i := 0; i < len(title); i++ {
		if c := title[i]; c != ' ' {
			x = (x ^ uint64(c)) * fnvPrime64
			continue
		}
		h.title = append(h.title, x)
		x = fnvOffset64
	}
	h.title = append(h.title, x)
}

// hashText sets h's text hashes from the word text text. Shingle i starts
// at word i, and its hash is the 64-bit FNV-1a hash of its shingleWords
// words with their spaces, a substring of text; fewer words than a
// shingle give one shingle of them all, no words none. The three shingles
// a word belongs to are hashed side by side, so each byte of the text is
// read once and the three independent multiplications overlap. The lead's
// shingles are those of its first leadWords words.
func (h *textHashes) hashText(text string) {
	h.lead, h.text32, h.hasOpening = h.lead[:0], h.text32[:0], false
	if text == "" {
		return
	}
	// first and second are the hashes of the shingles that started two
	// words and one word before the current one, third the current word's.
	var first, second uint64
	third := uint64(fnvOffset64)
	words := 0
	for i := 0; i <= len(text); i++ {
		if i < len(text) && text[i] != ' ' {
			c := uint64(text[i])
			first = (first ^ c) * fnvPrime64
			second = (second ^ c) * fnvPrime64
			third = (third ^ c) * fnvPrime64
			continue
		}
		words++
		if words >= shingleWords {
			if words <= leadWords {
				h.lead = append(h.lead, first)
			}
			h.text32 = append(h.text32, uint32(first))
		}
		if words == openingWords {
			h.opening, h.hasOpening = fnv64(text[:i]), true
		}
		first = (second ^ ' ') * fnvPrime64
		second = (third ^ ' ') * fnvPrime64
		third = fnvOffset64
	}
	if words < shingleWords {
		h.text32 = append(h.text32, uint32(fnv64(text)))
	}
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

// appendSketchKeys appends the index keys of a story's sketch, whose
// hashes are h, to dst, each SketchKeyLen bytes: a kind byte ('T'
// title-words MinHash band, 'L' lead-shingles MinHash band, 'O' the
// opening words of the text, which a summary shares with the full text
// whatever the headline), the band number and a 4-byte band value.
// Stories that are copies share at least one key with high probability;
// SameStory then decides.
func appendSketchKeys(dst []byte, h *textHashes) []byte {
	if len(h.title) > 0 {
		var mins [titleBands * titleRows]uint64
		minHash(h.title, mins[:])
		dst = appendBandKeys(dst, 'T', titleRows, mins[:])
	}
	// A lead of fewer than DupMinShingles shingles has no lead keys.
	if len(h.lead) >= DupMinShingles {
		var mins [leadBands * leadRows]uint64
		minHash(h.lead, mins[:])
		dst = appendBandKeys(dst, 'L', leadRows, mins[:])
	}
	if h.hasOpening {
		dst = appendSketchKey(dst, 'O', 0, uint32(h.opening))
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
