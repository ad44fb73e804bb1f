package fetcher

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

// The feeds of these tests are at addresses of TEST-NET-1 (RFC 5737),
// public for the guard and never contacted: only the loopback proxies
// answer for them.
const (
	farFeedA = "http://192.0.2.10/a.xml"
	farFeedB = "http://192.0.2.10/b.xml"
)

// proxyRequest is what a test proxy saw of one request.
type proxyRequest struct {
	URL, ProxyAuth, UserAgent string
}

// forwardProxy is a test HTTP forward proxy: it answers each request in
// absolute form with an RSS feed naming the URL asked for, or with respond
// when set, and records it.
type forwardProxy struct {
	*httptest.Server
	mu      sync.Mutex
	seen    []proxyRequest
	respond http.HandlerFunc
}

func newForwardProxy(t *testing.T) *forwardProxy {
	t.Helper()
	p := &forwardProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.seen = append(p.seen, proxyRequest{r.URL.String(), r.Header.Get("Proxy-Authorization"), r.Header.Get("User-Agent")})
		respond := p.respond
		p.mu.Unlock()
		if respond != nil {
			respond(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, rssOf("Via proxy", testItem{r.URL.Path, "Item of " + r.URL.Path, "http://192.0.2.10/item" + r.URL.Path, "Text."}))
	}))
	t.Cleanup(p.Close)
	return p
}

// requests returns what the proxy saw.
func (p *forwardProxy) requests() []proxyRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxyRequest(nil), p.seen...)
}

// proxyAt returns the proxy URL scheme://userinfo@addr.
func proxyAt(t *testing.T, scheme, userinfo, addr string) config.Proxy {
	t.Helper()
	if userinfo != "" {
		userinfo += "@"
	}
	p, err := config.ParseProxy(scheme + "://" + userinfo + addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProxyPerSource(t *testing.T) {
	own, global := newForwardProxy(t), newForwardProxy(t)
	cfg := testConfig(
		config.Feed{URL: farFeedA, Proxy: proxyAt(t, "http", "alice:s3cretpw", own.Listener.Addr().String()), UserAgent: "feed-agent/2"},
		config.Feed{URL: farFeedB})
	cfg.Fetch.Proxy = proxyAt(t, "http", "", global.Listener.Addr().String())
	store := newFakeStore()
	f := newTestFetcher(t, cfg, store, Options{})
	for _, r := range fetchAll(t, f) {
		if r.Outcome != outcomeOK || r.New != 1 {
			t.Errorf("%s: %+v, want one new item through the proxy", r.FeedURL, r)
		}
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cretpw"))
	if diff := cmp.Diff([]proxyRequest{{farFeedA, basic, "feed-agent/2"}}, own.requests()); diff != "" {
		t.Errorf("the source's own proxy saw (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]proxyRequest{{farFeedB, "", "tributary-test/1.0"}}, global.requests()); diff != "" {
		t.Errorf("fetch.proxy saw (-want +got):\n%s", diff)
	}
}

func TestProxySecretsNotShown(t *testing.T) {
	refusing := newForwardProxy(t)
	refusing.respond = func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusProxyAuthRequired)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	tests := []struct {
		name, addr, outcome string
	}{
		{"proxy refuses", refusing.Listener.Addr().String(), outcomeHTTPError},
		{"proxy unreachable", closed, outcomeNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(config.Feed{URL: farFeedA, Proxy: proxyAt(t, "http", "alice:s3cretpw", tt.addr)})
			store := newFakeStore()
			var logs strings.Builder
			f := newTestFetcher(t, cfg, store, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			r := fetchAll(t, f)[0]
			st := store.state(t, farFeedA)
			if r.Outcome != tt.outcome || r.Err == nil {
				t.Fatalf("result %+v, want %s", r, tt.outcome)
			}
			for _, shown := range []string{r.Err.Error(), st.LastError, logs.String()} {
				if strings.Contains(shown, "s3cretpw") {
					t.Errorf("the proxy password shows: %s", shown)
				}
			}
		})
	}
}

// TestProxyGuard: through a proxy on loopback, which the operator chose,
// a public source is fetched, and a redirect to a private target is
// refused before the proxy is asked for it.
func TestProxyGuard(t *testing.T) {
	p := newForwardProxy(t)
	p.respond = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host == "127.0.0.1" {
			fmt.Fprint(w, rssOf("Private", testItem{"p", "Private", "http://127.0.0.1/p", "Secret."}))
			return
		}
		http.Redirect(w, r, "http://127.0.0.1/private.xml", http.StatusFound)
	}
	cfg := testConfig(config.Feed{URL: farFeedA})
	cfg.Fetch.Proxy = proxyAt(t, "http", "", p.Listener.Addr().String())
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	r := fetchAll(t, f)[0]
	if r.Outcome != outcomeRefused {
		t.Errorf("outcome %q (%v), want %q", r.Outcome, r.Err, outcomeRefused)
	}
	if got := p.requests(); len(got) != 1 || got[0].URL != farFeedA {
		t.Errorf("the proxy saw %+v, want only the feed", got)
	}
}

// socks5Server is a minimal SOCKS5 server (RFC 1928, no authentication,
// CONNECT only) that connects every request to upstream and records the
// address asked for.
type socks5Server struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	asked    []string
	conns    []net.Conn
}

func newSOCKS5Server(t *testing.T, upstream string) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln, upstream: upstream}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close() // the client keeps its connections open
		}
		s.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

// serve answers one SOCKS5 connection.
func (s *socks5Server) serve(c net.Conn) {
	defer c.Close()
	head := make([]byte, 2)
	if _, err := io.ReadFull(c, head); err != nil || head[0] != 5 {
		return
	}
	if _, err := io.ReadFull(c, make([]byte, head[1])); err != nil {
		return
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return
	}
	req := make([]byte, 4)
	if _, err := io.ReadFull(c, req); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		ip := make([]byte, 4)
		if _, err := io.ReadFull(c, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	case 3:
		n := make([]byte, 1)
		if _, err := io.ReadFull(c, n); err != nil {
			return
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(c, name); err != nil {
			return
		}
		host = string(name)
	default:
		return
	}
	port := make([]byte, 2)
	if _, err := io.ReadFull(c, port); err != nil {
		return
	}
	s.mu.Lock()
	s.asked = append(s.asked, net.JoinHostPort(host, fmt.Sprint(binary.BigEndian.Uint16(port))))
	s.mu.Unlock()
	up, err := net.Dial("tcp", s.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	if _, err := c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}); err != nil {
		return
	}
	go func() {
		_, _ = io.Copy(up, c)
		_ = up.Close()
	}()
	_, _ = io.Copy(c, up)
}

func TestProxySOCKS5(t *testing.T) {
	srv := newServerOn(t, "127.0.0.1")
	srv.feed("/a.xml", "Socks")
	socks := newSOCKS5Server(t, srv.Listener.Addr().String())
	cfg := testConfig(config.Feed{URL: farFeedA, Proxy: proxyAt(t, "socks5", "", socks.ln.Addr().String())})
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	if r := fetchAll(t, f)[0]; r.Outcome != outcomeOK || r.New != 1 {
		t.Errorf("result %+v, want the feed through the SOCKS5 proxy", r)
	}
	socks.mu.Lock()
	defer socks.mu.Unlock()
	if diff := cmp.Diff([]string{"192.0.2.10:80"}, socks.asked); diff != "" {
		t.Errorf("the SOCKS5 proxy was asked for (-want +got):\n%s", diff)
	}
}

// TestProbeAndExplainThroughProxy: add (Probe) goes through fetch.proxy,
// test-rules (Explain) through the source's own proxy and user agent.
func TestProbeAndExplainThroughProxy(t *testing.T) {
	global, own := newForwardProxy(t), newForwardProxy(t)
	cfg := testConfig(config.Feed{URL: farFeedA, Proxy: proxyAt(t, "http", "", own.Listener.Addr().String()), UserAgent: "feed-agent/2"})
	cfg.Fetch.Proxy = proxyAt(t, "http", "", global.Listener.Addr().String())
	p, err := Probe(t.Context(), nil, cfg.Fetch, farFeedB)
	if err != nil || p.Items != 1 {
		t.Fatalf("Probe = %+v, %v; want the feed through fetch.proxy", p, err)
	}
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	if v, err := f.Explain(t.Context(), farFeedA, config.FullText{}); err != nil || len(v) != 1 {
		t.Fatalf("Explain = %+v, %v", v, err)
	}
	if diff := cmp.Diff([]proxyRequest{{farFeedB, "", "tributary-test/1.0"}}, global.requests()); diff != "" {
		t.Errorf("fetch.proxy saw (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]proxyRequest{{farFeedA, "", "feed-agent/2"}}, own.requests()); diff != "" {
		t.Errorf("the source's proxy saw (-want +got):\n%s", diff)
	}
}

// TestPerSourceTimeout: a source's own timeout bounds its fetch, not
// fetch.timeout.
func TestPerSourceTimeout(t *testing.T) {
	srv := newServerOn(t, "127.0.0.1")
	stalled := srv.handle("/stall.xml", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	cfg := testConfig(config.Feed{URL: stalled, Timeout: 50 * time.Millisecond})
	cfg.Fetch.Timeout = 10 * time.Minute
	f := newTestFetcher(t, cfg, newFakeStore(), Options{})
	r := fetchAll(t, f)[0]
	if r.Outcome != outcomeTimeout || !strings.Contains(r.Err.Error(), "within 50ms") {
		t.Errorf("result %q: %v; want a timeout after the source's 50ms", r.Outcome, r.Err)
	}
}
