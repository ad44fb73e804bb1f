package config

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces the value of a secret-bearing query parameter in a
// redacted URL, and stands for a secret in String and log output.
const Redacted = "REDACTED"

// unparsableURL stands for a URL that could not be parsed and might carry a
// secret.
const unparsableURL = "[unparsable URL]"

// secretParams are the query parameter names whose values are secrets,
// lower case with '-' read as '_'.
var secretParams = map[string]bool{
	"token": true, "key": true, "apikey": true, "api_key": true,
	"access_token": true, "auth": true, "secret": true, "password": true,
	"passwd": true, "sig": true, "signature": true,
}

// secretSuffixes mark further secret-bearing names, such as auth_token,
// x_api_key or client_secret.
var secretSuffixes = []string{"_token", "_key", "_secret", "_password", "_sig", "_signature"}

// IsSecretParam reports whether a query parameter called name carries a
// secret: one of token, key, apikey, api_key, access_token, auth, secret,
// password, passwd, sig, signature, or a name ending in _token, _key,
// _secret, _password, _sig or _signature; case-insensitive, '-' counting as
// '_' (X-Api-Key is x_api_key).
func IsSecretParam(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	if secretParams[n] {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// RedactURL returns raw without the secrets it may carry, for everything
// tributary shows or publishes: the userinfo (user name and password) is
// dropped, and the value of every secret-bearing query parameter (see
// IsSecretParam), in the query or in a fragment written like one, is
// replaced by Redacted; the rest is kept as written. A string that is not
// a URL with an authority (such as a tag: or urn: id) is returned as it
// is, and so is a URL with nothing to redact. A string that does not parse
// as a URL but contains '@', '?' or '#' is replaced by "[unparsable URL]".
// RedactURL(RedactURL(s)) == RedactURL(s).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.ContainsAny(raw, "@?#") {
			return unparsableURL
		}
		return raw
	}
	query, qChanged := redactParams(u.RawQuery)
	frag, fChanged := redactParams(u.EscapedFragment())
	if u.User == nil && !qChanged && !fChanged {
		return raw
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme + ":")
	}
	if u.Opaque != "" {
		b.WriteString(u.Opaque)
	} else {
		if u.Scheme != "" || u.Host != "" || u.User != nil {
			b.WriteString("//" + u.Host)
		}
		b.WriteString(u.EscapedPath())
	}
	if u.ForceQuery || u.RawQuery != "" {
		b.WriteString("?" + query)
	}
	if u.Fragment != "" {
		b.WriteString("#" + frag)
	}
	out := b.String()
	if _, err := url.Parse(out); err != nil {
		return unparsableURL
	}
	return out
}

// redactParams replaces the values of the secret-bearing parameters of a
// raw query (parameters separated by '&' or ';'), keeping every other byte,
// and reports whether it changed anything.
func redactParams(raw string) (string, bool) {
	if !strings.Contains(raw, "=") {
		return raw, false
	}
	var b strings.Builder
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '&' && raw[i] != ';' {
			continue
		}
		b.WriteString(redactParam(raw[start:i]))
		if i < len(raw) {
			b.WriteByte(raw[i])
		}
		start = i + 1
	}
	return b.String(), b.String() != raw
}

// redactParam returns one raw name=value parameter with its value replaced
// by Redacted when the name is secret-bearing.
func redactParam(p string) string {
	name, _, ok := strings.Cut(p, "=")
	if !ok {
		return p
	}
	plain := name
	if un, err := url.QueryUnescape(name); err == nil {
		plain = un
	}
	if !IsSecretParam(plain) {
		return p
	}
	return name + "=" + Redacted
}

// urlInText finds the URLs in a message: a scheme followed by "://" and
// everything up to a space, a quote or an angle bracket.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// RedactText returns s with every URL in it passed through RedactURL, for
// error messages, which may quote the URL of a request (url.Error, an HTTP
// error naming the final URL, a redirect loop).
func RedactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(m string) string {
		// Punctuation after a URL, as in "fetch URL: error", is the
		// message's, not the URL's.
		u := strings.TrimRight(m, ":,.;!)]")
		return RedactURL(u) + m[len(u):]
	})
}
