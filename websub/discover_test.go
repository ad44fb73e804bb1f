package websub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// corpus is the shared directory of real-world feeds.
const corpus = "../../shared/corpus/feedjira/current"

func TestDiscover(t *testing.T) {
	base, _ := url.Parse("https://blog.example/feeds/main.xml")
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			t.Skipf("corpus not available: %v", err)
		}
		return data
	}
	tests := []struct {
		name       string
		links      []string
		body       []byte
		hub, topic string
	}{
		{"atom corpus", nil, read("TypePadNews.xml"), "http://pubsubhubbub.appspot.com/", "http://feeds.feedburner.com/TypePadNews"},
		{"rss atom:link corpus, first hub", nil, read("CRE.xml"), "http://pubsubhubbub.appspot.com/", "http://feeds.feedburner.com/cre-podcast"},
		{"link header wins", []string{`<https://hub.example/>; rel="hub", <https://blog.example/self>; rel=self`}, read("CRE.xml"), "https://hub.example/", "https://blog.example/self"},
		{"link header with several rels and params", []string{`<https://hub.example/>; title="x;y"; rel="HUB alternate"`}, nil, "https://hub.example/", ""},
		{"header hub, body self", []string{`<https://hub.example/>; rel="hub"`},
			[]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="/feeds/main.xml"/></feed>`),
			"https://hub.example/", "https://blog.example/feeds/main.xml"},
		{"hub after first entry ignored", nil,
			[]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="hub" href="https://hub.example/"/></entry></feed>`), "", ""},
		{"link outside the Atom namespace ignored", nil,
			[]byte(`<rss><channel><link rel="hub" href="https://hub.example/"/></channel></rss>`), "", ""},
		{"non-http hub ignored", []string{`<javascript:alert(1)>; rel="hub"`}, nil, "", ""},
		{"malformed header", []string{`https://hub.example/; rel=hub`}, nil, "", ""},
		{"not xml", nil, []byte("{}"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hub, topic := Discover(base, tt.links, tt.body)
			if diff := cmp.Diff([]string{tt.hub, tt.topic}, []string{hub, topic}); diff != "" {
				t.Errorf("Discover (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	body := []byte("<feed/>")
	tests := []struct {
		name, secret, header string
		want                 bool
	}{
		{"sha256", "k", Sign("k", body), true},
		{"sha1 from a hub", "k", "sha1=" + hmacHex(sha1.New, "k", body), true},
		{"sha512 from a hub", "k", "sha512=" + hmacHex(sha512.New, "k", body), true},
		{"upper-case method", "k", "SHA256=" + Sign("k", body)[len("sha256="):], true},
		{"other secret", "k", Sign("j", body), false},
		{"empty secret", "", Sign("", body), false},
		{"no method", "k", Sign("k", body)[len("sha256="):], false},
		{"not hex", "k", "sha256=zz", false},
		{"empty", "k", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.secret, body, tt.header); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

// hmacHex is the hex HMAC of body under secret with h.
func hmacHex(h func() hash.Hash, secret string, body []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// FuzzDiscover feeds arbitrary Link headers and documents, seeded with
// corpus feeds, to Discover: it never panics and returns only absolute
// http(s) URLs.
func FuzzDiscover(f *testing.F) {
	for _, name := range []string{"TypePadNews.xml", "CRE.xml", "TechCrunch.xml"} {
		if data, err := os.ReadFile(filepath.Join(corpus, name)); err == nil {
			f.Add(`<https://hub.example/>; rel="hub"`, data)
		}
	}
	f.Add(`<a>;rel=hub,<b>;rel="self";x="y,z"`, []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="//h/"/>`))
	f.Add(`<`, []byte(`<rss><channel><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self hub" href="x"/>`))
	base, _ := url.Parse("https://blog.example/feed")
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		hub, topic := Discover(base, []string{header}, body)
		for _, u := range []string{hub, topic} {
			if u != "" && absolute(nil, u) == "" {
				t.Errorf("Discover returned %q", u)
			}
		}
	})
}
