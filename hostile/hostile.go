// Package hostile is a test helper: an HTTP server with every fault a feed
// server on the open web can have (errors, rate limits, redirects and loops,
// stalls, endless and compressed-bomb bodies, broken XML and charsets, XML
// entity attacks, HTML pages, empty bodies, gone feeds), next to healthy
// feeds whose content changes on every request. Both the fetcher's unit
// tests and the daemon's subprocess tests use it.
package hostile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// BombSize is the decompressed size of the gzip bomb: far above any sane
// fetch.max_body, for a few hundred KiB on the wire.
const BombSize = 64 << 20

// Fault is one path of the server and what a fetch of it should end as.
type Fault struct {
	// Path is the path on the server, e.g. "/500".
	Path string
	// Outcomes are the acceptable fetch outcome words (fetcher outcomes).
	Outcomes []string
}

// Faults lists every faulty path, with the outcomes a fetch may end in.
func Faults() []Fault {
	return []Fault{
		{"/500", []string{"http-error"}},
		{"/429", []string{"rate-limited"}},
		{"/301", []string{"ok"}},
		{"/302", []string{"ok"}},
		{"/loop/a", []string{"http-error"}},
		{"/stall", []string{"timeout"}},
		{"/endless", []string{"too-large", "timeout"}},
		{"/gzip-bomb", []string{"too-large"}},
		{"/truncated", []string{"parse-error"}},
		{"/bad-utf8", []string{"ok"}},
		{"/cp1251-prolog", []string{"ok"}},
		{"/cp1251-header", []string{"ok"}},
		{"/billion-laughs", []string{"ok", "parse-error"}},
		{"/xxe", []string{"ok", "parse-error"}},
		{"/html", []string{"not-a-feed"}},
		{"/empty", []string{"parse-error"}},
		{"/404", []string{"http-error"}},
		{"/410", []string{"gone"}},
	}
}

// Server is the hostile server. Its healthy feeds are at /ok/NAME.rss; each
// request to one gets a feed with one more item than the last.
type Server struct {
	*httptest.Server
	bomb    []byte
	mu      sync.Mutex
	hits    map[string]int
	secrets atomic.Int64
}

// NewServer starts the server on 127.0.0.1; it is closed when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	return NewServerOn(t, "127.0.0.1")
}

// NewServerOn starts the server on a free port of the loopback address ip
// (any of 127.0.0.0/8 on Linux), so that tests can have several hosts.
func NewServerOn(t testing.TB, ip string) *Server {
	t.Helper()
	s := &Server{hits: map[string]int{}}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range BombSize / len(zeros) {
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	s.bomb = buf.Bytes()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("hostile: listen on %s: %v", ip, err)
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	_ = s.Server.Listener.Close()
	s.Server.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// SecretRequests counts requests for the external entity target: any is a
// fetched external entity.
func (s *Server) SecretRequests() int64 { return s.secrets.Load() }

// Hits returns how many requests path got.
func (s *Server) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// Cyrillic is the title of the windows-1251 feeds, once decoded.
const Cyrillic = "Новости"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	n := s.hits[r.URL.Path]
	s.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/ok/"):
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(rss(strings.TrimPrefix(p, "/ok/"), n))
	case p == "/secret":
		s.secrets.Add(1)
		_, _ = w.Write([]byte("root:x:0:0"))
	case p == "/500":
		http.Error(w, "internal error", http.StatusInternalServerError)
	case p == "/429":
		w.Header().Set("Retry-After", "120")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case p == "/301":
		http.Redirect(w, r, "/ok/moved.rss", http.StatusMovedPermanently)
	case p == "/302":
		http.Redirect(w, r, "/ok/temporary.rss", http.StatusFound)
	case p == "/loop/a":
		http.Redirect(w, r, "/loop/b", http.StatusFound)
	case p == "/loop/b":
		http.Redirect(w, r, "/loop/a", http.StatusFound)
	case p == "/stall":
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	case p == "/endless":
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>endless</title>`))
		item := []byte(strings.Repeat(`<item><title>again</title><link>http://x.test/</link></item>`, 256))
		for r.Context().Err() == nil {
			if _, err := w.Write(item); err != nil {
				return
			}
		}
	case p == "/gzip-bomb":
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(s.bomb)
	case p == "/truncated":
		b := rss("truncated", 3)
		_, _ = w.Write(b[:len(b)*2/3])
	case p == "/bad-utf8":
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = w.Write(bytes.Replace(rss("bad-utf8", 1), []byte("item 1"), []byte("item \xff\xfe 1"), 1))
	case p == "/cp1251-prolog":
		_, _ = w.Write(cp1251(`<?xml version="1.0" encoding="windows-1251"?>`))
	case p == "/cp1251-header":
		w.Header().Set("Content-Type", "text/xml; charset=windows-1251")
		_, _ = w.Write(cp1251(`<?xml version="1.0"?>`))
	case p == "/billion-laughs":
		_, _ = w.Write([]byte(billionLaughs))
	case p == "/xxe":
		_, _ = fmt.Fprintf(w, xxe, "http://"+r.Host+"/secret", "http://"+r.Host+"/secret")
	case p == "/html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>Blog</title>
<link rel="alternate" type="application/rss+xml" href="/ok/blog.rss"></head><body>hi</body></html>`))
	case p == "/empty":
		w.Header().Set("Content-Type", "application/rss+xml")
	case p == "/404":
		http.NotFound(w, r)
	case p == "/410":
		http.Error(w, "gone", http.StatusGone)
	default:
		http.NotFound(w, r)
	}
}

// rss is a feed named name with n items, newest first.
func rss(name string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title><link>http://example.test/%s</link>`, name, name)
	for i := n; i >= 1; i-- {
		fmt.Fprintf(&b, `<item><title>%s item %d</title><link>http://example.test/%s/%d</link><guid>%s-%d</guid><description>text %d</description></item>`,
			name, i, name, i, name, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

// cp1251 is a feed in windows-1251 under the given prolog.
func cp1251(prolog string) []byte {
	doc := prolog + `<rss version="2.0"><channel><title>` + Cyrillic + `</title><link>http://example.test/ru</link>` +
		`<item><title>Привет, мир</title><link>http://example.test/ru/1</link></item></channel></rss>`
	out, err := charmap.Windows1251.NewEncoder().String(doc)
	if err != nil {
		panic(err) // the text above is all in windows-1251
	}
	return []byte(out)
}

// billionLaughs nests entity definitions ten deep: expanded, &lol9; is a
// billion "lol"s.
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>laughs &lol9;</title><link>http://example.test/lol</link>
<item><title>&lol9;</title><link>http://example.test/lol/1</link><description>&lol9;</description></item>
</channel></rss>`

// xxe declares external entities (general and parameter) on the server's
// /secret path; a parser that fetched them would hit it.
const xxe = `<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY secret SYSTEM "%s">
 <!ENTITY %% remote SYSTEM "%s">
 %%remote;
]>
<rss version="2.0"><channel><title>xxe &secret;</title><link>http://example.test/xxe</link>
<item><title>leak &secret;</title><link>http://example.test/xxe/1</link><description>&secret;</description></item>
</channel></rss>`
