package fulltext

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// ErrNoText is returned when a page holds no text to keep: readability
// found no article of at least 25 words, or the selector matched nothing
// with text.
var ErrNoText = errors.New("no article text in the page")

// maxElements bounds the elements readability scores in one page, so that a
// hostile page of millions of tags costs a bounded time; a page over it is
// an error from readability, and the feed's text is kept.
const maxElements = 100_000

// minWords is the fewest words readability must keep: it returns its best
// guess even for a page with no article (a landing page, a script-built
// application), which is then a few navigation links.
const minWords = 25

// Extract returns the article HTML of page, fetched from pageURL with the
// Content-Type contentType (its charset, else the page's meta charset,
// decides the decoding; the default is UTF-8). With an empty selector
// readability finds the article; otherwise the elements selector matches
// are kept, in page order. Relative URLs stay as the page wrote them,
// except that readability resolves them against pageURL: the caller
// resolves and sanitises the result like any item content. selector must
// be valid (config checks it); an invalid one is an error.
func Extract(page []byte, contentType string, pageURL *url.URL, selector string) (string, error) {
	r, err := charset.NewReader(bytes.NewReader(page), contentType)
	if err != nil {
		return "", fmt.Errorf("decode page %s: %w", pageURL.Redacted(), err)
	}
	doc, err := html.Parse(r)
	if err != nil {
		return "", fmt.Errorf("parse page %s: %w", pageURL.Redacted(), err)
	}
	if selector != "" {
		return selected(doc, selector)
	}
	return readable(doc, pageURL)
}

// readable returns the article readability finds in doc.
func readable(doc *html.Node, pageURL *url.URL) (string, error) {
	p := readability.NewParser()
	p.MaxElemsToParse = maxElements
	p.DisableJSONLD = true
	art, err := p.ParseAndMutate(doc, pageURL)
	if err != nil {
		return "", fmt.Errorf("readability: %w", err)
	}
	if art.Node == nil {
		return "", ErrNoText
	}
	var b strings.Builder
	if err := art.RenderHTML(&b); err != nil {
		return "", fmt.Errorf("render article: %w", err)
	}
	if len(strings.Fields(goquery.NewDocumentFromNode(art.Node).Text())) < minWords {
		return "", ErrNoText
	}
	return b.String(), nil
}

// selected returns the outer HTML of the elements of doc that selector
// matches, outermost only (an element inside a kept one is kept once), in
// page order, one per line.
func selected(doc *html.Node, selector string) (string, error) {
	m, err := cascadia.Compile(selector)
	if err != nil {
		return "", fmt.Errorf("selector %q: %w", selector, err)
	}
	found := goquery.NewDocumentFromNode(doc).FindMatcher(m)
	var b strings.Builder
	for _, n := range found.Nodes {
		if hasMatchingAncestor(n, m) {
			continue
		}
		if err := html.Render(&b, n); err != nil {
			return "", fmt.Errorf("render %q: %w", selector, err)
		}
		b.WriteByte('\n')
	}
	if strings.TrimSpace(found.Text()) == "" {
		return "", ErrNoText
	}
	return b.String(), nil
}

// hasMatchingAncestor reports whether an ancestor of n matches m.
func hasMatchingAncestor(n *html.Node, m cascadia.Matcher) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && m.Match(p) {
			return true
		}
	}
	return false
}
