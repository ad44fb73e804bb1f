package feedout

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/tributary/tributary/storage"
)

// requireTool returns the path of tool; it skips the test when the tool is
// missing outside CI and fails it in CI (the CI environment variable set).
func requireTool(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "" {
		t.Skipf("%s not available: %v", tool, err)
	}
	t.Fatalf("%s not available in CI: %v", tool, err)
	return ""
}

// liveServer serves a handler over a real store, with BaseURL its own
// address: World (23 articles), Science (2) and the empty Sports. wrap,
// when not nil, wraps the handler.
func liveServer(t *testing.T, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(t, func() time.Time { return clock })
	world := storage.Category{Slug: "world", Name: "World"}
	science := storage.Category{Slug: "science", Name: "Science & Health"}
	saveAll(t, store, append(seqArticles(0, 23, world), seqArticles(100, 2, science)...))
	h := NewHandler(store, Options{
		Title:      "Today News",
		BaseURL:    "http://" + ln.Addr().String(),
		Hub:        "http://" + ln.Addr().String() + "/websub", // readers must cope with rel="hub"
		PageSize:   5,
		Categories: []storage.Category{world, science, {Slug: "sports", Name: "Sports"}},
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	if wrap != nil {
		h = wrap(h)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// chromium runs headless Chromium with args and the URL, with a fresh
// profile and no network access but to the URL; it returns stdout.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	out, _ := chromiumLogged(t, args...)
	return out
}

// chromiumLogged is chromium that also returns Chromium's log on stderr,
// where the pages' console messages appear with --enable-logging=stderr.
func chromiumLogged(t *testing.T, args ...string) (stdout, stderr []byte) {
	t.Helper()
	bin := requireTool(t, "chromium")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errBuf.Bytes())
	}
	return out, errBuf.Bytes()
}

// visible is what a person sees of a rendered DOM: the text of every
// element outside head, script and style, whitespace collapsed.
func visible(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && slices.Contains([]string{"head", "script", "style"}, n.Data) {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// find returns every element of n named tag.
func find(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

// attr returns the attribute key of n.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// dumpDOM loads url in Chromium and parses the DOM after rendering. Any
// Content-Security-Policy violation logged to the console fails the test:
// the page would not look as designed.
func dumpDOM(t *testing.T, url string) *html.Node {
	t.Helper()
	out, log := chromiumLogged(t, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	for line := range strings.Lines(string(log)) {
		if strings.Contains(line, "CONSOLE") && strings.Contains(line, "Content Security Policy") {
			t.Errorf("%s: CSP violation: %s", url, line)
		}
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestPagesInChromium(t *testing.T) {
	t.Parallel()
	srv := liveServer(t, nil)

	t.Run("index", func(t *testing.T) {
		doc := dumpDOM(t, srv.URL+"/")
		text := visible(doc)
		for _, want := range []string{
			"Today News",
			"All sources 25 entries · updated 2 Mar 2026, 10:00 UTC Atom RSS JSON Feed",
			"Science & Health 2 entries · updated 2 Mar 2026, 10:00 UTC Atom RSS JSON Feed",
			"Sports 0 entries · no entries yet Atom RSS JSON Feed",
			"World 23 entries · updated 2 Mar 2026, 10:00 UTC Atom RSS JSON Feed",
			"import them all with OPML",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("index does not show %q; it shows:\n%s", want, text)
			}
		}
		var alternates []string
		for _, l := range find(doc, "link") {
			if attr(l, "rel") == "alternate" {
				alternates = append(alternates, attr(l, "type")+" "+strings.TrimPrefix(attr(l, "href"), srv.URL))
			}
		}
		if len(alternates) != 12 || alternates[0] != "application/atom+xml /feeds/all.atom" {
			t.Errorf("autodiscovery links: %q", alternates)
		}
		if s := find(doc, "script"); len(s) != 0 {
			t.Errorf("index has %d scripts; it must work without JavaScript", len(s))
		}
		var hrefs []string
		for _, a := range find(doc, "a") {
			hrefs = append(hrefs, strings.TrimPrefix(attr(a, "href"), srv.URL))
		}
		for _, want := range []string{"/c/world", "/feeds/world.atom", "/feeds/world.rss", "/feeds/world.json", "/opml"} {
			if !slices.Contains(hrefs, want) {
				t.Errorf("index lacks a link to %s", want)
			}
		}
	})

	t.Run("category page", func(t *testing.T) {
		doc := dumpDOM(t, srv.URL+"/c/world")
		text := visible(doc)
		for _, want := range []string{
			"Today News World 23 entries",
			"Story 22: markets & <policy> Source 1 · 1 Mar 2026, 00:22 UTC · Reporter Paragraph 22 with a link & more text to read.",
			"Story 18: markets & <policy>",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("category page does not show %q; it shows:\n%s", want, text)
			}
		}
		if strings.Contains(text, "Story 17:") {
			t.Error("category page shows more than a page of entries")
		}
		h2 := find(doc, "h2")
		if len(h2) != 5 || attr(find(h2[0], "a")[0], "href") != "https://src1.example/story/22" {
			t.Errorf("%d entry headings; the first must link to the original", len(h2))
		}
	})

	t.Run("phone screenshot", func(t *testing.T) {
		dir := os.Getenv("TRIBUTARY_SCREENSHOT_DIR")
		if dir == "" {
			dir = t.TempDir()
		}
		for _, page := range []struct{ name, path string }{{"index", "/"}, {"category", "/c/world"}} {
			file := filepath.Join(dir, page.name+"-phone.png")
			chromium(t, "--screenshot="+file, "--window-size=390,844", srv.URL+page.path)
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if b := img.Bounds(); b.Dx() != 390 || b.Dy() != 844 {
				t.Errorf("%s is %dx%d, want 390x844", file, b.Dx(), b.Dy())
			}
			colors := map[uint32]bool{}
			for y := 0; y < 844; y += 4 {
				for x := 0; x < 390; x += 4 {
					r, g, b, _ := img.At(x, y).RGBA()
					colors[r>>8<<16|g>>8<<8|b>>8] = true
				}
			}
			if len(colors) < 8 {
				t.Errorf("%s has %d colours: a blank page?", file, len(colors))
			}
		}
	})
}
