package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary/tributary/feedcheck"
	"github.com/tributary/tributary/pgtest"
)

// binPath is the tributary binary built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tributary-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "tributary")
	build := exec.Command("go", "build", "-race", "-o", binPath, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tributary:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.StopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
	// state is the finished process, for its resource usage.
	state *os.ProcessState
}

// tributary runs the binary with args to completion.
func tributary(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "TRIBUTARY_CONFIG=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run tributary %v: %v", args, err)
	}
	return result{code, stdout.String(), stderr.String(), cmd.ProcessState}
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		noStdout bool
	}{
		{name: "help", args: []string{"-h"}, code: 0, stdout: "tributary serve [-config FILE]"},
		{name: "no command", args: nil, code: 2, stderr: "no command given"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "serve help", args: []string{"serve", "-h"}, code: 0, stdout: "$TRIBUTARY_CONFIG sets the default (default \"tributary.yaml\")"},
		{name: "fetch help", args: []string{"fetch", "-h"}, code: 0, stdout: "  -feed URL\n"},
		{name: "check help", args: []string{"check", "-h"}, code: 0, stdout: "FILE:LINE"},
		{name: "bad flag", args: []string{"fetch", "-bogus"}, code: 2, stderr: "flag provided but not defined: -bogus"},
		{name: "stray argument", args: []string{"check", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{name: "missing config", args: []string{"check", "-config", "/nonexistent/tributary.yaml"}, code: 1, stderr: "/nonexistent/tributary.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tributary(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.stdout, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, r.stderr)
			}
		})
	}
}

func TestCheckReportsEveryProblemWithLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, path, `title: x
schedule: "every 5"
feeds:
  - url: https://a.example/feed
  - url: "not a url"
    include: '(['
`)
	r := tributary(t, "check", "-config", path)
	if r.code != 1 {
		t.Fatalf("exit code = %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{path + ":2: schedule:", path + ":5: feeds[1].url:", path + ":6: feeds[1].include:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	good := filepath.Join(t.TempDir(), "good.yaml")
	writeFile(t, good, "feeds:\n  - url: https://a.example/feed\n    categories: [World]\n")
	if r := tributary(t, "check", "-config", good); r.code != 0 || !strings.Contains(r.stdout, "ok (1 feeds, 1 categories)") {
		t.Fatalf("check good config: code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	if r := tributary(t, "check", "-config", "../../tributary.example.yaml"); r.code != 0 {
		t.Fatalf("example config: exit %d\n%s", r.code, r.stderr)
	}
}

// todayNewsServer serves the today-news fixture feeds.
func todayNewsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("../../testdata/today-news")))
	t.Cleanup(srv.Close)
	return srv
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// todayNewsConfig writes a config for the three fixture feeds and returns its path.
func todayNewsConfig(t *testing.T, feedsURL, listen string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tributary.yaml")
	writeFile(t, path, fmt.Sprintf(`title: Today News
language: en-us
listen: %[2]s
base_url: http://%[2]s
data_dir: %[3]s
schedule: "@every 1h"
retention:
  max_age: 87600h # the fixtures are from 2025
fetch:
  host_interval: 100ms
feeds:
  - url: %[1]s/livemint-world.rss
    categories: [World]
    source_categories: true
  - url: %[1]s/bloomberg-politics.atom
    categories: [World]
    source_categories: true
  - url: %[1]s/perspectives.rss
    source_categories: true
`, feedsURL, listen, filepath.Join(dir, "data")))
	return path
}

// daemon is a running "tributary serve".
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// startServe starts "tributary serve -config path" and waits until it
// listens on addr.
func startServe(t *testing.T, path, addr string) *daemon {
	t.Helper()
	return startServeBin(t, binPath, path, addr)
}

// launchServe starts "bin serve -config path" with the extra environment
// variables env, without waiting for it; cleanup kills it if it still
// runs.
func launchServe(t *testing.T, bin, path string, env ...string) *daemon {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-config", path)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	d := &daemon{cmd: cmd, stderr: newSyncBuffer(), done: make(chan error, 1)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// startServeBin is startServe with the tributary binary bin.
func startServeBin(t *testing.T, bin, path, addr string) *daemon {
	t.Helper()
	d := launchServe(t, bin, path)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("serve exited early (%v):\n%s", err, d.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not become healthy on %s:\n%s", addr, d.stderr.String())
	return nil
}

// stop sends sig and returns the exit code and how long the exit took.
func (d *daemon) stop(t *testing.T, sig os.Signal) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		code := 0
		if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
			code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, time.Since(start)
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not exit after %v:\n%s", sig, d.stderr.String())
		return -1, 0
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestTodayNewsEndToEnd(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)

	r := tributary(t, "fetch", "-config", cfg)
	if r.code != 0 {
		t.Fatalf("fetch: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "3 sources: 3 ok, 0 not modified, 0 failed") {
		t.Fatalf("fetch summary:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^ok\s+[1-9]\d*\s+0\s+0\s+0\s+.*Mint - World <` + regexp.QuoteMeta(feeds.URL) + `/livemint-world.rss>$`).MatchString(r.stdout) {
		t.Errorf("fetch summary lacks the Mint line:\n%s", r.stdout)
	}

	// A second fetch of unchanged feeds stores nothing new.
	r = tributary(t, "fetch", "-config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "articles: 0 new, 0 updated") {
		t.Fatalf("second fetch: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	d := startServe(t, cfg, addr)
	base := "http://" + addr
	docs := map[string][]byte{}
	const cleanLink = "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html"
	for _, slug := range []string{"foreign-policy-international-relations", "u-s-russia-relations", "u-s-nato-relations", "world", "all"} {
		t.Run(slug, func(t *testing.T) {
			code, body := get(t, base+"/feeds/"+slug+".atom")
			if code != http.StatusOK {
				t.Fatalf("GET %s.atom: %d\n%s", slug, code, body)
			}
			if n := strings.Count(body, `href="`+cleanLink+`"`); n != 1 {
				t.Errorf("clean Mint link appears %d times, want 1", n)
			}
			checkMergedStory(t, slug, body)
			for _, want := range []string{
				"U.S.–Russia",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("feed lacks %q", want)
				}
			}
			for _, bad := range []string{"utm_source", "&lt;script", "<script", "onerror", "javascript:"} {
				if strings.Contains(body, bad) {
					t.Errorf("feed contains %q", bad)
				}
			}
			docs[slug] = []byte(body)
		})
	}
	t.Run("valid", func(t *testing.T) { feedcheck.Atom(t, docs) })
	_, all := get(t, base+"/feeds/all.atom")
	if !strings.Contains(all, "María Paula Mijares Torres") {
		t.Error(`all.atom lacks "María Paula Mijares Torres"`)
	}
	if code, _ := get(t, base+"/feeds/no-such-category.atom"); code != http.StatusNotFound {
		t.Errorf("unknown slug: %d, want 404", code)
	}

	code, took := d.stop(t, syscall.SIGTERM)
	if code != 0 || took > 5*time.Second {
		t.Fatalf("after SIGTERM: exit %d in %v, want 0 within 5s\n%s", code, took, d.stderr.String())
	}
	if !strings.Contains(d.stderr.String(), "database closed") {
		t.Errorf("serve did not log closing the database:\n%s", d.stderr.String())
	}
}

// checkMergedStory checks that the feed body holds the today-news story
// that Mint syndicated from Bloomberg exactly once, attributed to both
// (one as atom:source, the other as a link rel="via"), published at the
// origin's or Mint's time.
func checkMergedStory(t *testing.T, slug, body string) {
	t.Helper()
	const title = `<title type="text">US, Russia Agreed on Ukraine Security Pledges, Witkoff Says</title>`
	entries := strings.Split(body, "<entry>")
	var story []string
	for _, e := range entries[1:] {
		if strings.Contains(e, title) {
			story = append(story, e)
		}
	}
	if len(story) != 1 {
		t.Fatalf("%s: the story has %d entries, want 1", slug, len(story))
	}
	e := story[0]
	mintVia := strings.Contains(e, `rel="via" title="Mint - World"`)
	bloombergVia := strings.Contains(e, `rel="via" title="Bloomberg Politics"`)
	mintSource := strings.Contains(e, `<title type="text">Mint - World</title>`)
	bloombergSource := strings.Contains(e, `<title type="text">Bloomberg Politics</title>`)
	if !(mintSource && bloombergVia) && !(bloombergSource && mintVia) {
		t.Errorf("%s: story not attributed to both Mint and Bloomberg:\n%s", slug, e)
	}
	if !strings.Contains(e, "<published>2025-08-17T14:26:19Z</published>") &&
		!strings.Contains(e, "<published>2025-08-17T14:21:05Z</published>") {
		t.Errorf("%s: story published neither at Mint's nor Bloomberg's time:\n%s", slug, e)
	}
}

func TestSecondServeFailsFast(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)
	d := startServe(t, cfg, addr)

	start := time.Now()
	r := tributary(t, "serve", "-config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "database in use by another process") ||
		!strings.Contains(r.stderr, "locked") || !strings.Contains(r.stderr, "tributary.db") {
		t.Fatalf("second serve: exit %d\n%s", r.code, r.stderr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("second serve took %v to fail, want about a second", took)
	}
	if code, _ := d.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("first serve after SIGINT: exit %d\n%s", code, d.stderr.String())
	}
}
