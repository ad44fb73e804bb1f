package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/websub"
)

// pushSource is a loopback source whose Atom feed advertises a loopback
// WebSub hub, and whose entries the test adds.
type pushSource struct {
	srv    *httptest.Server
	hubSrv *httptest.Server
	hub    *websub.Hub
	mu     sync.Mutex
	titles []string
	// gate, when set before the first fetch, holds the feed's answers
	// until it is closed.
	gate chan struct{}
}

func (p *pushSource) feedURL() string { return p.srv.URL + "/feed.atom" }

func (p *pushSource) add(title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.titles = append(p.titles, title)
}

// doc renders the source's Atom feed, dated now so that retention keeps
// its entries.
func (p *pushSource) doc() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339)
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Push source</title><id>urn:push-source</id><updated>%s</updated>
<link rel="self" href="%s"/><link rel="hub" href="%s"/>`, now, p.feedURL(), p.hubSrv.URL)
	for i, title := range p.titles {
		fmt.Fprintf(&b, `<entry><title>%s</title><id>urn:push-source:%d</id><link href="https://push.example/%d"/><updated>%s</updated><content>Text of %s, a story of its own.</content></entry>`,
			title, i, i, now, title)
	}
	b.WriteString("</feed>")
	return []byte(b.String())
}

func newPushSource(t *testing.T) *pushSource {
	t.Helper()
	p := &pushSource{titles: []string{"First story"}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.gate != nil {
			select {
			case <-p.gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/atom+xml")
		_, _ = w.Write(p.doc())
	}))
	t.Cleanup(p.srv.Close)
	store, err := storage.Open(filepath.Join(t.TempDir(), "hub.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.hubSrv = httptest.NewServer(mux)
	t.Cleanup(p.hubSrv.Close)
	p.hub, err = websub.NewHub(t.Context(), websub.HubOptions{
		URL: p.hubSrv.URL, Store: store, Tick: time.Hour,
		Render: func(context.Context, string) (websub.Document, error) {
			return websub.Document{Body: p.doc(), ContentType: "application/atom+xml"}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", p.hub)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = store.Close() })
	return p
}

// reader is a loopback subscriber to the daemon's hub that echoes
// verifications and records pushes.
type reader struct {
	srv    *httptest.Server
	pushes chan string
	secret string
}

func newReader(t *testing.T) *reader {
	r := &reader{pushes: make(chan string, 8), secret: "reader-secret"}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet {
			_, _ = io.WriteString(w, req.URL.Query().Get("hub.challenge"))
			return
		}
		body, _ := io.ReadAll(req.Body)
		if !websub.Verify(r.secret, body, req.Header.Get(websub.SignatureHeader)) {
			t.Errorf("push with bad signature %q", req.Header.Get(websub.SignatureHeader))
		}
		r.pushes <- string(body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// TestWebSubBothWays runs the daemon as a subscriber of a source's hub
// and as the hub of its own feeds: a new article pushed by the source's
// hub reaches a subscriber of our world feed within 2 seconds, signed;
// both subscriptions survive a restart.
func TestWebSubBothWays(t *testing.T) {
	src := newPushSource(t)
	addr := freeAddr(t)
	base := "http://" + addr
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf(`listen: %[1]s
base_url: http://%[1]s
data_dir: %[2]s
schedule: "@every 1h"
fetch:
  allow_private_redirects: true # the hubs and callbacks are on loopback
websub:
  hub: builtin
  subscribe: true
feeds:
  - url: %[3]s
    categories: [World]
`, addr, filepath.Join(dir, "data"), src.feedURL()))
	d := startServe(t, cfg, addr)
	eventually(t, d, "the daemon did not subscribe to the source's hub", func() bool {
		return src.hub.Stats().Subscriptions == 1
	})
	_, atom := get(t, base+"/feeds/world.atom")
	if !strings.Contains(atom, `<link href="`+base+`/websub" rel="hub">`) {
		t.Errorf("world.atom names no hub:\n%s", atom)
	}

	rd := newReader(t)
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {base + "/feeds/world.atom"},
		"hub.callback": {rd.srv.URL + "/cb"}, "hub.secret": {rd.secret}}
	resp, err := http.PostForm(base+"/websub", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe: status %d", resp.StatusCode)
	}
	eventually(t, d, "the daemon's hub did not keep the reader's subscription", func() bool {
		_, m := get(t, base+"/metrics")
		return strings.Contains(m, "tributary_websub_hub_subscriptions 1")
	})

	src.add("Second story pushed")
	start := time.Now()
	src.hub.Changed()
	select {
	case body := <-rd.pushes:
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("pushed after %v, want within 2s", took)
		}
		if !strings.Contains(body, "Second story pushed") {
			t.Errorf("push lacks the new article:\n%s", body)
		}
		t.Logf("source hub push to reader push: %v", time.Since(start))
	case <-time.After(2 * time.Second):
		t.Fatalf("no push within 2s\nserve log:\n%s", d.stderr.String())
	}
	forged, err := http.Post(base+"/websub/callback/0123", "application/atom+xml", strings.NewReader("<feed/>"))
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if forged.StatusCode != http.StatusGone {
		t.Errorf("push to no subscription: status %d, want 410", forged.StatusCode)
	}
	r := tributary(t, "stats", "-config", cfg)
	if want := "websub: hub 1 subscribers, 1 delivered, 0 failed; 1 sources pushed, 0 pending, 1 pushes, 1 dropped"; !strings.Contains(r.stdout, want) {
		t.Errorf("stats lack %q:\n%s", want, r.stdout)
	}
	_, m := get(t, base+"/metrics")
	for _, want := range []string{"tributary_websub_pushes_total 1", "tributary_websub_pushes_dropped_total 1", "tributary_websub_subscriptions 1", `tributary_fetches_total{outcome="pushed"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, d.stderr.String())
	}

	d = startServe(t, cfg, addr)
	_, m = get(t, base+"/metrics")
	for _, want := range []string{"tributary_websub_hub_subscriptions 1", "tributary_websub_subscriptions 1"} {
		if !strings.Contains(m, want) {
			t.Errorf("after restart, metrics lack %q", want)
		}
	}
	d.stop(t, syscall.SIGTERM)
}

// TestWebSubPingsExternalHub checks that with an external hub every feed
// names it, and that a pass that stores articles pings it with every
// feed's URL.
func TestWebSubPingsExternalHub(t *testing.T) {
	pings := make(chan url.Values, 4)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		pings <- r.PostForm
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hub.Close)
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	base := "http://" + addr
	cfg := todayNewsConfig(t, feeds.URL, addr)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, "websub:\n  hub: %s/\n", hub.URL)
	if cerr := f.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	writeFile(t, cfg, strings.Replace(readFile(t, cfg), "fetch:\n", "fetch:\n  allow_private_redirects: true\n", 1))
	d := startServe(t, cfg, addr)
	select {
	case form := <-pings:
		if form.Get("hub.mode") != "publish" {
			t.Errorf("ping mode %q", form.Get("hub.mode"))
		}
		for _, want := range []string{base + "/feeds/all.atom", base + "/feeds/world.rss", base + "/feeds/world.json"} {
			if !slices.Contains(form["hub.url"], want) {
				t.Errorf("ping lacks hub.url %s: %q", want, form["hub.url"])
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("hub not pinged\nserve log:\n%s", d.stderr.String())
	}
	_, atom := get(t, base+"/feeds/world.atom")
	if !strings.Contains(atom, `<link href="`+hub.URL+`/" rel="hub">`) {
		t.Errorf("world.atom names no hub:\n%s", atom)
	}
	d.stop(t, syscall.SIGTERM)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
