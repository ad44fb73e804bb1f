package fetcher

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"slices"
	"sync/atomic"
	"syscall"
)

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// thisNetwork is 0.0.0.0/8, which Linux treats as the local host.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// IsPrivate reports whether a is an address a public source must not send
// the fetcher to: loopback, private (RFC 1918 and the IPv6 ULA fc00::/7),
// carrier-grade NAT (RFC 6598), link-local (IPv4 and IPv6), unspecified or
// 0.0.0.0/8, and the IPv4-mapped IPv6 forms of these. It is the default
// classifier of Options.IsPrivate; it is safe for concurrent use.
func IsPrivate(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() ||
		a.IsLoopback() ||
		a.IsPrivate() ||
		a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() ||
		a.IsUnspecified() ||
		cgnat.Contains(a) ||
		thisNetwork.Contains(a)
}

// origin is what a fetch learnt about the source it started from. One is
// attached to the context of each fetch (withOrigin) and shared by the
// requests of its redirects, and by the advertised feeds a probed page
// leads to.
type origin struct {
	// state is originUnknown until the first request has a connection,
	// then originPublic or originPrivate after the address it reached.
	state atomic.Int32
}

const (
	originUnknown int32 = iota
	originPublic
	originPrivate
)

type originKey struct{}

// withOrigin returns ctx carrying a fresh origin: the first request made
// under it decides whether the source is public or private.
func withOrigin(ctx context.Context) context.Context {
	return context.WithValue(ctx, originKey{}, &origin{})
}

// sourceOrigin returns ctx carrying the origin of src for a request the
// source's server chose: the permanent URL it moved the source to, or an
// article page its feed links to. Such a request is a redirect from the
// configured URL: its origin is private when the configured host is a
// private address or resolves to one (a home lab), else public, also when
// the name does not resolve.
func (f *Fetcher) sourceOrigin(ctx context.Context, src *source) context.Context {
	o := &origin{}
	o.state.Store(originPublic)
	if f.hostIsPrivate(ctx, src.host) {
		o.state.Store(originPrivate)
	}
	return context.WithValue(ctx, originKey{}, o)
}

// hostIsPrivate reports whether host is a private address or a name with a
// private address; a name that does not resolve is not.
func (f *Fetcher) hostIsPrivate(ctx context.Context, host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return f.isPrivate(a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	return err == nil && slices.ContainsFunc(addrs, f.isPrivate)
}

// guardTransport sends a request to a private address only when the
// fetch's origin is private: the first request of a fetch goes out
// unchecked and its connection's remote address classifies the origin;
// every later request (a redirect, an advertised feed) from a public origin
// goes through guarded, whose dialer refuses private addresses. Each
// transport keeps its own idle connections, so a connection to a private
// address is never reused for a guarded request.
type guardTransport struct {
	open      *http.Transport
	guarded   *http.Transport
	isPrivate func(netip.Addr) bool
}

// proxied reports whether req goes through a proxy (see proxiedRoundTrip).
func (g *guardTransport) proxied(req *http.Request) bool {
	if g.open.Proxy == nil {
		return false
	}
	u, err := g.open.Proxy(req)
	return err == nil && u != nil
}

// RoundTrip implements http.RoundTripper.
func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	o, _ := req.Context().Value(originKey{}).(*origin)
	if g.proxied(req) {
		return g.proxiedRoundTrip(req, o)
	}
	switch {
	case o == nil && req.Response == nil:
		// A request outside a fetch is its own origin; once redirected,
		// it is taken as coming from a public one.
		return g.open.RoundTrip(req)
	case o == nil:
		return g.guarded.RoundTrip(req)
	}
	switch o.state.Load() {
	case originPrivate:
		return g.open.RoundTrip(req)
	case originPublic:
		return g.guarded.RoundTrip(req)
	}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		o.state.CompareAndSwap(originUnknown, g.classify(info.Conn.RemoteAddr()))
	}}
	return g.open.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}

// classify returns originPrivate or originPublic for a connection's remote
// address; an address that is not IP (a Unix socket) is private.
func (g *guardTransport) classify(addr net.Addr) int32 {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil || g.isPrivate(ap.Addr()) {
		return originPrivate
	}
	return originPublic
}

// refusePrivate is the guarded dialer's ControlContext: it runs before
// each connection attempt with the address actually dialled, after name
// resolution, so a public name that resolves to a private address is
// refused too.
func (g *guardTransport) refusePrivate(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("guard dial %s: %w", address, err)
	}
	if g.isPrivate(ap.Addr()) {
		return &PrivateRedirectError{Addr: ap.Addr()}
	}
	return nil
}

// CloseIdleConnections closes the idle connections of both transports.
func (g *guardTransport) CloseIdleConnections() {
	g.open.CloseIdleConnections()
	g.guarded.CloseIdleConnections()
}
