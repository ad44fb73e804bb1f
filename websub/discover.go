package websub

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
)

// nsAtom is the Atom namespace, whose link elements name hubs in Atom
// feeds and (as atom:link) in RSS channels.
const nsAtom = "http://www.w3.org/2005/Atom"

// Discover returns the hub and the topic (self URL) a fetched feed
// advertises, each "" when absent: first from the HTTP Link headers, then
// from the document's feed-level links (Atom link, RSS atom:link) before
// its first entry or item. Relative URLs are resolved against base. Only
// http(s) URLs are returned. Discover reads at most the document's head
// and never fails: a broken document advertises nothing.
func Discover(base *url.URL, linkHeaders []string, body []byte) (hub, topic string) {
	for _, h := range linkHeaders {
		for _, l := range parseLinkHeader(h) {
			hub, topic = pick(hub, topic, l.rel, l.href, base)
		}
	}
	if hub != "" && topic != "" {
		return hub, topic
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return hub, topic
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case t.Name.Local == "entry" || t.Name.Local == "item":
				return hub, topic
			case t.Name.Local == "link" && t.Name.Space == nsAtom && depth <= 3:
				hub, topic = pick(hub, topic, attr(t, "rel"), attr(t, "href"), base)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// pick fills hub or topic from a link rel with href, keeping the first
// of each.
func pick(hub, topic, rel, href string, base *url.URL) (string, string) {
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		u := absolute(base, href)
		switch {
		case u == "":
		case r == "hub" && hub == "":
			hub = u
		case r == "self" && topic == "":
			topic = u
		}
	}
	return hub, topic
}

// absolute resolves href against base and returns it when it is an
// http(s) URL with a host, else "".
func absolute(base *url.URL, href string) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// attr returns the value of the attribute name (in no namespace) of t.
func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// link is one link of an HTTP Link header.
type link struct{ href, rel string }

// errLinkSyntax ends the reading of a malformed Link header.
var errLinkSyntax = errors.New("link header syntax")

// parseLinkHeader reads the links of one Link header value (RFC 8288):
// `<href>; rel="hub", <href>; rel=self`. It stops at the first malformed
// link and returns those before it.
func parseLinkHeader(h string) []link {
	var out []link
	for s := strings.TrimSpace(h); s != ""; {
		l, rest, err := nextLink(s)
		if err != nil {
			return out
		}
		out = append(out, l)
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ","))
	}
	return out
}

// nextLink reads the first link of s and returns it and what follows it.
func nextLink(s string) (link, string, error) {
	if !strings.HasPrefix(s, "<") {
		return link{}, "", errLinkSyntax
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return link{}, "", errLinkSyntax
	}
	l := link{href: s[1:end]}
	s = s[end+1:]
	for {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, ";") {
			return l, s, nil
		}
		s = strings.TrimSpace(s[1:])
		name, rest, _ := strings.Cut(s, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		var value string
		value, s = paramValue(strings.TrimSpace(rest))
		if name == "rel" && l.rel == "" {
			l.rel = value
		}
	}
}

// paramValue reads a quoted or bare parameter value at the start of s.
func paramValue(s string) (value, rest string) {
	if strings.HasPrefix(s, `"`) {
		if end := strings.IndexByte(s[1:], '"'); end >= 0 {
			return s[1 : end+1], s[end+2:]
		}
		return s[1:], ""
	}
	end := strings.IndexAny(s, ";,")
	if end < 0 {
		return s, ""
	}
	return strings.TrimSpace(s[:end]), s[end:]
}
