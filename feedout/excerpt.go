package feedout

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// excerpt returns the text of the HTML fragment s, whitespace collapsed,
// cut at a word boundary to at most n runes (an ellipsis marks a cut).
func excerpt(s string, n int) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return cut(strings.Join(strings.Fields(b.String()), " "), n)
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			b.WriteByte(' ') // <p>a</p><p>b</p> is "a b"
		}
		if b.Len() > 8*n {
			return cut(strings.Join(strings.Fields(b.String()), " "), n)
		}
	}
}

// cut shortens s to at most n runes at a space, adding "…" when it cuts.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)[:n]
	t := string(runes)
	if i := strings.LastIndexByte(t, ' '); i > n/2 {
		t = t[:i]
	}
	return strings.TrimRight(t, " ,;:.") + "…"
}
