package story

import (
	"encoding/binary"
	"hash/fnv"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The reference definitions of the story fingerprint: the plain, slow
// form of htmlText, words and sketchKeys. The fast ones must give exactly
// their results, or stores written before would no longer find their
// stories through the sketch index.

func refHTMLText(s string) string {
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

func refWords(s string) []string {
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

func refHashWords(ws []string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strings.Join(ws, " ")))
	return h.Sum64()
}

func refShingles(ws []string) map[uint64]struct{} {
	out := make(map[uint64]struct{})
	if len(ws) == 0 {
		return out
	}
	for i := range max(len(ws)-shingleWords+1, 1) {
		out[refHashWords(ws[i:min(i+shingleWords, len(ws))])] = struct{}{}
	}
	return out
}

func refMinHash(set map[uint64]struct{}, n int) []uint64 {
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

func refBandKeys(kind byte, rows int, mins []uint64) [][]byte {
	var keys [][]byte
	for i := 0; i+rows <= len(mins); i += rows {
		h := fnv.New32a()
		for _, m := range mins[i : i+rows] {
			h.Write(binary.BigEndian.AppendUint64(nil, m))
		}
		keys = append(keys, appendSketchKey(nil, kind, i/rows, h.Sum32()))
	}
	return keys
}

func refSketchKeys(s Story) [][]byte {
	var keys [][]byte
	titleWords, textWords := strings.Fields(s.Title), strings.Fields(s.Text)
	if len(titleWords) > 0 {
		set := make(map[uint64]struct{})
		for _, w := range titleWords {
			set[refHashWords([]string{w})] = struct{}{}
		}
		keys = append(keys, refBandKeys('T', titleRows, refMinHash(set, titleBands*titleRows))...)
	}
	lead := textWords[:min(len(textWords), leadWords)]
	if len(lead) >= shingleWords+DupMinShingles-1 {
		keys = append(keys, refBandKeys('L', leadRows, refMinHash(refShingles(lead), leadBands*leadRows))...)
	}
	if len(textWords) >= openingWords {
		keys = append(keys, appendSketchKey(nil, 'O', 0, uint32(refHashWords(textWords[:openingWords]))))
	}
	return keys
}

// checkFingerprint compares the fast fingerprint of one title and HTML
// text with the reference.
func checkFingerprint(t *testing.T, title, body string) {
	t.Helper()
	text := htmlText(body)
	if want := refHTMLText(body); strings.Join(refWords(text), " ") != strings.Join(refWords(want), " ") {
		t.Fatalf("htmlText(%q) = %q, want the words of %q", body, text, want)
	}
	s := Story{Title: wordText(title), Text: wordText(text)}
	if want := strings.Join(refWords(title), " "); s.Title != want {
		t.Fatalf("wordText(%q) = %q, want %q", title, s.Title, want)
	}
	if want := strings.Join(refWords(text), " "); s.Text != want {
		t.Fatalf("wordText(%q) = %q, want %q", text, s.Text, want)
	}
	got, want := sketchKeys(s), refSketchKeys(s)
	if !slices.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("sketchKeys of %q / %q = %x, want %x", title, body, got, want)
	}
	sig := NewRecord(time.Date(2025, 8, 17, 0, 0, 0, 0, time.UTC), "", s.Signature())
	distinct := map[uint32]bool{}
	for h := range refShingles(strings.Fields(s.Text)) {
		distinct[uint32(h)] = true
	}
	if !sig.Valid() || len(sig.shingleHashes())/hashLen != len(distinct) {
		t.Fatalf("signature of %q holds %d shingles, want %d", body, len(sig.shingleHashes())/hashLen, len(distinct))
	}
}

func TestFingerprintMatchesReference(t *testing.T) {
	for _, st := range loadLabelStories(t) {
		checkFingerprint(t, st.title, labelArticle(st, nil).Content)
		for _, e := range edits() {
			a := labelArticle(st, &e)
			checkFingerprint(t, a.Title, a.Content+a.Summary)
		}
	}
	for _, tt := range []struct{ title, body string }{
		{"", ""},
		{"Trump's  ‘talks’ — O’Neil", "<p>Ünïcödé ÉCOLE straße İstanbul ǅemal</p>"},
		{"a\xffb", "<p>bad \xff\xfe utf-8 &amp; &#x2019; &bogus; <b>x</b>y</p>"},
		{"one", "two words"},
		{"Ⅻ ⅷ ２０２６", strings.Repeat("<i>w</i> ", 60)},
	} {
		checkFingerprint(t, tt.title, tt.body)
	}
}

func FuzzFingerprint(f *testing.F) {
	f.Add("Trump's talks", "<p>Leaders meet &amp; talk</p>")
	f.Add("a\xffb", "x\xfe<y>z")
	f.Fuzz(func(t *testing.T, title, body string) {
		checkFingerprint(t, title, body)
	})
}

// refTitleSuffix is the reference definition of a publisher suffix.
var refTitleSuffix = regexp.MustCompile(`\s+[|\-–—:]\s+(\S+\s*){1,4}$`)

// checkTitleSuffix compares titleSuffixAt with the reference regexp.
func checkTitleSuffix(t *testing.T, title string) {
	t.Helper()
	want := -1
	if loc := refTitleSuffix.FindStringIndex(title); loc != nil {
		want = loc[0]
	}
	if got := titleSuffixAt(title); got != want {
		t.Fatalf("titleSuffixAt(%q) = %d, want %d", title, got, want)
	}
}

func TestTitleSuffixMatchesReference(t *testing.T) {
	for _, st := range loadLabelStories(t) {
		for _, e := range edits() {
			checkTitleSuffix(t, labelArticle(st, &e).Title)
		}
	}
	for _, title := range []string{
		"", " - ", "a - b", "a  -  b c d e", "a - b c d e f", "a | b - c", "a -b", "a- b", "a -\tb\f",
		"a : b | c d e f g", "a – b—c", "a —\u00a0b", "a \xff- b", "x - y - z w v u t", "a - b  ",
		"Trump, Putin meet: what to know | Today News", "a\r|\nb", "a - \xe2\x80",
	} {
		checkTitleSuffix(t, title)
	}
}

func FuzzTitleSuffix(f *testing.F) {
	f.Add("Leaders meet in Alaska | Today News")
	f.Add("a - b c d e f")
	f.Fuzz(checkTitleSuffix)
}

// sketchKeys returns the sketch keys of s, as its signature holds them.
func sketchKeys(s Story) [][]byte {
	return NewRecord(time.Time{}, "", s.Signature()).Keys()
}

// refOf is the reference definition of Of: every text goes through
// StripBoilerplate.
func refOf(title, content, summary string) Story {
	body := content
	if body == "" {
		body = summary
	}
	return Story{Title: wordText(StripTitleSuffix(title)), Text: wordText(StripBoilerplate(htmlText(body)))}
}

// checkOf compares Of with the reference.
func checkOf(t *testing.T, title, body string) {
	t.Helper()
	if got, want := Of(title, body, ""), refOf(title, body, ""); got != want {
		t.Fatalf("Of(%q, %q) = %q, want %q", title, body, got, want)
	}
}

func TestOfMatchesReference(t *testing.T) {
	for _, st := range loadLabelStories(t) {
		for _, e := range edits() {
			a := labelArticle(st, &e)
			checkOf(t, a.Title, a.Content+a.Summary)
		}
	}
	for _, r := range boilerplate {
		for _, trigger := range r.triggers {
			for _, body := range []string{trigger, strings.ToUpper(trigger), "x" + trigger + "y", "<p>" + trigger + " 2025 Agency.</p>"} {
				checkOf(t, "", body)
			}
		}
	}
	for _, body := range []string{
		"With assistance from Tony Czuczka.", "WITH ASSISTANCE FROM x.", "(Reporting by Jane Doe; Editing by X)",
		"©2025 Bloomberg L.P.", "(C) 2024 AP. Rest", "Copyright 2025 Reuters. Rest", "Read more: Markets Wrap.",
		"bread more.", "Also read: x.", "alſo read: x.", "Catch all the news here.", "Subscribe to our list.",
		"This article first appeared on Example.", "The post X appeared first on Y.", "SUBſCRIBE TO x.",
		"reporting\u00a0by x)", "reporting&nbsp;by x)", "writing by x)", "ediTing BY x)", "wire\tagency feed.",
		"This story was published from a wire agency feed without modifications. Only the headline has been changed.",
	} {
		checkOf(t, "", body)
	}
}

func FuzzOf(f *testing.F) {
	f.Add("Leaders meet | Today News", "<p>With assistance from Tony.</p>")
	f.Add("t", "bread more. Also read: x. (c) 2024 x.")
	f.Fuzz(checkOf)
}

func TestWordsMatchReference(t *testing.T) {
	for _, s := range []string{
		"", "\x00", "a\x00b", "'", "''a", "a''", "a ' b", "’x’", "Trump's O’Neil", "ÉCOLE straße", "a\xffb",
		"\uFFFD", "x\u2019 y", "İstanbul Kelvin\u212a", "Ⅻ ⅷ ２０２６", "ǅemal", "abc DEF g1 2h", "a-b_c.d",
	} {
		if got, want := wordText(s), strings.Join(refWords(s), " "); got != want {
			t.Errorf("wordText(%q) = %q, want %q", s, got, want)
		}
	}
}
