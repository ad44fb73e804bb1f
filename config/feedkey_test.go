package config_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tributary/tributary/config"
)

// TestFeedKey checks which spellings of a feed URL are one source.
func TestFeedKey(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"http default port", "http://h.example:80/x", "http://h.example/x", true},
		{"https default port", "https://h.example:443/x", "https://h.example/x", true},
		{"trailing slash", "https://h.example/x/", "https://h.example/x", true},
		{"root slash", "https://h.example/", "https://h.example", true},
		{"fragment", "https://h.example/x#latest", "https://h.example/x", true},
		{"host case", "https://H.Example/x", "https://h.example/x", true},
		{"scheme case", "HTTPS://h.example/x", "https://h.example/x", true},
		{"all at once", " HTTP://Feeds.Example:80/rss/#top ", "http://feeds.example/rss", true},
		{"empty query", "https://h.example/x?", "https://h.example/x", true},
		{"ipv6 default port", "http://[::1]:80/x", "http://[::1]/x", true},
		{"other port", "https://h.example:8443/x", "https://h.example/x", false},
		{"port 443 over http", "http://h.example:443/x", "http://h.example/x", false},
		{"other scheme", "http://h.example/x", "https://h.example/x", false},
		{"path case", "https://h.example/X", "https://h.example/x", false},
		{"query", "https://h.example/x?a=1", "https://h.example/x", false},
		{"query order", "https://h.example/x?a=1&b=2", "https://h.example/x?b=2&a=1", false},
		{"other path", "https://h.example/x/y", "https://h.example/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := config.FeedKey(tt.a), config.FeedKey(tt.b)
			if (ka == kb) != tt.same {
				t.Errorf("FeedKey(%q) = %q, FeedKey(%q) = %q, want same %v", tt.a, ka, tt.b, kb, tt.same)
			}
		})
	}
}

// FuzzFeedKey checks, for any http(s) URL, that the key is stable and that
// a default port, a trailing slash, a fragment and host case never make
// another source.
func FuzzFeedKey(f *testing.F) {
	for _, s := range []string{
		"https://www.livemint.com/rss/world",
		"http://feeds.bloomberg.com:80/politics/news.rss",
		"https://go.dev/blog/feed.atom#x",
		"http://[::1]:8080/feed/?a=1&b=%2F",
		"https://user:pw@h.example/x/",
		"HTTP://H.EXAMPLE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil || strings.TrimSpace(s) != s || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
			return
		}
		key := config.FeedKey(s)
		if again := config.FeedKey(key); again != key {
			t.Errorf("FeedKey(%q) = %q, but FeedKey of that is %q", s, key, again)
		}
		v := *u
		v.Fragment, v.RawFragment = "frag", ""
		v.Host = strings.Map(asciiUpper, u.Host)
		if u.Port() == "" && !strings.HasSuffix(u.Host, ":") {
			v.Host += map[string]string{"http": ":80", "https": ":443"}[u.Scheme]
		}
		if !strings.HasSuffix(v.Path, "/") {
			v.Path += "/"
			if v.RawPath != "" {
				v.RawPath += "/"
			}
		}
		if got := config.FeedKey(v.String()); got != key {
			t.Errorf("FeedKey(%q) = %q, FeedKey(%q) = %q", s, key, v.String(), got)
		}
	})
}

// asciiUpper upper-cases ASCII letters only, as host names compare.
func asciiUpper(r rune) rune {
	if 'a' <= r && r <= 'z' {
		return r - 'a' + 'A'
	}
	return r
}
