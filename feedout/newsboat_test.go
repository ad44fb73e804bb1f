package feedout

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNewsboatImportsOPML has newsboat import /opml from a live server,
// then reload every feed non-interactively: it must fetch every category's
// feed with success and count the unread entries of all of them.
func TestNewsboatImportsOPML(t *testing.T) {
	t.Parallel()
	bin := requireTool(t, "newsboat")
	var mu sync.Mutex
	var fetched []string
	srv := liveServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			fetched = append(fetched, r.Method+" "+r.URL.RequestURI())
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})

	dir := t.TempDir()
	opml := filepath.Join(dir, "tributary.opml")
	resp, err := http.Get(srv.URL + "/opml")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /opml: %d %v", resp.StatusCode, err)
	}
	if err := os.WriteFile(opml, body, 0o644); err != nil {
		t.Fatal(err)
	}
	urls, cache, config := filepath.Join(dir, "urls"), filepath.Join(dir, "cache.db"), filepath.Join(dir, "config")
	for _, f := range []string{urls, config} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"-u", urls, "-c", cache, "-C", config}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir, "TERM=dumb")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("newsboat %v: %v\n%s", args, err, out.Bytes())
		}
		return out.String()
	}

	run("-i", opml)
	imported, err := os.ReadFile(urls)
	if err != nil {
		t.Fatal(err)
	}
	var gotURLs []string
	for line := range strings.Lines(string(imported)) {
		if f := strings.Fields(line); len(f) > 0 {
			gotURLs = append(gotURLs, strings.TrimPrefix(f[0], srv.URL))
		}
	}
	slices.Sort(gotURLs)
	wantURLs := []string{"/feeds/all.atom", "/feeds/science.atom", "/feeds/sports.atom", "/feeds/world.atom"}
	if diff := cmp.Diff(wantURLs, gotURLs); diff != "" {
		t.Fatalf("imported urls (-want +got):\n%s", diff)
	}

	run("-x", "reload")
	// Page size 5: all holds 101, 100, 22, 21, 20; world 22…18; science
	// 101, 100; sports nothing. newsboat counts a guid once: 7.
	if got := strings.TrimSpace(run("-x", "print-unread")); got != "7 unread articles" {
		t.Errorf("print-unread = %q, want 7 unread articles", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range wantURLs {
		if !slices.Contains(fetched, "GET "+u) {
			t.Errorf("newsboat did not fetch %s; requests: %q", u, fetched)
		}
	}
}
