package config

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"nothing to redact", "https://example.com/feed.xml?page=2#top", "https://example.com/feed.xml?page=2#top"},
		{"userinfo and token", "http://alice:s3cretpw@127.0.0.1:8080/feed?token=tok123", "http://127.0.0.1:8080/feed?token=REDACTED"},
		{"user name only", "https://alice@example.com/feed", "https://example.com/feed"},
		{"every listed name, any case", "https://h/f?TOKEN=a&Key=b&apikey=c&API_KEY=d&access_token=e&auth=f&secret=g&password=h&sig=i&Signature=j",
			"https://h/f?TOKEN=REDACTED&Key=REDACTED&apikey=REDACTED&API_KEY=REDACTED&access_token=REDACTED&auth=REDACTED&secret=REDACTED&password=REDACTED&sig=REDACTED&Signature=REDACTED"},
		{"suffixes and dashes", "https://h/f?auth_token=a&x-api-key=b&client_secret=c&id=7", "https://h/f?auth_token=REDACTED&x-api-key=REDACTED&client_secret=REDACTED&id=7"},
		{"order, other parameters and encoding kept", "https://h/f?q=a%20b&token=x%2Fy&lang=en", "https://h/f?q=a%20b&token=REDACTED&lang=en"},
		{"escaped name", "https://h/f?%74oken=x", "https://h/f?%74oken=REDACTED"},
		{"semicolon separator", "https://h/f?a=1;key=x", "https://h/f?a=1;key=REDACTED"},
		{"fragment written as a query", "https://h/cb#access_token=x&state=1", "https://h/cb#access_token=REDACTED&state=1"},
		{"name without value", "https://h/f?token&a=1", "https://h/f?token&a=1"},
		{"not a secret despite the letters", "https://h/f?keyword=x&tokens=y&monkey=z", "https://h/f?keyword=x&tokens=y&monkey=z"},
		{"tag id untouched", "tag:example.com,2005:feed", "tag:example.com,2005:feed"},
		{"urn untouched", "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6", "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6"},
		{"unparsable with a query", "http://h/%zz?token=x", unparsableURL},
		{"unparsable without one", "%zz", "%zz"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"url.Error", `Get "http://alice:***@127.0.0.1:1/feed?token=tok123": dial tcp 127.0.0.1:1: connect: connection refused`,
			`Get "http://127.0.0.1:1/feed?token=REDACTED": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"two URLs", "fetch http://a:b@h/f?key=k: redirect loop at https://h/g?sig=s",
			"fetch http://h/f?key=REDACTED: redirect loop at https://h/g?sig=REDACTED"},
		{"no URL", "parse error: unexpected EOF", "parse error: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactText(tt.in); got != tt.want {
				t.Errorf("RedactText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedactURL checks that a redacted URL carries no userinfo and no value
// of a secret-bearing parameter, and that redacting a URL or a message
// twice changes nothing.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"http://alice:s3cretpw@127.0.0.1:8080/feed?token=tok123",
		"https://h/f?q=a%20b&token=x%2Fy&lang=en;key=k#access_token=t&x=1",
		"https://u@h/%74oken?%74oken=x&tokens=y",
		"tag:example.com,2005:feed",
		"//alice:pw@host/path?sig=1",
		"http://h/%zz?token=x",
		"mailto:alice@example.com?subject=key",
		`Get "http://alice:***@127.0.0.1:1/feed?token=tok123": connection refused`,
		"fetch http://a:b@h/f?key=k: redirect loop at https://h/g?sig=s.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if text := RedactText(in); RedactText(text) != text {
			t.Fatalf("RedactText not idempotent: %q → %q → %q", in, text, RedactText(text))
		}
		out := RedactURL(in)
		if again := RedactURL(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
		if out == unparsableURL {
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			if strings.ContainsAny(out, "@?#") {
				t.Fatalf("RedactURL(%q) = %q, unparsable with a possible secret", in, out)
			}
			return
		}
		if u.User != nil && u.Host != "" {
			t.Fatalf("RedactURL(%q) = %q keeps the userinfo", in, out)
		}
		for _, raw := range []string{u.RawQuery, u.EscapedFragment()} {
			for _, p := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
				name, value, ok := strings.Cut(p, "=")
				if un, err := url.QueryUnescape(name); err == nil {
					name = un
				}
				if ok && IsSecretParam(name) && value != Redacted {
					t.Fatalf("RedactURL(%q) = %q keeps %s=%s", in, out, name, value)
				}
			}
		}
	})
}
