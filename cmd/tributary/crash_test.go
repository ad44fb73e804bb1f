package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
)

// churnFeeds serves feeds whose items slide on every request: request n of
// a feed lists items n…n+window-1, so each fetch brings new items and
// drops old ones. It records which GUIDs it served during each run.
type churnFeeds struct {
	mu     sync.Mutex
	run    int
	hits   map[string]int
	served map[int]map[string]bool // run → GUIDs served in it
}

const (
	churnFeedCount = 8
	churnWindow    = 6
)

func (c *churnFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	n := c.hits[r.URL.Path]
	c.hits[r.URL.Path]++
	run := c.run
	if c.served[run] == nil {
		c.served[run] = map[string]bool{}
	}
	var items strings.Builder
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := n; k < n+churnWindow; k++ {
		guid := fmt.Sprintf("%s-%d", strings.Trim(r.URL.Path, "/"), k)
		c.served[run][guid] = true
		fmt.Fprintf(&items, `<item><title>Item %[1]s (seen %[2]d)</title><link>https://churn.example/%[1]s</link>
<guid isPermaLink="false">%[1]s</guid><pubDate>%[3]s</pubDate><description>%[4]s</description></item>
`, guid, n-k+churnWindow, base.Add(time.Duration(k)*time.Minute).Format(time.RFC1123Z), strings.Repeat("text ", 50))
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title>
<link>https://churn.example/</link><description>churn</description>
%s</channel></rss>`, r.URL.Path, items.String())
}

// startRun marks the start of a new fetch run and returns its number.
func (c *churnFeeds) startRun() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.run++
	return c.run
}

func (c *churnFeeds) servedIn(run int) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served[run]
}

// TestCrashSafety kills "tributary fetch" with SIGKILL at random moments
// while it stores sliding feeds: every reopen succeeds, the indexes agree
// with the articles, nothing a completed fetch stored is lost and no item
// is stored twice.
func TestCrashSafety(t *testing.T) {
	feeds := &churnFeeds{hits: map[string]int{}, served: map[int]map[string]bool{}}
	srv := newTestServer(t, feeds)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	var src strings.Builder
	fmt.Fprintf(&src, "data_dir: %s\nretention:\n  max_age: 87600h\n  max_per_category: 100000\nfetch:\n  concurrency: 4\n  per_host: 4\nfeeds:\n", filepath.Join(dir, "data"))
	for i := range churnFeedCount {
		fmt.Fprintf(&src, "  - url: %s/feed%d.rss\n    categories: [Churn %d, Everything]\n", srv.URL, i, i%3)
	}
	writeFile(t, cfg, src.String())
	db := filepath.Join(dir, "data", dbFile)

	committed := map[string]bool{}
	var runTime time.Duration
	kills, completed, midFetch := 0, 0, 0
	for i := 0; kills < 20 || completed < 3; i++ {
		if i > 200 {
			t.Fatalf("only %d kills and %d completed runs in %d runs", kills, completed, i)
		}
		run := feeds.startRun()
		cmd := exec.Command(binPath, "fetch", "-config", cfg)
		var stderr syncBuffer
		stderr.mu = make(chan struct{}, 1)
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var delay time.Duration
		if runTime > 0 && i%4 != 3 { // every fourth run may complete
			// Most of a run is process start-up: aim at its second half,
			// where the fetches and the writes happen.
			delay = runTime/3 + rand.N(runTime*2/3)
		} else {
			delay = time.Minute
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
		}
		if exitErr, ok := errors.AsType[*exec.ExitError](err); ok && exitErr.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
			kills++
			if len(feeds.servedIn(run)) > 0 {
				midFetch++
			}
		} else if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, stderr.String())
		} else {
			completed++
			// The latest full run sets the aim: the machine's load varies.
			runTime = time.Since(start)
			// A completed fetch stored everything it was served.
			for g := range feeds.servedIn(run) {
				committed[g] = true
			}
		}
		verifyStore(t, db, committed, run)
	}
	if midFetch < 10 {
		t.Errorf("only %d of %d SIGKILLs hit a run after it began fetching", midFetch, kills)
	}
	t.Logf("%d SIGKILLs (%d while fetching), %d completed runs, %d committed items, the last full run took %v", kills, midFetch, completed, len(committed), runTime)
	if r := tributary(t, "check", "-db", "-config", cfg); r.code != 0 {
		t.Fatalf("check -db: exit %d\n%s", r.code, r.stderr)
	}
}

// verifyStore reopens the database and checks it: consistent, no GUID of a
// source twice, every committed GUID present.
func verifyStore(t *testing.T, db string, committed map[string]bool, run int) {
	t.Helper()
	s, err := storage.Open(db, storage.Options{})
	if errors.Is(err, os.ErrNotExist) {
		return // killed before the file was created
	}
	if err != nil {
		t.Fatalf("after run %d: reopen: %v", run, err)
	}
	defer s.Close()
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("after run %d: %v", run, err)
	}
	arts, err := s.Latest(t.Context(), storage.AllSlug, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, a := range arts {
		key := a.Source.FeedURL + " " + a.GUID
		if have[a.GUID] {
			t.Errorf("after run %d: %s stored twice", run, key)
		}
		have[a.GUID] = true
	}
	for g := range committed {
		if !have[g] {
			t.Errorf("after run %d: committed item %s lost", run, g)
		}
	}
}
