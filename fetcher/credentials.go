package fetcher

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/tributary/tributary/config"
)

// credentials are a source's configured auth and headers, and the only
// origin (scheme and host) they may be sent to.
type credentials struct {
	scheme, host string
	auth         *config.BasicAuth
	headers      map[string]config.Secret
}

// credentialsKey is the context key of the credentials of a request.
type credentialsKey struct{}

// withCredentials returns ctx carrying the credentials of feed, to be sent
// only to the scheme and host of its configured URL; ctx itself when feed
// has none.
func withCredentials(ctx context.Context, feed config.Feed) context.Context {
	if feed.Auth == nil && len(feed.Headers) == 0 {
		return ctx
	}
	u, err := url.Parse(feed.URL)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, credentialsKey{}, &credentials{
		scheme:  u.Scheme,
		host:    strings.ToLower(u.Host),
		auth:    feed.Auth,
		headers: feed.Headers,
	})
}

// credentialTransport adds a source's credentials to each request, the
// first and every redirect, whose scheme and host are those of the
// source's URL, and never to another: a redirect to another host, port or
// scheme gets no Authorization and none of the configured headers (Go's
// client would copy custom headers to any host, and Authorization to
// subdomains). It also drops the Referer that the client adds on a
// redirect, which would tell the next host the previous URL's query.
type credentialTransport struct {
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(credentialsKey{}).(*credentials)
	send := c != nil && req.URL.Scheme == c.scheme && strings.ToLower(req.URL.Host) == c.host
	if !send && req.Header.Get("Referer") == "" {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context()) // a RoundTripper must not change its request
	req.Header.Del("Referer")
	if send {
		for name, value := range c.headers {
			req.Header.Set(name, value.Reveal())
		}
		if c.auth != nil {
			req.SetBasicAuth(c.auth.Username, c.auth.Password.Reveal())
		}
	}
	return t.base.RoundTrip(req)
}

// withCredentialTransport returns a copy of client whose transport is
// wrapped in a credentialTransport.
func withCredentialTransport(client *http.Client) *http.Client {
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = credentialTransport{base: base}
	return &c
}

// redactedError is an error whose message went through config.RedactText,
// so that no URL in it carries a secret; errors.Is and errors.As still see
// the error it wraps.
type redactedError struct {
	err error
}

// Error implements error.
func (e redactedError) Error() string { return config.RedactText(e.err.Error()) }

// Unwrap returns the wrapped error.
func (e redactedError) Unwrap() error { return e.err }
