package websub

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// requestTimeout bounds one request to a hub or a callback.
const requestTimeout = 30 * time.Second

// PrivateAddressError is the error of a request to a hub or callback whose
// address is private while private addresses are refused.
type PrivateAddressError struct {
	// Addr is the address refused.
	Addr netip.Addr
}

// Error names the address refused and the setting that allows it.
func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("refused to connect to private address %s (fetch.allow_private_redirects is false)", e.Addr)
}

// NewClient returns the HTTP client for requests to hubs and callbacks,
// whose URLs come from outside. When isPrivate is not nil, it refuses to
// connect to an address isPrivate reports (checked after name resolution,
// so a public name that resolves to a private address is refused too);
// nil allows every address. It uses no proxy, follows no redirect (a
// callback or hub must answer itself) and bounds each request by
// requestTimeout. The client is safe for concurrent use.
func NewClient(isPrivate func(netip.Addr) bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if isPrivate != nil {
		dialer.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("guard dial %s: %w", address, err)
			}
			if isPrivate(ap.Addr()) {
				return &PrivateAddressError{Addr: ap.Addr()}
			}
			return nil
		}
	}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: requestTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkCallback returns the callback URL s when it is an absolute http(s)
// URL with a host and no fragment.
func checkCallback(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid callback URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid callback URL %q: want an absolute http or https URL without fragment", s)
	}
	return u, nil
}
