package story

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// itemKeyVersion tags the ItemKey hash input; changing how keys are derived
// means a new tag (and a migration), never a silent change.
const itemKeyVersion = "tributary-item-v1"

// ItemKey returns the stable storage ID of an item from the source feedURL:
// 32 lower-case hex digits (the first 16 bytes of a SHA-256). It is derived
// from the GUID when there is one (after trimming spaces), else from the
// clean link (see CleanURL), else from the title and content. The kind of
// input is part of the hash, so a GUID that equals some item's link gives a
// different key. The same inputs always give the same key; the same item
// in two feeds gives two keys. It is a pure function.
func ItemKey(feedURL, guid, link, title, content string) string {
	var input string
	switch guid, link = strings.TrimSpace(guid), strings.TrimSpace(link); {
	case guid != "":
		input = "g:" + guid
	case link != "":
		input = "l:" + CleanURL(link)
	default:
		input = "h:" + title + "\x00" + content
	}
	sum := sha256.Sum256([]byte(itemKeyVersion + "\x00" + feedURL + "\x00" + input))
	return hex.EncodeToString(sum[:16])
}

// CleanURL returns rawURL without its fragment and without tracking query
// parameters, with the scheme and host in lower case and a default port
// (:80 for http, :443 for https) dropped. The tracking parameters, matched
// case-insensitively, are every name starting with "utm_" and those listed
// by isTrackingParam. Other parameters keep their order and encoding; when
// none is left, so is no "?". A relative or opaque URL only loses its
// fragment, and a string that does not parse as a URL is returned
// unchanged. CleanURL is idempotent and a pure function.
func CleanURL(rawURL string) string {
	s, _, _ := strings.Cut(rawURL, "#")
	u, err := url.Parse(s)
	if err != nil {
		return rawURL
	}
	if u.Scheme == "" || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if host, port, ok := cutPort(u.Host); ok &&
		(port == "" || u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443") {
		u.Host = host
	}
	u.RawQuery = cleanQuery(u.RawQuery)
	u.ForceQuery = false
	return u.String()
}

// cutPort splits hostport at the colon before its port. It reports false
// when there is no port, or when the host part is empty or has a colon
// itself without being a bracketed IPv6 address.
func cutPort(hostport string) (host, port string, ok bool) {
	host, port, ok = strings.Cut(hostport, ":")
	if strings.HasPrefix(hostport, "[") {
		i := strings.LastIndex(hostport, "]:")
		if i < 0 {
			return hostport, "", false
		}
		return hostport[:i+1], hostport[i+2:], true
	}
	if !ok || host == "" || strings.Contains(port, ":") {
		return hostport, "", false
	}
	return host, port, true
}

// cleanQuery drops the tracking parameters from the raw query q and keeps
// the others verbatim. q is returned as is when it has none; otherwise
// empty parameters go too, so that no stray "&" is left.
func cleanQuery(q string) string {
	var kept []string
	removed := false
	for p := range strings.SplitSeq(q, "&") {
		name, _, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		switch {
		case isTrackingParam(strings.ToLower(name)):
			removed = true
		case p != "":
			kept = append(kept, p)
		}
	}
	if !removed {
		return q
	}
	return strings.Join(kept, "&")
}

// isTrackingParam reports whether the lower-case query parameter name only
// tracks the reader: utm_* (Google Analytics campaigns), click IDs of ad
// networks (fbclid, gclid, dclid, gbraid, wbraid, msclkid, yclid, twclid,
// ttclid), mailing tools (mc_cid, mc_eid, _hsenc, _hsmi, mkt_tok, vero_id,
// vero_conv, wt_mc, oly_anon_id, oly_enc_id, _openstat) and social sharing
// (igshid, ref_src, __twitter_impression).
func isTrackingParam(name string) bool {
	if strings.HasPrefix(name, "utm_") {
		return true
	}
	switch name {
	case "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
		"mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "vero_id", "vero_conv", "wt_mc",
		"oly_anon_id", "oly_enc_id", "_openstat",
		"igshid", "ref_src", "__twitter_impression":
		return true
	}
	return false
}

// IdentityURL returns the identity of rawURL for dedupe keys only (the
// displayed link stays CleanURL's): two links that lead to the same
// article give the same identity. On top of CleanURL it drops the scheme
// (http and https are one), a leading "www." or "amp." of the host, AMP
// markers ("/amp" path segments, a ".amp.html" suffix, "amp" and
// "outputType=amp" query parameters), a trailing "/", and sorts the
// remaining query parameters. A FeedBurner redirect link
// (feedproxy.google.com or feeds.feedburner.com, path "/~r/FEED/~3/TOKEN/REST")
// becomes "feedburner/FEED/REST" on either host, since the same item is
// served under both. A relative, opaque or unparsable URL gives its clean
// form unchanged. It is a pure function and idempotent.
func IdentityURL(rawURL string) string {
	clean := CleanURL(strings.TrimSpace(rawURL))
	u, err := url.Parse(clean)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return clean
	}
	host := u.Hostname()
	for _, prefix := range []string{"www.", "amp."} {
		host = strings.TrimPrefix(host, prefix)
	}
	if port := u.Port(); port != "" {
		host += ":" + port
	}
	p := identityPath(u.EscapedPath())
	if isFeedBurnerHost(host) {
		if rest, ok := feedburnerRest(p); ok {
			host, p = "feedburner", rest
		}
	}
	q := identityQuery(u.Query())
	if q != "" {
		q = "?" + q
	}
	return host + p + q
}

// identityPath drops AMP markers and a trailing slash from an escaped path.
func identityPath(p string) string {
	segs := strings.Split(p, "/")
	kept := segs[:0]
	for _, s := range segs {
		if strings.EqualFold(s, "amp") {
			continue
		}
		kept = append(kept, s)
	}
	p = strings.Join(kept, "/")
	if strings.HasSuffix(strings.ToLower(p), ".amp.html") {
		p = p[:len(p)-len(".amp.html")] + ".html"
	}
	return strings.TrimRight(p, "/")
}

// IsFeedBurnerLink reports whether rawURL is a FeedBurner redirect link,
// whose URL identity (IdentityURL) leaves its token out. It is a pure
// function.
func IsFeedBurnerLink(rawURL string) bool {
	u, err := url.Parse(CleanURL(strings.TrimSpace(rawURL)))
	if err != nil {
		return false
	}
	if !isFeedBurnerHost(strings.TrimPrefix(u.Hostname(), "www.")) {
		return false
	}
	_, ok := feedburnerRest(identityPath(u.EscapedPath()))
	return ok
}

// isFeedBurnerHost reports whether host serves FeedBurner redirect links.
func isFeedBurnerHost(host string) bool {
	return host == "feedproxy.google.com" || host == "feeds.feedburner.com"
}

// feedburnerRest returns "/FEED/REST" for a FeedBurner redirect path
// "/~r/FEED/~3/TOKEN/REST".
func feedburnerRest(p string) (string, bool) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
	if len(parts) < 5 || parts[0] != "~r" || parts[2] != "~3" {
		return "", false
	}
	return "/" + parts[1] + "/" + parts[4], true
}

// identityQuery drops the AMP parameters and encodes the rest sorted by name.
func identityQuery(v url.Values) string {
	v.Del("amp")
	if strings.EqualFold(v.Get("outputType"), "amp") {
		v.Del("outputType")
	}
	return v.Encode()
}
