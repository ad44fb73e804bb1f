package fetcher

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrBodyTooLarge is wrapped by a fetch whose response body, after transparent
// decompression, is larger than fetch.max_body. Such a body is never
// truncated and parsed: the fetch fails with outcome "too-large".
var ErrBodyTooLarge = errors.New("response body too large")

// ErrNotFeed is wrapped by a fetch whose response is an HTML page rather than
// a feed. The message lists the feed URLs the page advertises, if any, so
// that the operator can fix the configured URL; outcome "not-a-feed".
var ErrNotFeed = errors.New("not a feed")

// ErrTooManyRedirects is wrapped by a fetch that was redirected more than
// five times or in a loop; outcome "http-error".
var ErrTooManyRedirects = errors.New("too many redirects")

// HTTPError is the error of a fetch answered with a status other than 2xx or
// 304; outcome "http-error". Read it with errors.AsType[*HTTPError].
type HTTPError struct {
	// StatusCode is the response's status code, e.g. 404.
	StatusCode int
	// Status is the response's status line, e.g. "404 Not Found".
	Status string
	// URL is the URL that answered, after redirects.
	URL string
}

// Error implements error.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("http status %s from %s", e.Status, e.URL)
}

// PrivateRedirectError is the error of a fetch whose source's address is
// public and that was sent (by a redirect, or by a page's autodiscovery
// link) to a private address, which fetch.allow_private_redirects: false
// (the default) refuses before connecting; outcome "refused". Read it with
// errors.AsType[*PrivateRedirectError].
type PrivateRedirectError struct {
	// Addr is the private address that was refused.
	Addr netip.Addr
}

// Error implements error.
func (e *PrivateRedirectError) Error() string {
	return fmt.Sprintf("redirect from a public address to a private one (%s) refused; set fetch.allow_private_redirects: true to allow", e.Addr)
}
