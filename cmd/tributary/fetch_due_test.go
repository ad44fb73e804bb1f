package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary/tributary/pgtest"
)

// fetchedSources reads the number of sources of the totals line of a
// `tributary fetch` output.
func fetchedSources(t *testing.T, out string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^(\d+) sources: `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no totals line in:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestFetchDue runs `tributary fetch -due` twice on one store: the first
// run fetches every source, the second none, as none is due before the
// schedule's next run. -due with -feed is a usage error.
func TestFetchDue(t *testing.T) {
	f := newFarm(t)
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nschedule: \"@every 1h\"\nretention:\n  max_age: 87600h\nfeeds:\n", filepath.Join(dir, "data"))
	for i := range farmSources {
		fmt.Fprintf(&b, "  - url: %s%s\n    categories: [C%d]\n", f.srv.URL, farmPath(i), i%farmCategories)
	}
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, b.String())

	r := tributary(t, "fetch", "-due", "-config", cfg)
	if r.code != 0 || fetchedSources(t, r.stdout) != farmSources {
		t.Fatalf("first fetch -due: exit %d, want every source fetched\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tributary(t, "fetch", "-due", "-config", cfg)
	if r.code != 0 || fetchedSources(t, r.stdout) != 0 {
		t.Errorf("second fetch -due: exit %d, want no source fetched\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i := range farmSources {
		if c := f.count(i); c != 1 {
			t.Errorf("%s requested %d times, want once", farmPath(i), c)
		}
	}
	r = tributary(t, "fetch", "-due", "-feed", f.srv.URL+farmPath(0), "-config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "-due and -feed cannot be used together") {
		t.Errorf("fetch -due -feed: exit %d, want 2 and the reason\n%s", r.code, r.stderr)
	}
}

// TestFetchDueSharesAPass starts two `tributary fetch -due` on one
// PostgreSQL database at once, two fetches at a time each: they claim the
// sources in batches (of 4 × fetch.concurrency), so one fetches a batch
// while the other waits on a slow source of its own; every source is
// fetched once, and each instance fetches some.
func TestFetchDueSharesAPass(t *testing.T) {
	f := newFarm(t, 0) // source 0 answers once released
	dbURL := pgtest.NewDatabase(t)
	var cfgs []string
	for range 2 {
		cfg, _ := instanceConfig(t, f, dbURL)
		raw := readFile(t, cfg)
		raw = strings.Replace(raw, "  concurrency: 8\n", "  concurrency: 2\n", 1)
		writeFile(t, cfg, strings.Replace(raw, "  per_host: 8\n", "  per_host: 2\n", 1))
		cfgs = append(cfgs, cfg)
	}
	var wg sync.WaitGroup
	results := make([]result, len(cfgs))
	for i, cfg := range cfgs {
		wg.Go(func() { results[i] = tributary(t, "fetch", "-due", "-config", cfg) })
	}
	// Whichever instance claimed source 0 cannot end its first batch (the
	// first eight sources) before it is released: the other fetches the
	// next batch meanwhile.
	waitFor(t, time.Minute, "every other source to be fetched", func() bool {
		for i := 1; i < farmSources; i++ {
			if f.count(i) == 0 {
				return false
			}
		}
		return true
	})
	close(f.release)
	wg.Wait()
	total := 0
	for i, r := range results {
		n := fetchedSources(t, r.stdout)
		if r.code != 0 || n == 0 {
			t.Errorf("instance %d: exit %d, %d sources fetched; want some\n%s%s", i, r.code, n, r.stdout, r.stderr)
		}
		total += n
	}
	if total != farmSources {
		t.Errorf("the instances fetched %d sources together, want %d", total, farmSources)
	}
	for i := range farmSources {
		if c := f.count(i); c != 1 {
			t.Errorf("%s requested %d times, want once", farmPath(i), c)
		}
	}
}
