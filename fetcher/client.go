package fetcher

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/tributary/tributary/config"
)

// maxRedirects is the number of redirects a fetch follows before failing.
const maxRedirects = 5

// acceptHeader prefers feed types but takes anything: many servers label
// feeds text/html or application/octet-stream.
const acceptHeader = "application/atom+xml, application/rss+xml, application/feed+json, " +
	"application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

// newHTTPClient returns the client used when Options.Client is nil. It has no
// overall timeout: each fetch bounds itself with a context deadline. It sets
// no Accept-Encoding, so the transport asks for gzip and decompresses it, and
// the body limit applies to the decompressed size. Unless
// fc.AllowPrivateRedirects, its transport refuses to follow a source whose
// address is public to an address isPrivate (nil: IsPrivate) reports.
func newHTTPClient(fc config.Fetch, isPrivate func(netip.Addr) bool) *http.Client {
	open := newTransport(fc, nil)
	if fc.AllowPrivateRedirects {
		return &http.Client{Transport: open, CheckRedirect: checkRedirect}
	}
	if isPrivate == nil {
		isPrivate = IsPrivate
	}
	g := &guardTransport{open: open, isPrivate: isPrivate}
	g.guarded = newTransport(fc, g.refusePrivate)
	return &http.Client{Transport: g, CheckRedirect: checkRedirect}
}

// newTransport returns a transport with the fetch settings of fc (its
// proxy from proxyFunc) whose
// dialer runs control, if not nil, before each connection attempt.
func newTransport(fc config.Fetch, control func(context.Context, string, string, syscall.RawConn) error) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, ControlContext: control}
	perHost := max(fc.PerHost, 2)
	return &http.Transport{
		Proxy:                 proxyFunc(fc.Proxy),
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: fc.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       90 * time.Second,
	}
}

// checkRedirect follows at most maxRedirects redirects and fails at once on
// a loop, naming the URL that repeats.
func checkRedirect(req *http.Request, via []*http.Request) error {
	next := req.URL.String()
	for _, prev := range via {
		if prev.URL.String() == next {
			return fmt.Errorf("%w: redirect loop at %s", ErrTooManyRedirects, next)
		}
	}
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects", ErrTooManyRedirects, maxRedirects)
	}
	return nil
}
