package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// servedFeed is the document the serving load asks for: the merged feed
// of every category, 50 entries.
const servedFeed = "/feeds/all.atom"

// serveCase is one serving setup: instances of `tributary serve` on one
// store.
type serveCase struct {
	name  string
	insts []instance
}

// serving runs the serving load against `tributary serve` on each store of
// st (bbolt; PostgreSQL with one instance, and with two on the database
// the two-instance ingest filled), plain 200s then 304s.
func (b *bench) serving(ctx context.Context, st stores) error {
	cases := []serveCase{{name: "bbolt", insts: []instance{{dataDir: st.bboltDir}}}}
	if b.pg != nil {
		cases = append(cases,
			serveCase{name: "PostgreSQL, 1 instance", insts: []instance{{dataDir: filepath.Join(b.dir, "serve-pg1"), database: st.pg1}}},
			serveCase{name: "PostgreSQL, 2 instances", insts: []instance{
				{dataDir: filepath.Join(b.dir, "serve-pg2-a"), database: st.pg2},
				{dataDir: filepath.Join(b.dir, "serve-pg2-b"), database: st.pg2},
			}})
	}
	fmt.Fprintf(b.out, "\nserving %s (warm cache), %d connections for %s per case, load average %s\n",
		servedFeed, b.o.serveConns, b.o.serve, loadAverage())
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\t200 req/s\t200 p99 ms\t304 req/s\t304 p99 ms\t")
	for _, c := range cases {
		plain, notModified, err := b.serveCase(ctx, c)
		if err != nil {
			return fmt.Errorf("serve %s: %w", c.name, err)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.0f\t%.2f\t\n", c.name, plain.rate(), plain.p99(), notModified.rate(), notModified.p99())
	}
	return tw.Flush()
}

// serveCase starts the case's instances, warms their caches and runs the
// load twice: plain requests, then requests with the document's ETag.
func (b *bench) serveCase(ctx context.Context, c serveCase) (plain, notModified load, err error) {
	var urls []string
	for _, in := range c.insts {
		if in.listen, err = freeAddr(); err != nil {
			return plain, notModified, err
		}
		cfg, err := writeConfig(in, b.farmURL, b.o)
		if err != nil {
			return plain, notModified, err
		}
		proc, err := startServe(ctx, b.bin, cfg, in.listen)
		if err != nil {
			return plain, notModified, err
		}
		defer proc.stop()
		urls = append(urls, "http://"+in.listen+servedFeed)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: b.o.serveConns, DisableCompression: true}}
	defer client.CloseIdleConnections()
	etag, err := warm(ctx, client, urls)
	if err != nil {
		return plain, notModified, err
	}
	if plain, err = loadRun(ctx, client, urls, "", b.o.serveConns, b.o.serve); err != nil {
		return plain, notModified, err
	}
	notModified, err = loadRun(ctx, client, urls, etag, b.o.serveConns, b.o.serve)
	return plain, notModified, err
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// serveProc is a running `tributary serve`.
type serveProc struct {
	cmd    *exec.Cmd
	exited chan error
}

// startServe starts `tributary serve` on cfg and waits until addr answers
// /healthz.
func startServe(ctx context.Context, bin, cfg, addr string) (*serveProc, error) {
	var stderr bytes.Buffer
	p := &serveProc{cmd: exec.CommandContext(ctx, bin, "serve", "-config", cfg), exited: make(chan error, 1)}
	p.cmd.Stderr = &stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			return nil, fmt.Errorf("serve exited: %v\n%s", err, stderr.Bytes())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
	}
	p.stop()
	return nil, fmt.Errorf("serve on %s not healthy within 60 s\n%s", addr, stderr.Bytes())
}

// stop ends the process with SIGTERM, as its shutdown expects, and waits
// for it; it kills a process still running after 30 s.
func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// warm asks every instance for the document (uncompressed, as the load
// does) until it is cached, and checks that they answer the same ETag, which it returns.
func warm(ctx context.Context, client *http.Client, urls []string) (string, error) {
	var etag string
	for _, u := range urls {
		for range 2 {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return "", fmt.Errorf("warm %s: %w", u, err)
			}
			resp, err := client.Do(req)
			if err != nil {
				return "", fmt.Errorf("warm %s: %w", u, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("warm %s: status %s", u, resp.Status)
			}
			got := resp.Header.Get("ETag")
			if etag != "" && got != etag {
				return "", fmt.Errorf("warm %s: ETag %s, another answer had %s", u, got, etag)
			}
			etag = got
		}
	}
	return etag, nil
}

// load is what one load run measured.
type load struct {
	elapsed   time.Duration
	latencies []time.Duration // sorted
}

func (l load) rate() float64 { return float64(len(l.latencies)) / l.elapsed.Seconds() }

// p99 is the 99th percentile latency in milliseconds.
func (l load) p99() float64 {
	if len(l.latencies) == 0 {
		return 0
	}
	return float64(l.latencies[len(l.latencies)*99/100].Microseconds()) / 1000
}

// loadRun sends requests on conns keep-alive connections, spread over urls,
// for d; with etag, as conditional requests that must be answered 304,
// else plain ones that must be answered 200.
func loadRun(ctx context.Context, client *http.Client, urls []string, etag string, conns int, d time.Duration) (load, error) {
	want := http.StatusOK
	if etag != "" {
		want = http.StatusNotModified
	}
	var (
		mu   sync.Mutex
		all  []time.Duration
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	for i := range conns {
		wg.Go(func() {
			lat, err := worker(ctx, client, urls[i%len(urls)], etag, want, end)
			mu.Lock()
			all = append(all, lat...)
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	l := load{elapsed: time.Since(start), latencies: all}
	slices.Sort(l.latencies)
	return l, errors.Join(errs...)
}

// worker requests url until end and returns each request's latency.
func worker(ctx context.Context, client *http.Client, url, etag string, want int, end time.Time) ([]time.Duration, error) {
	var lat []time.Duration
	for time.Now().Before(end) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return lat, fmt.Errorf("request %s: %w", url, err)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return lat, fmt.Errorf("request %s: %w", url, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return lat, fmt.Errorf("read %s: %w", url, err)
		}
		lat = append(lat, time.Since(t))
		if resp.StatusCode != want {
			return lat, fmt.Errorf("request %s: status %s, want %d", url, resp.Status, want)
		}
	}
	return lat, nil
}
