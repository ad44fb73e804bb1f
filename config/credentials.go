package config

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/http/httpguts"
)

// Secret is a credential read from the configuration: a password or a
// header value. It prints, logs and marshals as Redacted, so that a Config
// shown by mistake reveals none; Reveal returns the value itself.
type Secret string

// Reveal returns the secret's value, for the request that needs it.
func (s Secret) Reveal() string { return string(s) }

// String returns Redacted.
func (s Secret) String() string { return Redacted }

// GoString returns Redacted.
func (s Secret) GoString() string { return Redacted }

// LogValue returns Redacted.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns Redacted.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// BasicAuth is a source's HTTP Basic credentials (feeds[].auth).
type BasicAuth struct {
	// Username is the user name, without ':'.
	Username string
	// Password is the content of password_file, less one trailing newline.
	Password Secret
}

// reservedHeaders are the request headers feeds[].headers may not set:
// those of the connection (hop-by-hop, Host, framing) and those tributary
// sets itself for conditional, compressed requests.
var reservedHeaders = map[string]bool{
	"Host": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Upgrade": true, "Content-Length": true, "Accept-Encoding": true,
	"If-None-Match": true, "If-Modified-Since": true,
}

// auth reads a feed's auth: mapping; base is the directory relative
// password files are read from.
func (v *validator) auth(n *yaml.Node, path string) *BasicAuth {
	m, ok := v.mapping(n, path)
	if !ok || m == nil {
		return nil
	}
	a := &BasicAuth{}
	user, un, ok := v.scalar(m["username"], path+".username")
	switch {
	case !ok:
		v.addf(resolve(n), path, "username is required")
	case user == "" || strings.ContainsAny(user, ":\r\n"):
		v.addf(un, path+".username", "must be a non-empty name without ':' or line breaks")
	default:
		a.Username = user
	}
	file, fn, ok := v.scalar(m["password_file"], path+".password_file")
	if !ok {
		v.addf(resolve(n), path, "password_file is required (the password is never written in the config)")
		return a
	}
	pw, err := v.readSecretFile(file)
	if err != nil {
		v.addf(fn, path+".password_file", "%v", err)
		return a
	}
	a.Password = pw
	return a
}

// headers reads a feed's headers: mapping of header names to values; a
// value "env:NAME" is read from the environment, "file:PATH" from a file.
func (v *validator) headers(n *yaml.Node, path string) map[string]Secret {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		v.addf(n, path, "must be a mapping of header names to values")
		return nil
	}
	out := make(map[string]Secret, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := resolve(n.Content[i])
		name := http.CanonicalHeaderKey(key.Value)
		hpath := path + "." + key.Value
		switch {
		case key.Kind != yaml.ScalarNode || !httpguts.ValidHeaderFieldName(key.Value):
			v.addf(key, path, "%q is not a valid header name", key.Value)
			continue
		case reservedHeaders[name]:
			v.addf(key, hpath, "%s is set by tributary or by the connection, and cannot be configured", name)
			continue
		}
		if _, dup := out[name]; dup {
			v.addf(key, hpath, "header %s is given twice", name)
			continue
		}
		raw, vn, ok := v.scalar(n.Content[i+1], hpath)
		if !ok {
			if isNull(vn) {
				v.addf(key, hpath, "must have a value")
			}
			continue
		}
		val, err := v.headerValue(raw)
		if err != nil {
			v.addf(vn, hpath, "%v", err)
			continue
		}
		out[name] = val
	}
	return out
}

// headerValue resolves a header value: "env:NAME" is the environment
// variable NAME, "file:PATH" the content of the file (less one trailing
// newline), anything else the value itself. Errors never quote the value.
func (v *validator) headerValue(raw string) (Secret, error) {
	var val Secret
	if name, ok := strings.CutPrefix(raw, "env:"); ok {
		s, set := os.LookupEnv(name)
		if !set {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		val = Secret(s)
	} else if file, ok := strings.CutPrefix(raw, "file:"); ok {
		s, err := v.readSecretFile(file)
		if err != nil {
			return "", err
		}
		val = s
	} else {
		val = Secret(raw)
	}
	switch {
	case val == "":
		return "", fmt.Errorf("the value is empty")
	case !httpguts.ValidHeaderFieldValue(string(val)):
		return "", fmt.Errorf("the value is not a valid header value (line breaks or control characters)")
	}
	return val, nil
}

// maxSecretFile bounds the size of a password or header value file, so
// that a mistaken path (a log, /dev/zero) cannot exhaust memory.
const maxSecretFile = 64 << 10

// readSecretFile reads a password or header value from file, relative to
// the config file's directory, and drops one trailing newline.
func (v *validator) readSecretFile(file string) (Secret, error) {
	if file == "" {
		return "", fmt.Errorf("the file name is empty")
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(v.file), file)
	}
	fh, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("read secret: %s is larger than %d bytes", file, maxSecretFile)
	}
	s := strings.TrimSuffix(string(data), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", fmt.Errorf("read secret: %s is empty", file)
	}
	return Secret(s), nil
}

// publicURL reads a feed's public_url: an http(s) URL with no secret in it.
func (v *validator) publicURL(n *yaml.Node, path string) string {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return ""
	}
	if _, err := parseHTTPURL(s); err != nil {
		v.addf(n, path, "%v", err)
		return ""
	}
	if RedactURL(s) != s {
		v.addf(n, path, "must not carry credentials (userinfo or a secret query parameter): it is published")
		return ""
	}
	return s
}
