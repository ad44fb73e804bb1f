package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/pgtest"
)

// nginxConf is the contrib config under test.
const nginxConf = "../../contrib/nginx/tributary.conf"

// frontResponse is what a reader got through the cache.
type frontResponse struct {
	code                              int
	etag, cacheStatus, encoding, vary string
	cacheControl                      string
	body                              []byte
}

// frontGet sends GET url with the header pairs kv.
func frontGet(t *testing.T, url string, kv ...string) frontResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	// A Transport that leaves Accept-Encoding to the test.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return frontResponse{
		code: resp.StatusCode, etag: resp.Header.Get("ETag"), cacheStatus: resp.Header.Get("X-Cache-Status"),
		encoding: resp.Header.Get("Content-Encoding"), vary: resp.Header.Get("Vary"),
		cacheControl: resp.Header.Get("Cache-Control"), body: body,
	}
}

// startNginx runs nginx with contrib/nginx/tributary.conf in a temporary
// prefix (its own pid, logs, temp and cache directories: no system file
// is read or written), listening on a free loopback port in front of the
// upstreams; edits are extra replacements of lines of the config. It
// returns the front's base URL.
func startNginx(t *testing.T, upstreams []string, edits ...string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/nginx")
	}
	if err != nil {
		t.Skipf("nginx not available (apt-get install nginx): %v", err)
	}
	prefix := t.TempDir()
	conf, err := os.ReadFile(nginxConf)
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=10s;\n", u)
	}
	text := string(conf)
	replacements := append([]string{
		"proxy_cache_path /var/cache/nginx/tributary", "proxy_cache_path " + filepath.Join(prefix, "cache"),
		"    server 127.0.0.1:8080 max_fails=1 fail_timeout=10s;\n    server 127.0.0.1:8081 max_fails=1 fail_timeout=10s;\n", servers.String(),
		"    listen 80;", "    listen " + addr + ";",
	}, edits...)
	for i := 0; i < len(replacements); i += 2 {
		if strings.Count(text, replacements[i]) != 1 {
			t.Fatalf("%s: want exactly one %q to replace", nginxConf, replacements[i])
		}
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	writeFile(t, filepath.Join(prefix, "tributary.conf"), text)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers write the cache in a root-owned temporary directory
	}
	writeFile(t, filepath.Join(prefix, "nginx.conf"), fmt.Sprintf(`daemon off;
%[2]s
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/tributary.conf;
}
`, prefix, user))
	cmd := exec.Command(bin, "-p", prefix, "-e", filepath.Join(prefix, "error.log"), "-c", filepath.Join(prefix, "nginx.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	waitFor(t, 10*time.Second, "nginx to listen", func() bool {
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			t.Fatalf("nginx exited (%v): %s\n%s", err, out.String(), log)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return base
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// sharedInstances fetches the today-news fixtures once into a new
// PostgreSQL database with the binary, then serves it with two instances,
// each with its own listen address and data_dir and the base_url of the
// front; it returns the daemons and their addresses.
func sharedInstances(t *testing.T, feedsURL string) ([2]*daemon, [2]string) {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	var cfgs [2]string
	var ds [2]*daemon
	var addrs [2]string
	for i := range cfgs {
		addrs[i] = freeAddr(t)
		cfgs[i] = postgresConfig(t, feedsURL, addrs[i], dbURL, "")
		b, err := os.ReadFile(cfgs[i])
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, cfgs[i], strings.Replace(string(b), "base_url: http://"+addrs[i], "base_url: http://news.example", 1))
	}
	if r := tributary(t, "fetch", "-config", cfgs[0]); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i := range ds {
		ds[i] = startServe(t, cfgs[i], addrs[i])
	}
	return ds, addrs
}

// metric304 returns the instance's count of 304 answers to feed requests.
func metric304(t *testing.T, addr string) string {
	t.Helper()
	_, body := get(t, "http://"+addr+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, `tributary_http_requests_total{code="304",route="/feeds/{file}"}`) {
			return strings.TrimSpace(line[strings.LastIndexByte(line, '}')+1:])
		}
	}
	return "0"
}

// TestNginxFront runs the real nginx with contrib/nginx/tributary.conf in
// front of two real tributary serve processes on one PostgreSQL database,
// which answer the same documents: it caches documents as
// tributary's Cache-Control says, answers conditional requests, keeps a
// gzip variant, hides the per-instance endpoints, fails over when an
// instance dies, revalidates stale documents with a 304 from tributary and
// serves its copy when no instance answers.
func TestNginxFront(t *testing.T) {
	feeds := todayNewsServer(t)
	ds, addrs := sharedInstances(t, feeds.URL)
	a, b, addrA, addrB := ds[0], ds[1], addrs[0], addrs[1]
	front := startNginx(t, []string{addrA, addrB})

	first := frontGet(t, front+"/feeds/all.atom")
	if first.code != http.StatusOK || first.cacheStatus != "MISS" || first.etag == "" {
		t.Fatalf("first GET: %d, X-Cache-Status %q, ETag %q", first.code, first.cacheStatus, first.etag)
	}
	t.Run("every instance answers the cached document", func(t *testing.T) {
		for _, addr := range addrs {
			r := frontGet(t, "http://"+addr+"/feeds/all.atom")
			if r.code != http.StatusOK || r.etag != first.etag || !bytes.Equal(r.body, first.body) {
				t.Errorf("instance %s: %d, ETag %q (front %q), same body %v", addr, r.code, r.etag, first.etag, bytes.Equal(r.body, first.body))
			}
		}
	})
	t.Run("cached hit", func(t *testing.T) {
		again := frontGet(t, front+"/feeds/all.atom")
		if again.cacheStatus != "HIT" || again.etag != first.etag || !bytes.Equal(again.body, first.body) {
			t.Errorf("second GET: X-Cache-Status %q, ETag %q (first %q), same body %v", again.cacheStatus, again.etag, first.etag, bytes.Equal(again.body, first.body))
		}
		if again.cacheControl != "public, max-age=60" || again.vary != "Accept-Encoding" {
			t.Errorf("Cache-Control %q, Vary %q: want tributary's", again.cacheControl, again.vary)
		}
	})
	t.Run("conditional request answered from the cache", func(t *testing.T) {
		r := frontGet(t, front+"/feeds/all.atom", "If-None-Match", first.etag)
		if r.code != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("GET with If-None-Match: %d, %d bytes; want 304, none", r.code, len(r.body))
		}
	})
	t.Run("gzip passed through as its own variant", func(t *testing.T) {
		var gzTag string
		for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8"} {
			r := frontGet(t, front+"/feeds/all.atom", "Accept-Encoding", ae)
			gzTag = cmp.Or(gzTag, r.etag)
			if r.code != http.StatusOK || r.encoding != "gzip" || !strings.HasSuffix(r.etag, `-gz"`) || r.etag != gzTag {
				t.Errorf("Accept-Encoding %q: %d, Content-Encoding %q, ETag %q; want the one gzip variant", ae, r.code, r.encoding, r.etag)
			}
		}
		if r := frontGet(t, front+"/feeds/all.atom", "Accept-Encoding", "gzip, deflate"); r.cacheStatus != "HIT" {
			t.Errorf("another spelling of gzip: X-Cache-Status %q, want HIT on the gzip variant", r.cacheStatus)
		}
		if r := frontGet(t, front+"/feeds/all.atom", "Accept-Encoding", "identity"); r.encoding != "" || !bytes.Equal(r.body, first.body) {
			t.Errorf("identity after gzip: Content-Encoding %q, plain body %v", r.encoding, bytes.Equal(r.body, first.body))
		}
	})
	t.Run("per-instance endpoints refused", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/status"} {
			if r := frontGet(t, front+path); r.code != http.StatusForbidden {
				t.Errorf("GET %s through the front: %d, want 403", path, r.code)
			}
		}
		if r := frontGet(t, front+"/healthz"); r.code != http.StatusOK || r.cacheStatus != "" {
			t.Errorf("GET /healthz: %d, X-Cache-Status %q; want 200, not cached", r.code, r.cacheStatus)
		}
	})
	t.Run("failover when an instance dies", func(t *testing.T) {
		if err := a.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-a.done
		for i := 1; i <= 6; i++ { // uncached URLs: each goes to an instance
			if r := frontGet(t, fmt.Sprintf("%s/feeds/all.rss?limit=%d", front, i)); r.code != http.StatusOK || r.cacheStatus != "MISS" {
				t.Errorf("GET all.rss?limit=%d with one instance dead: %d, X-Cache-Status %q", i, r.code, r.cacheStatus)
			}
		}
	})

	// A front whose documents go stale after a second instead of
	// tributary's minute, in front of the live instance.
	short := startNginx(t, []string{addrB}, "        proxy_ignore_headers Vary;",
		"        proxy_ignore_headers Vary Cache-Control Expires;\n        proxy_cache_valid 200 1s;")
	doc := frontGet(t, short+"/feeds/world.atom")
	t.Run("stale document revalidated with a 304", func(t *testing.T) {
		before := metric304(t, addrB)
		waitFor(t, 20*time.Second, "a revalidation", func() bool {
			r := frontGet(t, short+"/feeds/world.atom")
			if r.code != http.StatusOK || !bytes.Equal(r.body, doc.body) {
				t.Fatalf("GET during revalidation: %d, same body %v", r.code, bytes.Equal(r.body, doc.body))
			}
			return metric304(t, addrB) != before
		})
	})
	t.Run("stale copy served when no instance answers", func(t *testing.T) {
		if err := b.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-b.done
		waitFor(t, 20*time.Second, "a stale answer", func() bool {
			r := frontGet(t, short+"/feeds/world.atom")
			if r.code != http.StatusOK || !bytes.Equal(r.body, doc.body) {
				t.Fatalf("GET with every instance dead: %d, same body %v", r.code, bytes.Equal(r.body, doc.body))
			}
			return r.cacheStatus == "STALE"
		})
	})
}
