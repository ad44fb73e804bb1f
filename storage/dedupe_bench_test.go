package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/story"
)

// benchPerDay is the arrival rate of the generated stores: stories per
// day of Published time. The sketch lookups of a new story read the stories
// within story.DupWindow of it, so a fixed rate makes the stores differ only in
// how much history they hold, as a real store does as it ages.
const benchPerDay = 2000

// benchWords is the vocabulary of the generated stories.
const benchWords = 5000

// benchStory returns generated story k of source feed: a title of eight
// and a text of sixty words drawn from benchWords, published k/benchPerDay
// days after the start. The same k gives the same story (a copy) under any
// feed.
func benchStory(k int, feed string) Article {
	r := rand.New(rand.NewPCG(uint64(k)*0x9e3779b97f4a7c15, uint64(k)^0xbf58476d1ce4e5b9))
	word := func() string { return fmt.Sprintf("w%x", r.IntN(benchWords)) }
	var title, text []string
	for range 8 {
		title = append(title, word())
	}
	for range 60 {
		text = append(text, word())
	}
	link := fmt.Sprintf("https://%s/story/%d", feed, k)
	return Article{
		ID:         story.ItemKey("https://"+feed+"/rss", "", link, "", ""),
		Title:      strings.Join(title, " "),
		Link:       link,
		Published:  hour(0).Add(time.Duration(k) * 24 * time.Hour / benchPerDay),
		Content:    "<p>" + strings.Join(text, " ") + "</p>",
		Categories: []Category{{Slug: fmt.Sprintf("cat%d", k%7), Name: "Cat"}},
		Source:     Source{FeedURL: "https://" + feed + "/rss", ID: feed, Title: feed},
	}
}

// benchDB returns the path of a store holding n generated stories, built
// once and cached in the temp directory across runs, by schema version
// (the build of the largest takes minutes).
func benchDB(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("tributary-bench-v3-schema%d-%d.db", schemaVersion, n))
	if _, err := os.Stat(path); err == nil {
		return path
	} else if !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	tmp := path + ".building"
	_ = os.Remove(tmp)
	s, err := Open(tmp, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	for start := 0; start < n; start += batch {
		arts := make([]Article, 0, batch)
		for k := start; k < min(start+batch, n); k++ {
			arts = append(arts, benchStory(k, fmt.Sprintf("source%d.example", k%50)))
		}
		res, err := s.SaveArticles(b.Context(), arts)
		if err != nil || res.New != len(arts) {
			b.Fatalf("build %d: %+v, %v", n, res, err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkInsertDedupe measures SaveArticles of one fetched feed of 20
// items (10 new stories, 10 copies of recent stored stories from another
// source) against stores of 10k, 100k and 1M stories. Each op is one
// SaveArticles call; the cost must not grow with the store. Besides the
// time it reports what load on the machine does not change: the process's
// CPU time, the bytes of pages each commit writes and the B+tree nodes it
// materialises, per op.
func BenchmarkInsertDedupe(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			path := benchDB(b, n)
			s, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			next := n + 1_000_000*(1+rand.IntN(1000)) // new stories, unseen in earlier runs
			copyOf := n - 1
			before, cpu := s.file.Stats().TxStats, cpuTime(b)
			for b.Loop() {
				arts := make([]Article, 0, 20)
				for range 10 {
					a := benchStory(next, "fresh.example")
					a.Published = hour(0).Add(time.Duration(n) * 24 * time.Hour / benchPerDay)
					arts = append(arts, a)
					next++
					c := benchStory(copyOf, "copies.example")
					c.Title += " | Copies"
					arts = append(arts, c)
					copyOf--
				}
				if _, err := s.SaveArticles(b.Context(), arts); err != nil {
					b.Fatal(err)
				}
			}
			after, ops := s.file.Stats().TxStats, float64(b.N)
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(time.Millisecond)/ops, "cpu-ms/op")
			b.ReportMetric(float64(after.GetPageAlloc()-before.GetPageAlloc())/1024/ops, "written-KiB/op")
			b.ReportMetric(float64(after.GetNodeCount()-before.GetNodeCount())/ops, "nodes/op")
		})
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
