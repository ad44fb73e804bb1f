package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// usage is what one step (one or more child processes started together)
// took.
type usage struct {
	wall time.Duration
	// peakAnon is the largest RssAnon sampled, summed over the step's
	// processes, in kB; serverAnon is the same for the PostgreSQL server's
	// processes (0 without a local server).
	peakAnon, serverAnon int
	// cpu is the user+system time of the step's processes, serverCPU that
	// of the PostgreSQL server's processes during the step.
	cpu, serverCPU time.Duration
	// lock is the share of the PostgreSQL write lock samples, when sampled.
	lock lockShare
}

func (u usage) peakMB() float64   { return float64(u.peakAnon) / 1024 }
func (u usage) serverMB() float64 { return float64(u.serverAnon) / 1024 }

// cores is the CPU time of the step's processes per second of wall time,
// and of the server's.
func (u usage) cores() (float64, float64) {
	return u.cpu.Seconds() / u.wall.Seconds(), u.serverCPU.Seconds() / u.wall.Seconds()
}

// probes are what a step samples beside its own processes: the PostgreSQL
// server's memory and CPU and its write lock. A nil probe is skipped.
type probes struct {
	server *serverProcs
	lock   *lockSampler
}

// measure runs cmds together to their end, sampling their summed RssAnon
// (and the probes) every 10 ms.
func measure(ctx context.Context, p probes, cmds ...*exec.Cmd) (usage, error) {
	stderrs := make([]*bytes.Buffer, len(cmds))
	for i, cmd := range cmds {
		stderrs[i] = new(bytes.Buffer)
		cmd.Stderr = stderrs[i]
	}
	cpu0 := p.server.cpu()
	start := time.Now()
	pids := make([]int, 0, len(cmds))
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			return usage{}, fmt.Errorf("start %s: %w", cmd.Path, err)
		}
		pids = append(pids, cmd.Process.Pid)
	}
	done := make(chan struct{})
	sampled := make(chan usage)
	go func() { sampled <- sample(ctx, pids, p, done) }()
	errs := make([]error, len(cmds))
	for i, cmd := range cmds {
		errs[i] = cmd.Wait()
	}
	wall := time.Since(start)
	close(done)
	u := <-sampled
	u.wall = wall
	u.serverCPU = p.server.cpu() - cpu0
	for i, cmd := range cmds {
		u.cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if errs[i] != nil {
			return u, fmt.Errorf("run %s: %w\n%s", cmd.Path, errs[i], stderrs[i].Bytes())
		}
	}
	for _, e := range stderrs {
		// What a child logged (warnings and errors) explains its figures.
		_, _ = os.Stderr.Write(e.Bytes())
	}
	return u, nil
}

// sample reads the RssAnon of pids every 10 ms until done is closed and
// returns the largest sum seen, with the probes' peaks and shares.
func sample(ctx context.Context, pids []int, p probes, done <-chan struct{}) usage {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var u usage
	for {
		sum := 0
		for _, pid := range pids {
			if kb, err := rssAnon(pid); err == nil {
				sum += kb
			}
		}
		u.peakAnon = max(u.peakAnon, sum)
		u.serverAnon = max(u.serverAnon, p.server.rssAnon())
		p.lock.sample(ctx)
		select {
		case <-done:
			u.lock = p.lock.share()
			return u
		case <-ctx.Done():
			return u
		case <-tick.C:
		}
	}
}

// rssAnon reads the RssAnon line of /proc/PID/status, in kB.
func rssAnon(pid int) (int, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
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
