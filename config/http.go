package config

import (
	"fmt"
	"net/netip"
	"strings"

	"go.yaml.in/yaml/v3"
)

// HTTP holds the http.* settings.
type HTTP struct {
	// AdminAllow are the networks whose clients may read the operational
	// endpoints (/status, /metrics) on the public listener; others get a
	// 403. A bare address is a network of that one address. Default
	// DefaultAdminAllow; an empty list allows no client.
	AdminAllow []netip.Prefix
}

// DefaultAdminAllow returns the default http.admin_allow: the loopback
// networks 127.0.0.0/8 and ::1/128.
func DefaultAdminAllow() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

type schemaHTTP struct {
	AdminAllow yaml.Node `yaml:"admin_allow"`
}

// httpSettings reads the http: mapping.
func (v *validator) httpSettings(n *yaml.Node) HTTP {
	m, _ := v.mapping(n, "http")
	h := HTTP{AdminAllow: DefaultAdminAllow()}
	node := resolve(m["admin_allow"])
	if node == nil || isNull(node) {
		return h
	}
	h.AdminAllow = []netip.Prefix{}
	for i, item := range v.sequence(node, "http.admin_allow") {
		path := fmt.Sprintf("http.admin_allow[%d]", i)
		s, item, ok := v.scalar(item, path)
		if !ok {
			continue
		}
		p, err := ParseNetwork(s)
		if err != nil {
			v.addf(item, path, "%v", err)
			continue
		}
		h.AdminAllow = append(h.AdminAllow, p)
	}
	return h
}

// ParseNetwork reads a network in CIDR notation (10.0.0.0/8, fd00::/8) or
// a single IP address (192.0.2.7, ::1), which is the network of that one
// address. Addresses with a zone are refused: they name an interface, not
// a network.
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid network %q: use an IP address or a CIDR network such as 192.168.0.0/16", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid network %q: use an IP address or a CIDR network such as 192.168.0.0/16", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
