package config

import (
	"go.yaml.in/yaml/v3"
)

// BuiltinHub is the websub.hub value that makes tributary the WebSub hub of
// its own feeds.
const BuiltinHub = "builtin"

// WebSubPath is the path of the built-in hub; the subscriber's callbacks
// live under WebSubPath + "/callback/".
const WebSubPath = "/websub"

// WebSub holds the websub.* settings.
type WebSub struct {
	// Hub is the absolute URL of the WebSub hub that every feed names
	// (link rel="hub"): BaseURL + WebSubPath when Builtin, else the
	// external hub configured, which is pinged when a feed changes. Empty
	// (the default): no hub.
	Hub string
	// Builtin is true when websub.hub is "builtin": tributary serves the
	// hub at WebSubPath.
	Builtin bool
	// Subscribe makes tributary subscribe to the hubs its sources
	// advertise and take their pushes. Default false.
	Subscribe bool
}

type schemaWebSub struct {
	Hub       yaml.Node `yaml:"hub"`
	Subscribe yaml.Node `yaml:"subscribe"`
}

// webSubSettings reads the websub: mapping. Both keys need base_url: the
// hub and the subscriber's callbacks are published under it, and the
// default (the listen address) is rarely reachable by others.
func (v *validator) webSubSettings(n *yaml.Node, baseURL string, baseSet bool) WebSub {
	m, _ := v.mapping(n, "websub")
	var w WebSub
	if s, hn, ok := v.scalar(m["hub"], "websub.hub"); ok {
		switch {
		case s == BuiltinHub:
			w.Builtin, w.Hub = true, baseURL+WebSubPath
		default:
			if _, err := parseHTTPURL(s); err != nil {
				v.addf(hn, "websub.hub", "must be builtin or the http(s) URL of a hub: %v", err)
			} else {
				w.Hub = s
			}
		}
		if !baseSet {
			v.addf(hn, "websub.hub", "needs base_url: the public URL that subscribers and hubs reach")
		}
	}
	w.Subscribe = v.boolean(m["subscribe"], "websub.subscribe")
	if w.Subscribe && !baseSet {
		v.addf(m["subscribe"], "websub.subscribe", "needs base_url: the public URL where hubs reach the callbacks")
	}
	return w
}
