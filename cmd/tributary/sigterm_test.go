package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
)

// hugeFeed is an RSS feed of n distinct items, each with its own title and
// text, so that none is a copy of another.
func hugeFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Huge</title>
<link>https://huge.example/</link><description>huge</description>
`)
	base := time.Now().UTC().Add(-time.Hour)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Item %[1]d: %[2]x %[3]x %[4]x</title><link>https://huge.example/item/%[1]d</link>
<guid isPermaLink="false">item-%[1]d</guid><pubDate>%[5]s</pubDate><description>%[6]s</description></item>
`, i, i*7919, i*104729, i*1299709, base.Add(-time.Duration(i)*time.Second).Format(time.RFC1123Z), strings.Repeat(fmt.Sprintf("w%x ", i*31), 12))
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

// TestFetchSIGTERMMidSave sends SIGTERM to "tributary fetch" while it stores
// an 8,000-item feed, eight transactions long, once the first one is
// committed: the process exits after the transaction under way, reporting
// the interruption; the database checks out and holds whole transactions
// of the feed's articles, not all of them, and no state for the source, so
// the next fetch gets the whole feed again.
func TestFetchSIGTERMMidSave(t *testing.T) {
	const items = 8_000
	body := hugeFeed(items)
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("ETag", `"huge"`)
		_, _ = w.Write(body)
	}))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	feedURL := srv.URL + "/huge.rss"
	writeFile(t, cfg, fmt.Sprintf(`data_dir: %s
fetch:
  max_items: 100000
  max_body: 100MB
  timeout: 10m
feeds:
  - url: %s
    categories: [World]
`, dir, feedURL))

	cmd := exec.CommandContext(t.Context(), binPath, "fetch", "-config", cfg, "-log-level", "debug")
	cmd.Env = append(os.Environ(), "TRIBUTARY_CONFIG=")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && !strings.Contains(lines.Text(), "saving articles") {
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		for lines.Scan() { // drain, so that the process never blocks on stderr
		}
	}()
	waitCommitted(t, filepath.Join(dir, "tributary.db"))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	<-logDone
	err = cmd.Wait()
	took := time.Since(sent)
	t.Logf("exited %v after SIGTERM: %v\n%s", took, err, stdout.String())
	if exitErr, ok := errors.AsType[*exec.ExitError](err); !ok || exitErr.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1 (fetch interrupted)", err)
	}
	// The save stops at its next transaction: a transaction of
	// storage.SaveChunk new articles takes about a second without the race
	// detector, several with it on a shared machine; the whole feed takes
	// a minute or more there.
	if took > 30*time.Second {
		t.Errorf("fetch took %v to exit after SIGTERM, want one transaction's time", took)
	}
	if !strings.Contains(stdout.String(), "canceled") {
		t.Errorf("summary does not report the cancelled fetch:\n%s", stdout.String())
	}
	checkInterruptedSave(t, cfg, dir, feedURL, storage.SaveChunk, items)
}

// waitCommitted waits until the database file at path holds a committed
// transaction of articles (it grows past 1 MB), polling every 10 ms for at
// most two minutes.
func waitCommitted(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 1<<20 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: no transaction committed within two minutes", path)
}

// TestServeSIGTERMMidSave sends SIGTERM to "tributary serve" while its
// first pass stores a 100,000-item feed, a hundred transactions long, once
// some of them are committed: serve cancels the pass at once, the save
// ends with the transaction under way, and the daemon exits 0 within
// seconds; the database checks out and keeps every article committed
// before the signal, in whole transactions, and no state for the source,
// so the next pass gets the whole feed again. The daemon is built without
// the race detector, which makes a transaction three times slower and
// adds a second to the exit of a process of that size: the figure is the
// one an operator sees.
func TestServeSIGTERMMidSave(t *testing.T) {
	const items = 100_000
	bin := plainBinary(t)
	body := hugeFeed(items)
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(body)
	}))
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "tributary.yaml")
	feedURL := srv.URL + "/huge.rss"
	writeFile(t, cfg, fmt.Sprintf(`listen: %s
data_dir: %s
fetch:
  max_items: 200000
  max_body: 200MB
  timeout: 10m
feeds:
  - url: %s
    categories: [World]
`, addr, dir, feedURL))
	d := startServeBin(t, bin, cfg, addr)

	// Wait for committed transactions, as the daemon itself counts them;
	// parsing the feed takes a while with the race detector.
	before := 0
	for deadline := time.Now().Add(2 * time.Minute); before < storage.SaveChunk; {
		if time.Now().After(deadline) {
			t.Fatalf("no transaction of the feed committed within two minutes\n%s", d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
		before = articlesMetric(t, "http://"+addr+"/metrics")
	}
	code, took := d.stop(t, syscall.SIGTERM)
	t.Logf("exited %d after %v with %d articles committed before SIGTERM\n%s", code, took, before, d.stderr.String())
	if code != 0 {
		t.Errorf("serve after SIGTERM mid-save: exit %d, want 0\n%s", code, d.stderr.String())
	}
	if took > 3*time.Second {
		t.Errorf("serve took %v to exit after SIGTERM mid-save, want at most 3s", took)
	}
	checkInterruptedSave(t, cfg, dir, feedURL, before, items)
}

// checkInterruptedSave checks the store in dir after a save of the feed
// at feedURL (items new items) was interrupted: check -db passes, at least
// the before articles committed are there, in whole transactions, and the
// source's state is not stored, so that the next fetch gets the whole feed.
func checkInterruptedSave(t *testing.T, cfg, dir, feedURL string, before, items int) {
	t.Helper()
	if r := tributary(t, "check", "-config", cfg, "-db"); r.code != 0 {
		t.Fatalf("check -db after SIGTERM: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	store, err := storage.Open(filepath.Join(dir, "tributary.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	counts, err := store.SourceArticleCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := counts[feedURL]; n < before || n >= items || n%storage.SaveChunk != 0 {
		t.Errorf("%d articles stored, want the %d committed before SIGTERM or more, in whole transactions of %d, fewer than %d",
			n, before, storage.SaveChunk, items)
	}
	if _, ok, err := store.SourceState(t.Context(), feedURL); ok || err != nil {
		t.Errorf("source state stored after an interrupted save (err %v): the next fetch would not get the whole feed", err)
	}
}

// articlesMetric returns the value of tributary_articles{category="all"}
// on the metrics page at url, 0 when it is missing.
func articlesMetric(t *testing.T, url string) int {
	t.Helper()
	_, page := get(t, url)
	for line := range strings.Lines(page) {
		if v, ok := strings.CutPrefix(line, `tributary_articles{category="all"} `); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return n
		}
	}
	return 0
}

// plainBinary builds tributary without the race detector into a directory
// of t and returns its path.
func plainBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tributary")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build tributary: %v\n%s", err, out)
	}
	return bin
}
