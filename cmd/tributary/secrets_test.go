package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/status"
)

// secretFeed is an RSS feed with relative links, resolved against the URL
// it is fetched from.
const secretFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Members</title><link>/</link><description>members only</description>
<item><title>%[1]s story</title><link>/%[1]s/1</link><guid isPermaLink="false">%[1]s-1</guid>
<description>&lt;a href="/more"&gt;more&lt;/a&gt;</description></item>
</channel></rss>`

// secretServer serves secretFeed on /feed to alice:s3cretpw with
// token=tok123, on /authed to bob (auth: password_file) with the header
// X-Api-Key: hdr-secret, and a 500 on /broken.
func secretServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		switch {
		case r.URL.Path == "/feed" && user == "alice" && pw == "s3cretpw" && r.URL.Query().Get("token") == "tok123":
			fmt.Fprintf(w, secretFeed, "alice")
		case r.URL.Path == "/authed" && user == "bob" && pw == "pw-from-file" && r.Header.Get("X-Api-Key") == "hdr-secret":
			fmt.Fprintf(w, secretFeed, "bob")
		case r.URL.Path == "/broken":
			http.Error(w, "broken", http.StatusInternalServerError)
		default:
			http.Error(w, "who are you?", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSecretsNeverShown configures sources whose URL carries a password
// and a token, one of them failing, and one with auth, a header from the
// environment and a public_url; runs tributary fetch, stats and serve; and
// checks that no output, log, document, /status or /metrics shows a
// secret.
func TestSecretsNeverShown(t *testing.T) {
	srv := secretServer(t)
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bob.password"), "pw-from-file\n")
	t.Setenv("TRIBUTARY_TEST_API_KEY", "hdr-secret")
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf(`title: Members
listen: %[2]s
data_dir: %[3]s
schedule: "@every 1h"
fetch:
  host_interval: 0s
feeds:
  - url: http://alice:s3cretpw@%[1]s/feed?token=tok123
    categories: [Private]
  - url: http://alice:s3cretpw@%[1]s/broken?token=tok123
    categories: [Private]
  - url: http://%[1]s/authed
    categories: [Private]
    public_url: https://members.example/feed
    auth: {username: bob, password_file: bob.password}
    headers:
      X-Api-Key: env:TRIBUTARY_TEST_API_KEY
`, hostPort, addr, filepath.Join(dir, "data")))

	shown := map[string]string{}
	d := startServe(t, cfg, addr)
	base := "http://" + addr
	waitForPass(t, base)
	for _, path := range []string{"/feeds/private.atom", "/feeds/private.rss", "/feeds/private.json", "/c/private", "/status", "/metrics"} {
		code, body := get(t, base+path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
		shown["GET "+path] = body
	}
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve after SIGTERM: exit %d\n%s", code, d.stderr.String())
	}
	shown["serve logs"] = d.stderr.String()

	fetch := tributary(t, "fetch", "-config", cfg, "-log-level", "debug")
	if fetch.code != 0 {
		t.Fatalf("fetch: exit %d\n%s\n%s", fetch.code, fetch.stdout, fetch.stderr)
	}
	if !strings.Contains(fetch.stdout, "3 sources: 0 ok, 2 not modified, 1 failed") {
		t.Errorf("fetch did not reach the private sources:\n%s", fetch.stdout)
	}
	shown["fetch output"], shown["fetch logs"] = fetch.stdout, fetch.stderr
	stats := tributary(t, "stats", "-config", cfg)
	shown["stats"] = stats.stdout + stats.stderr

	for what, text := range shown {
		for _, secret := range []string{"s3cretpw", "tok123", "alice:", "pw-from-file", "hdr-secret"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q:\n%s", what, secret, text)
			}
		}
	}
	for what, want := range map[string]string{
		"fetch output":            "/broken?token=REDACTED",
		"GET /feeds/private.atom": `<link href="https://members.example/feed" rel="self">`,
		"GET /feeds/private.rss":  `<source url="http://` + hostPort + `/feed?token=REDACTED">`,
		"GET /feeds/private.json": `"feed_url": "https://members.example/feed"`,
		"GET /status":             `"url": "http://` + hostPort + `/feed?token=REDACTED"`,
		"GET /metrics":            `url="http://` + hostPort + `/broken?token=REDACTED"`,
		"serve logs":              "token=REDACTED",
	} {
		if !strings.Contains(shown[what], want) {
			t.Errorf("%s lacks %s:\n%s", what, want, shown[what])
		}
	}
}

// waitForPass polls /status until every source was fetched once.
func waitForPass(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, base+"/status")
		var rep status.Report
		if code == http.StatusOK && json.Unmarshal([]byte(body), &rep) == nil && !slices.ContainsFunc(rep.Sources, func(e status.Entry) bool {
			return e.Outcome == status.OutcomeNever
		}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's first pass did not end within 30s:\n%d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
