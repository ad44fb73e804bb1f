// Command ingest measures a first ingest by tributary against the floor:
// the same feeds fetched over HTTP and parsed with bare gofeed, storing
// nothing, at the same concurrency.
//
//	go run ./bench/ingest [-feeds 2000] [-items 50] [-categories 20] [-concurrency 16] [-rounds 3] [-steady=true]
//
// It generates the set in-process (RSS 2.0, Atom, RSS 1.0 and JSON Feed in
// turn; HTML bodies with figures, links and hostile markup; a tenth of each
// feed's items republished by a sibling feed under its own links) and serves
// it from a loopback server on one host. Each round runs, as child
// processes: the floor (this program again, with -floor), then `tributary
// fetch` (built from this tree) on a generated config into an empty
// data_dir, then with -steady a second `tributary fetch` on the same store,
// where every feed answers 304. For each child it reports the wall time and
// the peak RssAnon (anonymous resident memory: the heap and stacks, not the
// mapped database file), sampled from /proc/PID/status every 10 ms.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mmcdole/gofeed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// Usage was printed.
	case err != nil:
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	feeds, items, categories, concurrency, rounds int
	steady, floorOnly                             bool
	base                                          string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.IntVar(&o.feeds, "feeds", 2000, "number of generated feeds")
	fs.IntVar(&o.items, "items", 50, "items per feed")
	fs.IntVar(&o.categories, "categories", 20, "categories the feeds are filed in")
	fs.IntVar(&o.concurrency, "concurrency", 16, "fetches in flight, for both the floor and tributary")
	fs.IntVar(&o.rounds, "rounds", 3, "alternating rounds of floor and tributary")
	fs.BoolVar(&o.steady, "steady", true, "also time a second tributary pass, where every feed answers 304")
	fs.BoolVar(&o.floorOnly, "floor", false, "internal: be the floor child, fetching and parsing from -base")
	fs.StringVar(&o.base, "base", "", "internal: base URL of the farm, for -floor")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.floorOnly {
		return floor(ctx, o)
	}
	return compare(ctx, o, stdout)
}

// floor fetches every feed of the farm at o.base and parses it with gofeed,
// o.concurrency at a time, and stores nothing.
func floor(ctx context.Context, o options) error {
	next := make(chan int)
	errs := make(chan error, o.feeds)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			p := gofeed.NewParser()
			for n := range next {
				if err := fetchParse(ctx, p, fmt.Sprintf("%s/feed/%d", o.base, n), o.items); err != nil {
					errs <- err
				}
			}
		})
	}
	for n := range o.feeds {
		next <- n
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// fetchParse downloads one feed and parses it, checking its item count.
func fetchParse(ctx context.Context, p *gofeed.Parser, url string, items int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	feed, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("parse %s: %w", url, err)
	}
	if len(feed.Items) != items {
		return fmt.Errorf("parse %s: %d items, want %d", url, len(feed.Items), items)
	}
	return nil
}

// compare builds the farm, serves it, builds tributary and runs the rounds.
func compare(ctx context.Context, o options, stdout io.Writer) error {
	fm := buildFarm(o.feeds, o.items, time.Now().UTC())
	srv := httptest.NewServer(fm)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "tributary-bench-ingest-")
	if err != nil {
		return fmt.Errorf("make work dir: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "tributary")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tributary").CombinedOutput(); err != nil {
		return fmt.Errorf("build tributary: %w\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	fmt.Fprintf(stdout, "set: %d feeds × %d items (%.1f MB), %d categories, concurrency %d, one loopback host\n",
		o.feeds, o.items, float64(fm.bytes)/(1<<20), o.categories, o.concurrency)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tfloor s\tfloor MB\ttributary s\ttributary MB\tratio\tsteady s\tsteady MB\t")
	var ratios []float64
	for r := range o.rounds {
		fl, err := measure(ctx, exec.CommandContext(ctx, self, "-floor", "-base", srv.URL,
			"-feeds", strconv.Itoa(o.feeds), "-items", strconv.Itoa(o.items), "-concurrency", strconv.Itoa(o.concurrency)))
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		data := filepath.Join(dir, fmt.Sprintf("round-%d", r))
		cfgPath, err := writeConfig(data, srv.URL, o)
		if err != nil {
			return err
		}
		tr, err := measureFetch(ctx, bin, cfgPath, o.feeds*o.items/2)
		if err != nil {
			return fmt.Errorf("tributary fetch: %w", err)
		}
		steady := "-\t-"
		if o.steady {
			st, err := measureFetch(ctx, bin, cfgPath, 0)
			if err != nil {
				return fmt.Errorf("tributary steady fetch: %w", err)
			}
			steady = fmt.Sprintf("%.2f\t%.0f", st.wall.Seconds(), st.peakMB())
		}
		ratio := tr.wall.Seconds() / fl.wall.Seconds()
		ratios = append(ratios, ratio)
		fmt.Fprintf(tw, "%d\t%.2f\t%.0f\t%.2f\t%.0f\t%.1f×\t%s\t\n", r+1, fl.wall.Seconds(), fl.peakMB(),
			tr.wall.Seconds(), tr.peakMB(), ratio, steady)
		tw.Flush()
		if err := os.RemoveAll(data); err != nil {
			return fmt.Errorf("remove %s: %w", data, err)
		}
	}
	slices.Sort(ratios)
	fmt.Fprintf(stdout, "median ratio tributary/floor: %.1f×\n", ratios[len(ratios)/2])
	return nil
}

// measureFetch runs `tributary fetch` on cfgPath and checks that at least
// wantNew articles were stored (none, and every source not modified, when
// wantNew is 0).
func measureFetch(ctx context.Context, bin, cfgPath string, wantNew int) (usage, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "fetch", "-config", cfgPath)
	cmd.Stdout = &out
	u, err := measure(ctx, cmd)
	if err != nil {
		return u, err
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	total := lines[len(lines)-1]
	var sources, ok, notModified, failed, added int
	if _, err := fmt.Sscanf(total, "%d sources: %d ok, %d not modified, %d failed; articles: %d new",
		&sources, &ok, &notModified, &failed, &added); err != nil {
		return u, fmt.Errorf("read summary %q: %w", total, err)
	}
	switch {
	case failed > 0:
		return u, fmt.Errorf("%d sources failed: %s", failed, total)
	case wantNew == 0 && notModified != sources:
		return u, fmt.Errorf("steady pass: %s", total)
	case added < wantNew:
		return u, fmt.Errorf("only %d new articles: %s", added, total)
	}
	return u, nil
}

// writeConfig writes the config of one round: every feed of the farm, filed
// in o.categories categories, with no per-host limit below the concurrency.
func writeConfig(dataDir, base string, o options) (string, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("make %s: %w", dataDir, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nfetch:\n  concurrency: %d\n  per_host: %d\n  host_interval: 0s\n  timeout: 5m\nlog:\n  level: warn\nfeeds:\n",
		dataDir, o.concurrency, o.concurrency)
	for n := range o.feeds {
		fmt.Fprintf(&b, "  - url: %s/feed/%d\n    categories: [Category %d]\n", base, n, n%o.categories)
	}
	path := filepath.Join(dataDir, "tributary.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return path, nil
}

// usage is what one child process took.
type usage struct {
	wall time.Duration
	// peakAnon is the largest RssAnon sampled, in kB.
	peakAnon int
}

func (u usage) peakMB() float64 { return float64(u.peakAnon) / 1024 }

// measure runs cmd to its end, sampling its RssAnon every 10 ms.
func measure(ctx context.Context, cmd *exec.Cmd) (usage, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	done := make(chan struct{})
	peak := make(chan int)
	go func() { peak <- sample(ctx, cmd.Process.Pid, done) }()
	err := cmd.Wait()
	u := usage{wall: time.Since(start)}
	close(done)
	u.peakAnon = <-peak
	if err != nil {
		return u, fmt.Errorf("run %s: %w\n%s", cmd.Path, err, stderr.Bytes())
	}
	return u, nil
}

// sample reads /proc/PID/status every 10 ms until done is closed and returns
// the largest RssAnon seen, in kB.
func sample(ctx context.Context, pid int, done <-chan struct{}) int {
	path := fmt.Sprintf("/proc/%d/status", pid)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	peak := 0
	for {
		if kb, err := rssAnon(path); err == nil {
			peak = max(peak, kb)
		}
		select {
		case <-done:
			return peak
		case <-ctx.Done():
			return peak
		case <-tick.C:
		}
	}
}

// rssAnon reads the RssAnon line of a /proc status file, in kB.
func rssAnon(path string) (int, error) {
	status, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no RssAnon in " + path)
}

// ServeHTTP serves /feed/N with its ETag, answering 304 to a matching
// If-None-Match.
func (fm *farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
	if err != nil || n < 0 || n >= len(fm.bodies) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", fm.etags[n])
	if r.Header.Get("If-None-Match") == fm.etags[n] {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	types := [...]string{"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
	w.Header().Set("Content-Type", types[n%4]+"; charset=utf-8")
	_, _ = w.Write(fm.bodies[n])
}
