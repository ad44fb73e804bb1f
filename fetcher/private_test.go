package fetcher

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/storage"
)

// publicIP is the loopback address the tests below treat as public; every
// other address is private. The tests contact no other address than
// 127.0.0.1 and 127.0.0.2.
const publicIP = "127.0.0.2"

// testIsPrivate is the classifier of the tests: all but publicIP is private.
func testIsPrivate(a netip.Addr) bool { return a.Unmap() != netip.MustParseAddr(publicIP) }

// netServer is a test HTTP server on one loopback address that serves
// fixed routes and counts the requests of each path.
type netServer struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string]int
	routes map[string]http.HandlerFunc
}

// newServerOn starts a netServer on ip; routes are added with handle before
// the first request.
func newServerOn(t *testing.T, ip string) *netServer {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("listen on %s: %v", ip, err)
	}
	s := &netServer{hits: map[string]int{}, routes: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		h := s.routes[r.URL.Path]
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	_ = s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// handle serves h at path and returns its URL.
func (s *netServer) handle(path string, h http.HandlerFunc) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
	return s.URL + path
}

// feed serves an RSS feed titled title, with one item, at path.
func (s *netServer) feed(path, title string) string {
	return s.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>http://example.test/</link>`+
			`<item><title>%s item</title><guid>%s-1</guid><link>http://example.test/1</link></item></channel></rss>`, title, title, title)
	})
}

// redirect answers path with code to target.
func (s *netServer) redirect(path, target string, code int) string {
	return s.handle(path, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, code)
	})
}

// page serves an HTML page advertising the feed at href.
func (s *netServer) page(path, href string) string {
	return s.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Blog</title>`+
			`<link rel="alternate" type="application/rss+xml" href="%s"></head><body>hi</body></html>`, href)
	})
}

func (s *netServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// closedPort returns a loopback URL on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr + "/feed.rss"
}

// TestPrivateRedirects fetches sources on a "public" loopback server that
// redirect to a "private" one, through the real client into a real store:
// the redirect is refused before any connection to the private address
// (also when a public name resolves to it, and when a connection to it is
// idle in the pool), nothing of the private feed is stored or shown in
// /status, and the outcome does not tell an open port from a closed one.
// Private sources, public-to-public redirects and the opt-in still work.
func TestPrivateRedirects(t *testing.T) {
	pub := newServerOn(t, publicIP)
	priv := newServerOn(t, "127.0.0.1")
	secretFeed := priv.feed("/internal.rss", "Internal Secret")
	_, port, _ := net.SplitHostPort(priv.Listener.Addr().String())
	// localhost is a name whose addresses are private: the check is on the
	// address dialled, not on the name.
	byName := "http://localhost:" + port + "/internal.rss"

	refusal := "redirect from a public address to a private one (127.0.0.1) refused; set fetch.allow_private_redirects: true to allow"
	tests := []struct {
		name    string
		source  string
		allow   bool
		outcome string
		err     string
		title   string
		private int // requests the private feed must get
	}{
		{"302 to private address", pub.redirect("/302", secretFeed, http.StatusFound), false, "refused", refusal, "", 0},
		{"301 to private address", pub.redirect("/301", secretFeed, http.StatusMovedPermanently), false, "refused", refusal, "", 0},
		{"via a public hop", pub.redirect("/hop", pub.URL+"/302", http.StatusFound), false, "refused", refusal, "", 0},
		{"to a name resolving to loopback", pub.redirect("/name", byName, http.StatusFound), false, "refused", "redirect from a public address to a private one", "", 0},
		{"to a closed private port", pub.redirect("/closed", closedPort(t), http.StatusFound), false, "refused", refusal, "", 0},
		{"public to public", pub.redirect("/pub", pub.feed("/public.rss", "Public"), http.StatusFound), false, "ok", "", "Public", 0},
		{"private source", priv.redirect("/home", secretFeed, http.StatusFound), false, "ok", "", "Internal Secret", 1},
		{"allowed by the config", pub.redirect("/allowed", secretFeed, http.StatusFound), true, "ok", "", "Internal Secret", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := priv.count("/internal.rss")
			cfg := testConfig(feedsAt(tt.source)...)
			cfg.Fetch.AllowPrivateRedirects = tt.allow
			clock := newTestClock()
			store := newTestStore(t, clock.Now)
			f := newTestFetcher(t, cfg, store, Options{Now: clock.Now, IsPrivate: testIsPrivate})
			r := fetchOne(t, f, tt.source)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome %q (%v), want %q", r.Outcome, r.Err, tt.outcome)
			}
			if tt.err != "" {
				if _, ok := errors.AsType[*PrivateRedirectError](r.Err); !ok || !strings.Contains(r.Err.Error(), tt.err) {
					t.Errorf("error %v, want a PrivateRedirectError saying %q", r.Err, tt.err)
				}
			}
			if got := priv.count("/internal.rss") - before; got != tt.private {
				t.Errorf("the private feed got %d requests, want %d", got, tt.private)
			}
			body, report := statusJSON(t, store, tt.source, clock.Now())
			if tt.outcome == "refused" && strings.Contains(body, "Internal Secret") {
				t.Errorf("/status shows the private feed: %s", body)
			}
			if len(report.Sources) != 1 || report.Sources[0].Outcome != tt.outcome || report.Sources[0].Title != tt.title {
				t.Errorf("/status sources %+v, want outcome %q and title %q", report.Sources, tt.outcome, tt.title)
			}
			arts, err := store.Latest(t.Context(), "news", 10)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, a := range arts {
				titles = append(titles, a.Source.Title)
			}
			var want []string
			if tt.title != "" {
				want = []string{tt.title}
			}
			if diff := cmp.Diff(want, titles); diff != "" {
				t.Errorf("stored articles' sources (-want +got):\n%s", diff)
			}
		})
	}
}

// statusJSON returns the /status document of the real handler for one
// source, as text and decoded.
func statusJSON(t *testing.T, store status.Store, source string, now time.Time) (string, status.Report) {
	t.Helper()
	h := status.Handler(store, []status.Source{{URL: source}}, testLogger(t), func() time.Time { return now })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	var r status.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &r); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("/status: %d %v %s", rec.Code, err, rec.Body)
	}
	return rec.Body.String(), r
}

// TestPrivateRedirectIdleConnection checks that a connection to a private
// address left idle by a private source is not reused for a public
// source's redirect to that address.
func TestPrivateRedirectIdleConnection(t *testing.T) {
	pub := newServerOn(t, publicIP)
	priv := newServerOn(t, "127.0.0.1")
	home := priv.feed("/home.rss", "Home")
	priv.feed("/internal.rss", "Internal Secret")
	evil := pub.redirect("/evil", priv.URL+"/internal.rss", http.StatusFound)
	cfg := testConfig(feedsAt(home, evil)...)
	clock := newTestClock()
	f := newTestFetcher(t, cfg, newTestStore(t, clock.Now), Options{Now: clock.Now, IsPrivate: testIsPrivate})
	for pass := 1; pass <= 2; pass++ {
		if r := fetchOne(t, f, home); r.Outcome != "ok" && r.Outcome != "not-modified" {
			t.Fatalf("pass %d: home source: %s (%v)", pass, r.Outcome, r.Err)
		}
		if r := fetchOne(t, f, evil); r.Outcome != "refused" {
			t.Fatalf("pass %d: public source: %s (%v), want refused", pass, r.Outcome, r.Err)
		}
		clock.Advance(time.Hour)
	}
	if n := priv.count("/internal.rss"); n != 0 {
		t.Errorf("the private feed got %d requests", n)
	}
}

// TestPrivatePermanentURL checks that a source fetched from the permanent
// URL its server moved it to (as remembered in the store, perhaps by an
// earlier version) is held to the rule of its configured address.
func TestPrivatePermanentURL(t *testing.T) {
	pub := newServerOn(t, publicIP)
	priv := newServerOn(t, "127.0.0.1")
	secretFeed := priv.feed("/internal.rss", "Internal Secret")
	publicFeed := pub.feed("/public.rss", "Public")
	tests := []struct {
		name, source, movedTo, outcome string
	}{
		{"public source moved to a private address", pub.URL + "/old.rss", secretFeed, "refused"},
		{"public source moved within public space", pub.URL + "/old.rss", publicFeed, "ok"},
		{"private source moved within private space", priv.URL + "/old.rss", secretFeed, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := priv.count("/internal.rss")
			clock := newTestClock()
			store := newTestStore(t, clock.Now)
			if err := store.PutSourceState(t.Context(), storage.SourceState{FeedURL: tt.source, PermanentURL: tt.movedTo}); err != nil {
				t.Fatal(err)
			}
			f := newTestFetcher(t, testConfig(feedsAt(tt.source)...), store, Options{Now: clock.Now, IsPrivate: testIsPrivate})
			if r := fetchOne(t, f, tt.source); r.Outcome != tt.outcome {
				t.Fatalf("outcome %q (%v), want %q", r.Outcome, r.Err, tt.outcome)
			}
			if n := priv.count("/internal.rss") - before; tt.outcome == "refused" && n != 0 {
				t.Errorf("the private feed got %d requests", n)
			}
		})
	}
}

// TestProbePrivate checks that add's probe, from a public page, refuses an
// advertised feed or a redirect at a private address, and follows both
// within public space, from a private page, or when allowed.
func TestProbePrivate(t *testing.T) {
	pub := newServerOn(t, publicIP)
	priv := newServerOn(t, "127.0.0.1")
	secretFeed := priv.feed("/internal.rss", "Internal Secret")
	publicFeed := pub.feed("/public.rss", "Public")
	tests := []struct {
		name    string
		url     string
		allow   bool
		want    Probed
		refused bool
	}{
		{"public page advertising a private feed", pub.page("/evil.html", secretFeed), false, Probed{}, true},
		{"public page redirected to a private feed", pub.redirect("/evil", secretFeed, http.StatusFound), false, Probed{}, true},
		{"public page advertising a public feed", pub.page("/blog.html", publicFeed), false,
			Probed{URL: publicFeed, Title: "Public", Items: 1, Discovered: true}, false},
		{"private page advertising a private feed", priv.page("/home.html", secretFeed), false,
			Probed{URL: secretFeed, Title: "Internal Secret", Items: 1, Discovered: true}, false},
		{"allowed by the config", pub.page("/allowed.html", secretFeed), true,
			Probed{URL: secretFeed, Title: "Internal Secret", Items: 1, Discovered: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := priv.count("/internal.rss")
			fc := testConfig().Fetch
			fc.AllowPrivateRedirects = tt.allow
			client := newHTTPClient(fc, testIsPrivate)
			t.Cleanup(client.CloseIdleConnections)
			got, err := Probe(t.Context(), client, fc, tt.url)
			if _, ok := errors.AsType[*PrivateRedirectError](err); ok != tt.refused {
				t.Fatalf("error %v, refused %v, want %v", err, ok, tt.refused)
			}
			if !tt.refused && err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
			if n := priv.count("/internal.rss") - before; tt.refused && n != 0 {
				t.Errorf("the private feed got %d requests", n)
			}
		})
	}
}

// TestIsPrivate pins the default classifier.
func TestIsPrivate(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"100.64.0.1", true},
		{"100.127.255.254", true},
		{"169.254.169.254", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"8.8.8.8", false},
		{"172.32.0.1", false},
		{"100.128.0.1", false},
		{"192.169.0.1", false},
		{"2001:4860:4860::8888", false},
		{"::ffff:8.8.8.8", false},
	} {
		if got := IsPrivate(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("IsPrivate(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if !IsPrivate(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

// FuzzIsPrivate checks, for any address, that its IPv4-mapped form and its
// text round trip classify the same, and that a refused address is named
// in the error.
func FuzzIsPrivate(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "100.64.0.1", "169.254.169.254", "fe80::1%eth0", "fc00::1", "8.8.8.8", "::ffff:192.168.0.1", "2001:db8::1", "0.0.0.0"} {
		f.Add([]byte(netip.MustParseAddr(s).AsSlice()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		got := IsPrivate(a)
		if a.Is4() && IsPrivate(netip.AddrFrom16(a.As16())) != got {
			t.Errorf("%s and its IPv4-mapped form differ", a)
		}
		if back, err := netip.ParseAddr(a.String()); err != nil || IsPrivate(back) != got {
			t.Errorf("%s: text round trip %v, %v", a, back, err)
		}
		g := &guardTransport{isPrivate: IsPrivate}
		err := g.refusePrivate(t.Context(), "tcp", netip.AddrPortFrom(a, 80).String(), nil)
		if (err != nil) != got {
			t.Errorf("refusePrivate(%s) = %v, IsPrivate %v", a, err, got)
		}
	})
}

// TestGuardWithoutOrigin checks that a request made with the client outside
// a fetch (no origin in its context) is checked as from a public origin
// once redirected, and goes out unchecked otherwise.
func TestGuardWithoutOrigin(t *testing.T) {
	pub := newServerOn(t, publicIP)
	priv := newServerOn(t, "127.0.0.1")
	secretFeed := priv.feed("/internal.rss", "Internal Secret")
	client := newHTTPClient(testConfig().Fetch, testIsPrivate)
	t.Cleanup(client.CloseIdleConnections)
	get := func(u string) error {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(secretFeed); err != nil {
		t.Errorf("direct request: %v", err)
	}
	err := get(pub.redirect("/evil", secretFeed, http.StatusFound))
	if _, ok := errors.AsType[*PrivateRedirectError](err); !ok {
		t.Errorf("redirected request: %v, want a PrivateRedirectError", err)
	}
	if n := priv.count("/internal.rss"); n != 1 {
		t.Errorf("the private feed got %d requests, want 1", n)
	}
}
