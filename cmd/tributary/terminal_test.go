package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary/tributary/fetcher"
)

// TestFetchOutputHasNoControlCharacters runs "tributary fetch" against a
// server whose status line carries a terminal escape (set the window
// title, then BEL) and whose feed title carries a C1 CSI (dropped when the
// title is cleaned) and a bidi override: the fetch table shows the text
// with each control replaced, and nothing reaches the terminal raw.
func TestFetchOutputHasNoControlCharacters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feed.rss" {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, "<rss version=\"2.0\"><channel><title>Evil\u009b31m \u202eelttit</title><item><title>x</title><link>http://x.test/1</link></item></channel></rss>")
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 500 \x1b]2;pwned\x07\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		if err := buf.Flush(); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "tributary.yaml")
	writeFile(t, path, fmt.Sprintf(`data_dir: %s
feeds:
  - url: %[2]s/feed.rss
  - url: %[2]s/escape.rss
`, filepath.Join(dir, "data"), srv.URL))
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"fetch", "-config", path}, &stdout, &stderr); err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e"} {
		if strings.Contains(out+stderr.String(), bad) {
			t.Errorf("output holds %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"http status 500 \uFFFD]2;pwned\uFFFD", "Evil31m \uFFFDelttit"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\twith tab\n", "plain text\twith tab\n"},
		{"\x1b[2J\x1b]2;t\x07", "\uFFFD[2J\uFFFD]2;t\uFFFD"},
		{"cr\rover", "cr\uFFFDover"},
		{"del\x7f c1 \u0085\u009b", "del\uFFFD c1 \uFFFD\uFFFD"},
		{"bidi \u202e\u2066x\u2069", "bidi \uFFFD\uFFFDx\uFFFD"},
		{"bad \x9b utf-8 \xff", "bad \uFFFD utf-8 \uFFFD"},
		{"Привет, мир – «ok» 🙂", "Привет, мир – «ok» 🙂"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		w := bufio.NewWriter(forTerminal(forTerminal(&b)))
		fmt.Fprint(w, tc.in)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tc.want {
			t.Errorf("forTerminal(%q) wrote %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"ok\n", "\x1b]2;pwned\x07", "\u009b\u202e", "\xff\xfe", "é\t€"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		out := printable(p)
		for _, r := range string(out) {
			if isControl(r) {
				t.Fatalf("printable(%q) = %q keeps control %U", p, out, r)
			}
		}
		if !bytes.Equal(printable(out), out) {
			t.Fatalf("printable is not idempotent on %q", p)
		}
	})
}

// TestPrintSummaryKeptItems: a source that sent more than fetch.max_items
// says how many of its items were kept.
func TestPrintSummaryKeptItems(t *testing.T) {
	var b bytes.Buffer
	printSummary(&b, []fetcher.Result{{FeedURL: "http://many.test/feed", Outcome: "ok", New: 1000, Items: 100000, OverMax: 99000}}, 0)
	if !strings.Contains(b.String(), "kept 1000 of 100000 items (fetch.max_items)") {
		t.Errorf("summary lacks the kept items:\n%s", b.String())
	}
}
