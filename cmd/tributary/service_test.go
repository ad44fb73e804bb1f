package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// eventually polls cond every 50 ms for up to 20 s and fails with msg.
func eventually(t *testing.T, d *daemon, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s\nserve log:\n%s", msg, d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReload(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)
	full, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Start without the perspectives feed.
	without, _, ok := strings.Cut(string(full), "  - url: "+feeds.URL+"/perspectives.rss")
	if !ok {
		t.Fatal("config lacks the perspectives feed")
	}
	writeFile(t, cfg, without)
	d := startServe(t, cfg, addr)
	base := "http://" + addr
	eventually(t, d, "first pass did not store the World articles", func() bool {
		_, body := get(t, base+"/feeds/all.atom")
		return strings.Contains(body, "María Paula Mijares Torres")
	})
	if code, _ := get(t, base+"/feeds/commentary.atom"); code != http.StatusNotFound {
		t.Fatalf("commentary before reload: %d, want 404", code)
	}

	t.Run("add a feed", func(t *testing.T) {
		writeFile(t, cfg, string(full))
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		eventually(t, d, "the added feed was not fetched and served after SIGHUP", func() bool {
			code, body := get(t, base+"/feeds/commentary.atom")
			return code == http.StatusOK && strings.Contains(body, "what citizens can do")
		})
		_, all := get(t, base+"/feeds/all.atom")
		if !strings.Contains(all, "María Paula Mijares Torres") {
			t.Error("articles stored before the reload are gone")
		}
	})

	t.Run("broken config keeps the running one", func(t *testing.T) {
		writeFile(t, cfg, string(full)+"  - url: ftp://bad.example/feed\n    schedul: x\n")
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		eventually(t, d, "no reload failure logged", func() bool {
			return strings.Contains(d.stderr.String(), "config reload failed")
		})
		log := d.stderr.String()
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(regexp.QuoteMeta(cfg) + `:\d+: feeds\[3\]\.url`),
			regexp.MustCompile(regexp.QuoteMeta(cfg) + `:\d+: unknown key \\"schedul\\"`),
		} {
			if !want.MatchString(log) {
				t.Errorf("log lacks %v:\n%s", want, log)
			}
		}
		code, body := get(t, base+"/feeds/commentary.atom")
		if code != http.StatusOK || !strings.Contains(body, "what citizens can do") {
			t.Errorf("after a failed reload: %d\n%s", code, body)
		}
		_, metrics := get(t, base+"/metrics")
		for _, want := range []string{`tributary_config_reloads_total{result="error"} 1`, `tributary_config_reloads_total{result="ok"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
	t.Run("log level", func(t *testing.T) {
		if strings.Contains(d.stderr.String(), "level=DEBUG") {
			t.Fatal("debug lines before log.level: debug")
		}
		writeFile(t, cfg, "log:\n  level: debug\n"+string(full))
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		// The pass after the reload finds nothing due: its summary is at Debug.
		eventually(t, d, "log.level: debug did not apply on reload", func() bool {
			return strings.Contains(d.stderr.String(), `level=DEBUG msg="fetch pass finished"`)
		})
	})
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, d.stderr.String())
	}
}

// TestShutdownCancelsInFlightFetch sends SIGTERM while a source has not
// answered yet: serve cancels the fetch at once instead of waiting for
// the body, exits 0, and stores neither articles nor state for the source,
// so the next pass asks again.
func TestShutdownCancelsInFlightFetch(t *testing.T) {
	started := make(chan struct{})
	var once atomic.Bool
	silent := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !once.Swap(true) {
			close(started)
		}
		<-r.Context().Done() // never answers
	}))
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	feedURL := silent.URL + "/silent.rss"
	writeFile(t, cfg, fmt.Sprintf("listen: %s\ndata_dir: %s\nfetch:\n  timeout: 10m\nfeeds:\n  - url: %s\n    categories: [Silent]\n",
		addr, filepath.Join(dir, "data"), feedURL))
	d := startServe(t, cfg, addr)
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the feed was never requested")
	}
	code, took := d.stop(t, syscall.SIGTERM)
	if code != 0 || took > 3*time.Second {
		t.Errorf("serve exited %d after %v, want 0 within 3s\n%s", code, took, d.stderr.String())
	}
	s, err := storage.Open(filepath.Join(dir, "data", "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if arts, err := s.Latest(t.Context(), "silent", 10); err != nil || len(arts) != 0 {
		t.Errorf("after shutdown the cancelled source has %d articles (%v), want none", len(arts), err)
	}
	if _, ok, err := s.SourceState(t.Context(), feedURL); ok || err != nil {
		t.Errorf("state stored for the cancelled fetch (err %v): the next pass would not ask again", err)
	}
}

// TestShutdownDrainsHTTPBriefly sends SIGTERM while a client holds a
// request in flight (its headers never end): serve gives it
// httpDrainTimeout, then closes the connection and exits 0.
func TestShutdownDrainsHTTPBriefly(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	d := startServe(t, todayNewsConfig(t, feeds.URL, addr), addr)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /feeds/all.atom HTTP/1.1\r\nHost: "+addr+"\r\n"); err != nil {
		t.Fatal(err)
	}
	// The server reads the request line before it counts the connection
	// as active; a request answered on another connection proves it did.
	get(t, "http://"+addr+"/healthz")
	code, took := d.stop(t, syscall.SIGTERM)
	t.Logf("exited %d after %v", code, took)
	if code != 0 || took > httpDrainTimeout+3*time.Second {
		t.Errorf("serve exited %d after %v, want 0 within %v\n%s", code, took, httpDrainTimeout+3*time.Second, d.stderr.String())
	}
	if !strings.Contains(d.stderr.String(), "HTTP requests still running at shutdown") {
		t.Errorf("serve did not report the request it cut short:\n%s", d.stderr.String())
	}
}

func TestMetrics(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)
	d := startServe(t, cfg, addr)
	base := "http://" + addr
	eventually(t, d, "the first pass did not finish", func() bool {
		_, m := get(t, base+"/metrics")
		return strings.Contains(m, `tributary_fetches_total{outcome="ok"} 3`)
	})
	get(t, base+"/feeds/world.atom")
	get(t, base+"/feeds/nope.atom")
	_, m := get(t, base+"/metrics")
	for _, want := range []string{
		`tributary_fetch_duration_seconds_count 3`,
		`tributary_items_total{result="new"} 3`,
		`tributary_items_total{result="duplicate"} 1`, // Mint's copy of Bloomberg's story
		`tributary_http_requests_total{code="200",route="/feeds/{file}"} 1`,
		`tributary_http_requests_total{code="404",route="/feeds/{file}"} 1`,
		`tributary_http_request_duration_seconds_count{route="/feeds/{file}"} 2`,
		`tributary_articles{category="all"} 3`,
		fmt.Sprintf(`tributary_source_consecutive_failures{source="%s"} 0`, sourceID(config.Feed{URL: feeds.URL + "/perspectives.rss"})),
		fmt.Sprintf(`tributary_source_info{source="%s",url="%s/perspectives.rss"} 1`, sourceID(config.Feed{URL: feeds.URL + "/perspectives.rss"}), feeds.URL),
		`tributary_store_size_bytes `,
		`tributary_source_last_success_timestamp_seconds{source="`,
		`go_goroutines `,
	} {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %q", want)
			}
		})
	}
	if t.Failed() {
		t.Log(m)
	}
	d.stop(t, syscall.SIGTERM)
}

// newTestServer starts an httptest server closed at cleanup.
func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestReloadDuringPassFetchesNewSourcesRightAfter(t *testing.T) {
	rss, err := os.ReadFile("../../testdata/today-news/perspectives.rss")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{}, 1)
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.rss" {
			select {
			case inFlight <- struct{}{}:
			default:
			}
			time.Sleep(3 * time.Second)
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(rss)
	}))
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	base := fmt.Sprintf("listen: %s\ndata_dir: %s\nretention:\n  max_age: 87600h\nfeeds:\n  - url: %s/slow.rss\n    categories: [Slow]\n",
		addr, filepath.Join(dir, "data"), srv.URL)
	writeFile(t, cfg, base)
	d := startServe(t, cfg, addr)
	<-inFlight
	writeFile(t, cfg, base+"  - url: "+srv.URL+"/fast.rss\n    categories: [Fast]\n")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	eventually(t, d, "the source added during a pass was not fetched right after it", func() bool {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("the source added during a pass was not fetched within 15s\n%s", d.stderr.String())
		}
		code, body := get(t, "http://"+addr+"/feeds/fast.atom")
		return code == http.StatusOK && strings.Contains(body, "what citizens can do")
	})
	d.stop(t, syscall.SIGTERM)
}
