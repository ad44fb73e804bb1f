package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// bigFeedItems is the number of items of bigFeed.
	bigFeedItems = 400
	// bigFeedWords is the number of words of an item's text: about 12 KB.
	bigFeedWords = 2000
)

// bigFeedStart is the publication time of the oldest item of bigFeed; the
// others follow a minute apart.
var bigFeedStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// bigFeed returns an RSS feed of bigFeedItems distinct items of about
// 12 KB of text each, made of words drawn from a fixed vocabulary.
func bigFeed() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 3000)
	for i := range vocab {
		var w strings.Builder
		for range 3 + rng.IntN(6) {
			w.WriteByte(byte('a' + rng.IntN(26)))
		}
		vocab[i] = w.String()
	}
	words := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(out, " ")
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title><link>https://big.example/</link><description>Big articles</description>`)
	for i := range bigFeedItems {
		fmt.Fprintf(&b, "<item><title>%s</title><link>https://big.example/a/%d</link><guid>https://big.example/a/%d</guid><pubDate>%s</pubDate><description>%s</description></item>",
			words(8), i, i, bigFeedStart.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z), words(bigFeedWords))
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

// forgedCursor is a ?before= cursor no stored entry has: the time of item
// i of bigFeed with an ID below every real one. It selects the page that
// starts at item i-1.
func forgedCursor(i int, salt byte) string {
	c := make([]byte, 40)
	binary.BigEndian.PutUint64(c, uint64(bigFeedStart.Add(time.Duration(i)*time.Minute).UnixNano()))
	c[9] = salt
	return base64.RawURLEncoding.EncodeToString(c)
}

// TestForgedCursorsMemory measures the memory of a real serve on a
// category of 400 articles of 12 KB asked for 300 archive pages of 200
// entries with forged cursors, each selecting another page. It runs only
// when $TRIBUTARY_MEMORY_BIN names a tributary binary (built without the
// race detector, whose memory would swamp the figure):
//
//	go build -o /tmp/tributary ./cmd/tributary
//	TRIBUTARY_MEMORY_BIN=/tmp/tributary go test -run TestForgedCursorsMemory -v ./cmd/tributary/
func TestForgedCursorsMemory(t *testing.T) {
	bin := os.Getenv("TRIBUTARY_MEMORY_BIN")
	if bin == "" {
		t.Skip("set TRIBUTARY_MEMORY_BIN to a tributary binary to measure")
	}
	body := bigFeed()
	feeds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(body)
	}))
	t.Cleanup(feeds.Close)
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf("listen: %s\ndata_dir: %s\nschedule: \"@every 1h\"\nretention: {max_age: 87600h}\n"+
		"feeds:\n  - url: %s/big.rss\n    categories: [Big]\n", addr, filepath.Join(dir, "data"), feeds.URL))
	fetch := exec.CommandContext(t.Context(), bin, "fetch", "-config", cfg)
	if out, err := fetch.CombinedOutput(); err != nil || !strings.Contains(string(out), fmt.Sprintf("ok       %d ", bigFeedItems)) {
		t.Fatalf("fetch: %v\n%s", err, out)
	}
	d := startServeBin(t, bin, cfg, addr)
	base := "http://" + addr
	if code, _ := get(t, base+"/feeds/big.atom"); code != http.StatusOK {
		t.Fatalf("newest page: status %d", code)
	}
	hwm := []int64{vmHWM(t, d.cmd.Process.Pid)}
	start := time.Now()
	for i := range 300 {
		code, _ := get(t, base+"/feeds/big.atom?limit=200&before="+forgedCursor(bigFeedItems-i, byte(i)))
		if code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, code)
		}
		if i%100 == 99 {
			hwm = append(hwm, vmHWM(t, d.cmd.Process.Pid))
		}
	}
	t.Logf("serve: VmHWM %d MiB after the newest page; after 100, 200 and 300 forged cursors %d, %d, %d MiB (%v)",
		hwm[0]>>20, hwm[1]>>20, hwm[2]>>20, hwm[3]>>20, time.Since(start).Round(time.Millisecond))
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve after SIGTERM: exit %d\n%s", code, d.stderr.String())
	}
}
