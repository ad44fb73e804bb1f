package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/andybalholm/cascadia"
	"go.yaml.in/yaml/v3"
)

// defaultFullTextConcurrency is fetch.fulltext_concurrency's default.
const defaultFullTextConcurrency = 4

// maxFullTextConcurrency bounds fetch.fulltext_concurrency.
const maxFullTextConcurrency = 64

// FullText is a source's fulltext setting: whether the linked page of each
// new item is fetched for the article's text, and how its text is found.
type FullText struct {
	// Enabled is true for fulltext: true or a selector.
	Enabled bool
	// Selector, when non-empty, is a CSS selector (fulltext: "article
	// .body"): the page's elements it matches are the text, in page order.
	// Empty with Enabled means readability extraction.
	Selector string
}

// Proxy is a proxy URL: http, https, socks5 or socks5h, possibly with
// credentials in its userinfo. It prints, logs and marshals without them,
// so that a Config shown by mistake reveals none; URL returns it whole.
// The zero Proxy is no proxy configured.
type Proxy struct {
	u *url.URL
}

// URL returns the proxy URL with its credentials, nil for the zero Proxy.
// The caller must not modify it.
func (p Proxy) URL() *url.URL { return p.u }

// String returns the proxy URL without its credentials, "" for the zero
// Proxy.
func (p Proxy) String() string {
	if p.u == nil {
		return ""
	}
	return RedactURL(p.u.String())
}

// MarshalText returns String.
func (p Proxy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// proxySchemes are the schemes a proxy URL may have.
var proxySchemes = map[string]bool{"http": true, "https": true, "socks5": true, "socks5h": true}

// proxy reads a proxy URL, given as the URL itself, env:NAME or file:PATH
// (resolved like a header value). Problems never quote the value, which
// may carry a password.
func (v *validator) proxy(n *yaml.Node, path string) Proxy {
	raw, n, ok := v.scalar(n, path)
	if !ok {
		return Proxy{}
	}
	val, err := v.headerValue(raw)
	if err != nil {
		v.addf(n, path, "%v", err)
		return Proxy{}
	}
	u, err := parseProxyURL(strings.TrimSpace(val.Reveal()))
	if err != nil {
		v.addf(n, path, "%v", err)
		return Proxy{}
	}
	return Proxy{u: u}
}

// ParseProxy parses s as a proxy URL (http, https, socks5 or socks5h,
// with a host and no path); its errors never quote s, which may carry a
// password.
func ParseProxy(s string) (Proxy, error) {
	u, err := parseProxyURL(s)
	if err != nil {
		return Proxy{}, err
	}
	return Proxy{u: u}, nil
}

// parseProxyURL parses s as a proxy URL; its errors never quote s.
func parseProxyURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, errors.New("invalid proxy URL: use scheme://[user:password@]host:port")
	case !proxySchemes[strings.ToLower(u.Scheme)]:
		return nil, errors.New("invalid proxy URL: the scheme must be http, https, socks5 or socks5h")
	case u.Hostname() == "":
		return nil, errors.New("invalid proxy URL: it has no host")
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("invalid proxy URL: no path, query or fragment allowed")
	}
	return u, nil
}

// fullText reads a feed's fulltext: true, false, or a CSS selector.
func (v *validator) fullText(n *yaml.Node, path string) FullText {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return FullText{}
	}
	if n.ShortTag() == "!!bool" {
		return FullText{Enabled: v.boolean(n, path)}
	}
	if strings.TrimSpace(s) == "" {
		v.addf(n, path, "must be true, false or a CSS selector")
		return FullText{}
	}
	ft, err := SelectorFullText(s)
	if err != nil {
		v.addf(n, path, "%v", err)
	}
	return ft
}

// SelectorFullText returns the FullText that keeps the elements selector
// matches, or an error naming what is wrong with selector.
func SelectorFullText(selector string) (FullText, error) {
	if _, err := cascadia.ParseGroup(selector); err != nil {
		return FullText{}, fmt.Errorf("invalid CSS selector %q: %w", selector, err)
	}
	return FullText{Enabled: true, Selector: selector}, nil
}

// userAgent reads a feed's user_agent: one line, no control characters.
func (v *validator) userAgent(n *yaml.Node, path string) string {
	s := v.text(n, path, "")
	if strings.ContainsFunc(s, unicode.IsControl) {
		v.addf(n, path, "must be a single line without control characters")
		return ""
	}
	return s
}

// feedTimeout reads a feed's timeout: more than 0s and at most 10m, or 0
// (fetch.timeout) when missing.
func (v *validator) feedTimeout(n *yaml.Node, path string) time.Duration {
	d := v.duration(n, path, 0)
	if n != nil && !isNull(n) && (d < 0 || d > maxTimeout) {
		v.addf(n, path, "must be more than 0s and at most 10m, found %v", d)
		return 0
	}
	if n != nil && !isNull(n) && d == 0 {
		v.addf(n, path, "must be more than 0s and at most 10m, found %v", d)
	}
	return d
}

// network reads a feed's fulltext, proxy, user_agent and timeout into f;
// m holds the keys of the feed's mapping.
func (v *validator) network(f *Feed, m map[string]*yaml.Node, path string) {
	f.FullText = v.fullText(m["fulltext"], path+".fulltext")
	f.Proxy = v.proxy(m["proxy"], path+".proxy")
	f.UserAgent = v.userAgent(m["user_agent"], path+".user_agent")
	f.Timeout = v.feedTimeout(m["timeout"], path+".timeout")
}

// EffectiveTimeout returns the timeout that applies to f: its own, or
// global (normally Config.Fetch.Timeout) when it has none.
func (f Feed) EffectiveTimeout(global time.Duration) time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return global
}

// EffectiveProxy returns the proxy that applies to f: its own, or global
// (normally Config.Fetch.Proxy) when it has none. The zero Proxy means
// the environment's (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).
func (f Feed) EffectiveProxy(global Proxy) Proxy {
	if f.Proxy.u != nil {
		return f.Proxy
	}
	return global
}

// String describes f's fulltext setting for output: "off", "readability"
// or "selector SEL".
func (ft FullText) String() string {
	switch {
	case !ft.Enabled:
		return "off"
	case ft.Selector == "":
		return "readability"
	}
	return fmt.Sprintf("selector %q", ft.Selector)
}

// Equal reports whether p and o are the same proxy URL, credentials
// included.
func (p Proxy) Equal(o Proxy) bool {
	if p.u == nil || o.u == nil {
		return p.u == o.u
	}
	return p.u.String() == o.u.String()
}
