package fetcher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// errEmptyBody is the parse error of a 200 answer without content.
var errEmptyBody = errors.New("empty response body")

// parseBody parses a whole response body with the shared parser p.
// contentType is the response's Content-Type header; its charset is applied
// when the XML prolog declares no encoding of its own. A body with invalid
// UTF-8 is parsed again with the bad bytes replaced by U+FFFD. An HTML page
// gives an error wrapping ErrNotFeed that lists the feeds the page
// advertises, resolved against base (the final URL). A feed nested deeper
// than MaxNesting is not parsed: the error wraps ErrTooDeep.
func parseBody(p *gofeed.Parser, body []byte, contentType string, base *url.URL) (*gofeed.Feed, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmptyBody
	}
	body = decodeCharset(body, contentType)
	// gofeed detects the type from the first 4 KB the same way, and parses
	// nothing of a document it cannot place (an HTML page, say).
	typ := gofeed.DetectFeedType(bytes.NewReader(body[:min(len(body), detectSize)]))
	if err := checkNesting(body, typ); err != nil {
		return nil, err
	}
	r := bytes.NewReader(body)
	feed, err := safeParse(p, r)
	if err != nil && strings.Contains(err.Error(), "invalid UTF-8") {
		r.Reset(body)
		feed, err = safeParse(p, transform.NewReader(r, unicode.UTF8.NewDecoder()))
	}
	switch {
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected) && looksLikeHTML(body):
		links := feedLinks(body, base)
		if len(links) == 0 {
			return nil, fmt.Errorf("%w (HTML page with no feed links)", ErrNotFeed)
		}
		return nil, fmt.Errorf("%w: the page advertises feeds: %s", ErrNotFeed, strings.Join(links, ", "))
	case err != nil:
		return nil, err
	}
	return feed, nil
}

// safeParse is p.Parse with a panic turned into an error: gofeed v1.4.2
// panics on some malformed JSON Feeds (`"items":[null]`, gofeed issue 355),
// and a hostile document must cost one source a parse error, not a pass.
func safeParse(p *gofeed.Parser, r io.Reader) (feed *gofeed.Feed, err error) {
	defer func() {
		if v := recover(); v != nil {
			feed, err = nil, fmt.Errorf("feed parser panicked: %v", v)
		}
	}()
	return p.Parse(r)
}

// detectSize is how much of a body gofeed reads to detect its type.
const detectSize = 4096

// decodeCharset returns body decoded to UTF-8 from the charset of
// contentType when that charset is not UTF-8 and the XML prolog of body
// names no encoding (gofeed honours only the prolog), so that the nesting
// check and the parser read the same text. An unknown charset label or a
// body that does not decode leaves body as it is.
func decodeCharset(body []byte, contentType string) []byte {
	cs := contentCharset(contentType)
	if cs == "" || isUTF8Label(cs) || prologEncoding(body) {
		return body
	}
	dec, err := charset.NewReaderLabel(cs, bytes.NewReader(body))
	if err != nil {
		return body
	}
	decoded, err := io.ReadAll(dec)
	if err != nil {
		return body
	}
	return decoded
}

// contentCharset returns the charset parameter of a Content-Type value, or "".
func contentCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}

func isUTF8Label(label string) bool {
	return strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8")
}

// prologEncoding reports whether body starts with an XML declaration that
// has an encoding pseudo-attribute.
func prologEncoding(body []byte) bool {
	b := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return false
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return false
	}
	return bytes.Contains(b[:end], []byte("encoding"))
}

// looksLikeHTML reports whether the start of body is an HTML document.
func looksLikeHTML(body []byte) bool {
	head := bytes.ToLower(body[:min(len(body), 1024)])
	for _, marker := range []string{"<!doctype html", "<html", "<head", "<body", "<meta", "<title"} {
		if bytes.Contains(head, []byte(marker)) {
			return true
		}
	}
	return false
}

// isFeedType reports whether a link's media type advertises a feed.
func isFeedType(mediaType string) bool {
	switch mediaType {
	case "application/rss+xml", "application/atom+xml", "application/feed+json":
		return true
	}
	return false
}

// feedLinks returns the hrefs of the <link rel="alternate"> elements of an
// HTML page whose type is a feed type, resolved against base (or the page's
// <base href>), without duplicates, in document order.
func feedLinks(page []byte, base *url.URL) []string {
	var links []string
	seen := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return links
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		tag := atom.Lookup(name)
		if (tag != atom.Link && tag != atom.Base) || !hasAttr {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			attrs[string(k)] = string(v)
			if !more {
				break
			}
		}
		href := strings.TrimSpace(attrs["href"])
		if href == "" {
			continue
		}
		if tag == atom.Base {
			if u, err := resolve(base, href); err == nil {
				base = u
			}
			continue
		}
		typ, _, _ := mime.ParseMediaType(attrs["type"])
		if !hasToken(attrs["rel"], "alternate") || !isFeedType(typ) {
			continue
		}
		u, err := resolve(base, href)
		if err != nil {
			continue
		}
		if s := u.String(); !seen[s] {
			seen[s] = true
			links = append(links, s)
		}
	}
}

// resolve resolves ref against base; a nil base leaves ref as parsed.
func resolve(base *url.URL, ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil || base == nil {
		return u, err
	}
	return base.ResolveReference(u), nil
}

// hasToken reports whether the space-separated list has tok, ignoring case.
func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
