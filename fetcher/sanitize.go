package fetcher

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// newPolicy returns the bluemonday policy applied to item HTML: the UGC
// policy (no script, style, iframe, object, embed or form; no on* or style
// attributes) plus pictures, audio and video, with only absolute http(s) and
// mailto URLs, rel="nofollow noopener" and target="_blank" on links.
// A Policy is safe for concurrent use once built.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)

	p.AllowAttrs("srcset").Matching(srcsetPattern).OnElements("img", "source")
	p.AllowAttrs("sizes").Matching(bluemonday.Paragraph).OnElements("img", "source")
	p.AllowAttrs("loading").Matching(regexp.MustCompile(`^(lazy|eager)$`)).OnElements("img")
	p.AllowElements("picture")
	p.AllowAttrs("src").Matching(httpURLPattern).OnElements("audio", "video", "source")
	p.AllowAttrs("poster").Matching(httpURLPattern).OnElements("video")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^[\w.+-]+/[\w.+-]+$`)).OnElements("source")
	p.AllowAttrs("media").Matching(bluemonday.Paragraph).OnElements("source")
	p.AllowAttrs("controls", "loop", "muted").Matching(regexp.MustCompile(`^$|^(controls|loop|muted)$`)).OnElements("audio", "video")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("video")
	return p
}

// Compiled-once patterns the policy checks attribute values against, after
// absolutizeHTML has already resolved and filtered them.
var (
	httpURLPattern    = regexp.MustCompile(`(?i)^https?://\S+$`)
	srcsetPattern     = regexp.MustCompile(`(?i)^https?://\S+(\s+[0-9.]+[wxh])?(,\s+https?://\S+(\s+[0-9.]+[wxh])?)*$`)
	descriptorPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[wxh]$`)
)

// sanitizeHTML returns fragment as safe HTML: its URLs resolved against base
// (see absolutizeHTML), then everything the policy forbids removed. Plain
// text without tags comes out HTML-escaped, so it still reads as text. An
// HTML entity in fragment is decoded exactly once, as a browser would.
func sanitizeHTML(p *bluemonday.Policy, fragment string, base *url.URL) string {
	if fragment == "" {
		return ""
	}
	return strings.TrimSpace(p.Sanitize(absolutizeHTML(fragment, base)))
}

// urlSchemes lists, per URL-valued attribute, the schemes it may keep.
// Attributes not listed here are left for the policy to judge.
var urlSchemes = map[string][]string{
	"href":   {"http", "https", "mailto"},
	"src":    {"http", "https"},
	"poster": {"http", "https"},
	"cite":   {"http", "https"},
}

// absolutizeHTML rewrites the URL attributes of fragment (href, src, poster,
// cite, and each candidate of srcset) as absolute URLs resolved against base,
// and drops those that do not resolve to an allowed scheme. Bytes outside the
// rewritten tags are copied unchanged. A nil base leaves relative URLs
// unresolved, and so dropped.
func absolutizeHTML(fragment string, base *url.URL) string {
	if !strings.Contains(fragment, "<") {
		return fragment
	}
	z := html.NewTokenizer(strings.NewReader(fragment))
	var b strings.Builder
	b.Grow(len(fragment))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			if !hasURLAttr(raw) {
				b.Write(raw)
				continue
			}
			tok := z.Token()
			attrs := tok.Attr[:0]
			for _, a := range tok.Attr {
				ok := true
				if schemes, isURL := urlSchemes[a.Key]; isURL {
					a.Val, ok = resolveURL(a.Val, base, schemes...)
				} else if a.Key == "srcset" {
					a.Val = resolveSrcset(a.Val, base)
					ok = a.Val != ""
				}
				if ok {
					attrs = append(attrs, a)
				}
			}
			tok.Attr = attrs
			b.WriteString(tok.String())
		default:
			b.Write(z.Raw())
		}
	}
}

// hasURLAttr reports whether a raw tag may carry an attribute that
// absolutizeHTML rewrites, to skip re-serialising the others.
func hasURLAttr(rawTag []byte) bool {
	s := strings.ToLower(string(rawTag))
	for _, name := range [...]string{"href", "src", "poster", "cite"} {
		if strings.Contains(s, name) {
			return true
		}
	}
	return false
}

// resolveURL resolves raw against base and reports whether the result is an
// absolute URL with one of schemes (and, for http(s), a host). A nil base
// resolves nothing.
func resolveURL(raw string, base *url.URL, schemes ...string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	scheme := strings.ToLower(u.Scheme)
	allowed := false
	for _, s := range schemes {
		allowed = allowed || s == scheme
	}
	if !allowed || (scheme != "mailto" && u.Host == "") {
		return "", false
	}
	return u.String(), true
}

// resolveSrcset resolves each candidate URL of a srcset attribute against
// base, keeps the http(s) ones with a valid descriptor (or none), and joins
// them as "URL descriptor, URL descriptor". It returns "" when none is left.
func resolveSrcset(v string, base *url.URL) string {
	var out []string
	for s := v; ; {
		s = strings.TrimLeft(s, " \t\n\f\r,")
		if s == "" {
			break
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		rawURL, descriptor := s[:end], ""
		s = s[end:]
		if trimmed := strings.TrimRight(rawURL, ","); trimmed != rawURL {
			rawURL = trimmed // "a.png,b.png 2x": the comma ends the candidate
		} else if comma := strings.IndexByte(s, ','); comma >= 0 {
			descriptor, s = strings.TrimSpace(s[:comma]), s[comma+1:]
		} else {
			descriptor, s = strings.TrimSpace(s), ""
		}
		u, ok := resolveURL(rawURL, base, "http", "https")
		if !ok || (descriptor != "" && !descriptorPattern.MatchString(descriptor)) {
			continue
		}
		if descriptor != "" {
			u += " " + descriptor
		}
		out = append(out, u)
	}
	return strings.Join(out, ", ")
}

// inlineTags are the elements that do not separate words in plainText.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true,
	"code": true, "data": true, "del": true, "dfn": true, "em": true, "font": true,
	"i": true, "ins": true, "kbd": true, "mark": true, "q": true, "s": true,
	"samp": true, "small": true, "span": true, "strike": true, "strong": true,
	"sub": true, "sup": true, "time": true, "tt": true, "u": true, "var": true, "wbr": true,
}

// plainText returns the text a reader sees in an HTML fragment: tags
// stripped (block-level ones separate words), script and style contents
// dropped, entities decoded once, whitespace collapsed.
func plainText(fragment string) string {
	if !strings.ContainsAny(fragment, "<&") {
		return collapseSpace(fragment)
	}
	var b strings.Builder
	walkText(fragment, func(text []byte) { b.Write(text) }, func(bool) { b.WriteByte(' ') })
	return collapseSpace(b.String())
}

// walkText tokenizes the HTML fragment and hands its visible text (outside
// script and style) to text, in order, and each tag that separates words
// (any but inlineTags) to brk, with line true for the block elements that
// end a line (lineTags).
func walkText(fragment string, text func([]byte), brk func(line bool)) {
	z := html.NewTokenizer(strings.NewReader(fragment))
	hidden := 0 // depth inside script or style
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if hidden == 0 {
				text(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			switch tag := string(name); {
			case tag == "script" || tag == "style":
				if tt == html.StartTagToken {
					hidden++
				} else if tt == html.EndTagToken && hidden > 0 {
					hidden--
				}
			case !inlineTags[tag]:
				brk(lineTags[tag])
			}
		}
	}
}

// lineTags are the elements that end a line of text in textLines.
var lineTags = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "br": true,
	"dd": true, "div": true, "dl": true, "dt": true, "figcaption": true, "figure": true,
	"footer": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"header": true, "hr": true, "li": true, "main": true, "nav": true, "ol": true, "p": true,
	"pre": true, "section": true, "table": true, "td": true, "th": true, "tr": true, "ul": true,
}

// textLines returns the text of an HTML fragment as plainText does (the
// same words), one line per block of text: each block element (lineTags)
// ends a line. Empty lines are dropped.
func textLines(fragment string) []string {
	var lines []string
	var b strings.Builder
	flush := func() {
		if line := collapseSpace(b.String()); line != "" {
			lines = append(lines, line)
		}
		b.Reset()
	}
	walkText(fragment, func(text []byte) { b.Write(text) }, func(line bool) {
		if line {
			flush()
		} else {
			b.WriteByte(' ') // separates words, as in plainText
		}
	})
	flush()
	return lines
}

// collapseSpace returns s as valid UTF-8 with control characters removed,
// runs of white space replaced by one space, and no leading or trailing space.
func collapseSpace(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// excerpt returns text cut to about n runes at a word boundary, with an
// ellipsis when it was cut.
func excerpt(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	cut := 0
	for i := range text {
		if n == 0 {
			cut = i
			break
		}
		n--
	}
	if space := strings.LastIndexByte(text[:cut], ' '); space > cut/2 {
		cut = space
	}
	return strings.TrimSpace(text[:cut]) + "…"
}
