package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/hostile"
	"github.com/tributary/tributary/status"
)

// memoryBound is the most resident memory a tributary process may reach
// while fetching the hostile server (a 64 MiB gzip bomb, an endless body),
// race detector included.
const memoryBound = 300 << 20

// hostileConfig writes a config with every hostile fault and two healthy
// feeds on another host name, and returns its path.
//
// The 429 fault is asked on limited, another host: a 429 defers every
// source of its host, which would leave the other faults unasked.
func hostileConfig(t *testing.T, srv, limited *hostile.Server, listen string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "title: Hostile\nlisten: %s\ndata_dir: %s\nschedule: \"@every 1h\"\n", listen, filepath.Join(dir, "data"))
	b.WriteString("fetch:\n  timeout: 2s\n  max_body: 4MB\n  per_host: 4\n  host_interval: 10ms\nfeeds:\n")
	for _, f := range hostile.Faults() {
		host := srv.URL
		if f.Path == "/429" {
			host = limited.URL
		}
		fmt.Fprintf(&b, "  - url: %s%s\n    categories: [Hostile]\n", host, f.Path)
	}
	for _, u := range healthyURLs(srv) {
		fmt.Fprintf(&b, "  - url: %s\n    categories: [Healthy]\n", u)
	}
	path := filepath.Join(dir, "tributary.yaml")
	writeFile(t, path, b.String())
	return path
}

func healthyURLs(srv *hostile.Server) []string {
	h := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	return []string{h + "/ok/one.rss", h + "/ok/two.rss"}
}

// maxRSS is the peak resident set of a finished child, from its rusage.
func maxRSS(t *testing.T, r result) int64 {
	t.Helper()
	ru, ok := r.state.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the child")
	}
	return ru.Maxrss << 10 // KiB on Linux
}

// vmHWM is the peak resident set of a running process, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// TestHostileDaemon runs the real binary against the hostile server: two
// "tributary fetch" runs (the healthy feeds gain an article each time, every
// fault is reported, memory stays bounded), then "tributary serve" on a fresh
// database, whose first pass meets every fault while /healthz and /status
// keep answering, and which stops cleanly.
func TestHostileDaemon(t *testing.T) {
	srv := hostile.NewServer(t)
	limited := hostile.NewServerOn(t, "127.0.0.2")
	addr := freeAddr(t)
	cfg := hostileConfig(t, srv, limited, addr)
	nFaults := len(hostile.Faults())

	for run := 1; run <= 2; run++ {
		start := time.Now()
		r := tributary(t, "fetch", "-config", cfg)
		if r.code != 0 {
			t.Fatalf("fetch %d: exit %d\n%s\n%s", run, r.code, r.stdout, r.stderr)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("fetch %d took %v", run, d)
		}
		for _, u := range healthyURLs(srv) {
			if !regexp.MustCompile(`(?m)^ok\s+1\s+0\s+\d+\s+0\s+.*` + regexp.QuoteMeta(u)).MatchString(r.stdout) {
				t.Errorf("fetch %d: %s did not store exactly one new article:\n%s", run, u, r.stdout)
			}
		}
		for _, word := range []string{"gone", "rate-limited", "too-large", "timeout", "not-a-feed", "parse-error", "http-error"} {
			if !strings.Contains(r.stdout, word) {
				t.Errorf("fetch %d summary lacks outcome %q", run, word)
			}
		}
		if rss := maxRSS(t, r); rss > memoryBound {
			t.Errorf("fetch %d: peak RSS %d MiB, want < %d MiB", run, rss>>20, memoryBound>>20)
		} else {
			t.Logf("fetch %d: peak RSS %d MiB", run, rss>>20)
		}
	}
	if n := srv.SecretRequests(); n != 0 {
		t.Errorf("external entity fetched %d times", n)
	}

	// stats reads the same database while no daemon runs.
	r := tributary(t, "stats", "-config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "CATEGORY") || !strings.Contains(r.stdout, "update the config: URL moved to "+srv.URL+"/ok/moved.rss") {
		t.Errorf("stats: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// serve on a fresh database: its first pass fetches everything.
	freshCfg := hostileConfig(t, srv, limited, addr)
	d := startServe(t, freshCfg, addr)
	base := "http://" + addr
	var rep status.Report
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, base+"/status")
		if code != http.StatusOK {
			t.Fatalf("GET /status: %d\n%s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatal(err)
		}
		fetched := 0
		for _, e := range rep.Sources {
			if e.Outcome != status.OutcomeNever {
				fetched++
			}
		}
		if fetched == len(rep.Sources) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s only %d of %d sources fetched:\n%s", fetched, len(rep.Sources), body)
		}
		if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
			t.Errorf("healthz during the pass: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rep.Sources) != nFaults+2 {
		t.Errorf("status lists %d sources, want %d", len(rep.Sources), nFaults+2)
	}
	healthyItems := 0
	for _, e := range rep.Sources {
		if slices.Contains(healthyURLs(srv), e.URL) {
			healthyItems += e.Items
			if e.Outcome != "ok" || e.Items == 0 {
				t.Errorf("healthy source in status: %+v", e)
			}
		}
		if e.URL == srv.URL+"/410" && (e.Outcome != "gone" || e.Hint == "") {
			t.Errorf("gone source in status: %+v", e)
		}
	}
	if hwm := vmHWM(t, d.cmd.Process.Pid); hwm > memoryBound {
		t.Errorf("serve: VmHWM %d MiB, want < %d MiB", hwm>>20, memoryBound>>20)
	} else {
		t.Logf("serve: VmHWM %d MiB", hwm>>20)
	}
	if code, body := get(t, base+"/feeds/healthy.atom"); code != http.StatusOK || strings.Count(body, "<entry>") != healthyItems {
		t.Errorf("healthy.atom: %d, %d entries, want the %d items of /status", code, strings.Count(body, "<entry>"), healthyItems)
	}
	// While serve holds the database, stats asks the daemon instead.
	r = tributary(t, "stats", "-config", freshCfg)
	if r.code != 0 || !strings.Contains(r.stdout, "/ok/one.rss") {
		t.Errorf("stats while serving: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve after SIGTERM: exit %d\n%s", code, d.stderr.String())
	}
	if strings.Contains(d.stderr.String(), "panic") {
		t.Errorf("serve logged a panic:\n%s", d.stderr.String())
	}
}
