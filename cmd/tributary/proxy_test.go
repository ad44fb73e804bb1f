package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestAddAndTestRulesThroughProxy: add goes through fetch.proxy with
// fetch.user_agent; test-rules through the source's own proxy (its
// password from a file) with the source's user agent. The feeds are at an
// address of TEST-NET-1 that only the loopback proxies answer for.
func TestAddAndTestRulesThroughProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s %s auth=%t", name, r.URL, r.UserAgent(), r.Header.Get("Proxy-Authorization") != ""))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Far</title><link>http://192.0.2.10/</link>`+
				`<item><title>Far item</title><guid>1</guid><link>http://192.0.2.10/1</link></item></channel></rss>`)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	global, own := proxy("global"), proxy("own")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "proxy.url"), []byte("http://bob:s3cretpw@"+own.Listener.Addr().String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf(`data_dir: %s
fetch:
  proxy: http://%s
  user_agent: global-agent/1
feeds:
  - url: http://192.0.2.10/own.xml
    proxy: file:proxy.url
    user_agent: own-agent/2
`, filepath.Join(dir, "data"), global.Listener.Addr().String()))

	if r := tributary(t, "add", "-config", cfg, "http://192.0.2.10/added.xml"); r.code != 0 {
		t.Fatalf("add: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r := tributary(t, "test-rules", "-config", cfg, "http://192.0.2.10/own.xml")
	if r.code != 0 || !strings.Contains(r.stdout, "KEEP Far item") {
		t.Fatalf("test-rules: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cretpw") {
		t.Errorf("the proxy password shows:\n%s\n%s", r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"global http://192.0.2.10/added.xml global-agent/1 auth=false",
		"own http://192.0.2.10/own.xml own-agent/2 auth=true",
	}
	if !slices.Equal(seen, want) {
		t.Errorf("the proxies saw %q, want %q", seen, want)
	}
}
