package main

import (
	"net/http"
	"net/netip"
	"slices"
)

// adminOnly serves h only to clients whose address lies in one of the
// networks nets returns (http.admin_allow, read per request so that a
// reload applies), and answers 403 to the others. The client is the
// connection's address, never a forwarding header, which anyone can send.
func adminOnly(nets func() []netip.Prefix, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !clientAllowed(r.RemoteAddr, nets()) {
			http.Error(w, "forbidden: only clients in http.admin_allow may read this", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// clientAllowed reports whether remoteAddr (an http.Request's "IP:port")
// is in one of nets. An IPv4 client of a dual-stack listener, seen as an
// IPv4-mapped IPv6 address, is matched as IPv4; an address that does not
// parse is never allowed.
func clientAllowed(remoteAddr string, nets []netip.Prefix) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap().WithZone("")
	return slices.ContainsFunc(nets, func(p netip.Prefix) bool { return p.Contains(addr) })
}
