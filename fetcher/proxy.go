package fetcher

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/tributary/tributary/config"
)

// proxyKey is the context key of a source's own proxy (feeds[].proxy).
type proxyKey struct{}

// withProxy returns ctx carrying feed's own proxy, ctx itself when it has
// none (fetch.proxy, else the environment's, then applies).
func withProxy(ctx context.Context, feed config.Feed) context.Context {
	if feed.Proxy.URL() == nil {
		return ctx
	}
	return context.WithValue(ctx, proxyKey{}, feed.Proxy)
}

// proxyFunc returns the Transport.Proxy of the fetch settings: the proxy of
// the request's source (withProxy), else fetch.proxy, else the
// environment's (HTTP_PROXY, HTTPS_PROXY, NO_PROXY). Connections are pooled
// per proxy, so sources behind different proxies never share one.
func proxyFunc(global config.Proxy) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		if p, ok := req.Context().Value(proxyKey{}).(config.Proxy); ok {
			return p.URL(), nil
		}
		if u := global.URL(); u != nil {
			return u, nil
		}
		return http.ProxyFromEnvironment(req)
	}
}

// proxiedRoundTrip sends req, which goes through a proxy, under the rule
// of its origin o. Through a proxy the dialer only sees the proxy's
// address, which the operator chose and may be on loopback, so the guard
// judges the target instead: its host, when an IP address, or the
// addresses its name resolves to here. The first request of a fetch
// classifies the origin by its target; later ones from a public origin
// are refused when their target is private. A name that only the proxy
// can resolve counts as public.
func (g *guardTransport) proxiedRoundTrip(req *http.Request, o *origin) (*http.Response, error) {
	addr, private := g.privateTarget(req.Context(), req.URL.Hostname())
	if o != nil && o.state.CompareAndSwap(originUnknown, originPublic) && private {
		o.state.Store(originPrivate)
	}
	public := o == nil && req.Response != nil || o != nil && o.state.Load() == originPublic
	if public && private {
		return nil, &PrivateRedirectError{Addr: addr}
	}
	return g.open.RoundTrip(req)
}

// privateTarget returns host, when it is a private address, or the first
// private address its name resolves to here, and whether there is one.
func (g *guardTransport) privateTarget(ctx context.Context, host string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, g.isPrivate(a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		if g.isPrivate(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}
