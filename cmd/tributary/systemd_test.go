package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireTool skips when the external tool is missing, except in CI
// (CI set), where a missing tool fails the test.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (install the Debian package systemd): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return path
}

func TestSystemdUnit(t *testing.T) {
	tests := []struct {
		file, verifyAs string
		lines          []string
	}{
		{"tributary.service", "tributary.service", []string{
			"ExecStart=/usr/local/bin/tributary serve -config /etc/tributary/tributary.yaml", "StateDirectory=tributary\n"}},
		// One instance of several on one database: its own config and state.
		{"tributary@.service", "tributary@a.service", []string{
			"ExecStart=/usr/local/bin/tributary serve -config /etc/tributary/%i.yaml", "StateDirectory=tributary/%i\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile("../../contrib/systemd/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			checkUnit(t, string(raw), tt.verifyAs, tt.lines)
		})
	}
}

// checkUnit checks that unit has our lines and passes systemd-analyze
// verify as a unit called name.
func checkUnit(t *testing.T, unit, name string, extra []string) {
	t.Helper()
	for _, want := range append([]string{
		"Type=notify", "WatchdogSec=", "ExecReload=kill -HUP $MAINPID", "Environment=GOMEMLIMIT=",
		"DynamicUser=yes", "ProtectSystem=strict",
		"NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service",
	}, extra...) {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(unit, "\n"+want) {
				t.Errorf("unit lacks a line starting %q", want)
			}
		})
	}
	t.Run("systemd-analyze verify", func(t *testing.T) {
		analyze := requireTool(t, "systemd-analyze")
		// verify checks that ExecStart exists: point it at the test binary.
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		writeFile(t, path, strings.ReplaceAll(unit, "/usr/local/bin/tributary", binPath))
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		var ours []string
		for _, line := range splitLines(string(out)) {
			if strings.Contains(line, name) {
				ours = append(ours, line)
			}
		}
		if err != nil || len(ours) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}

// notifySocket is a fake systemd notify socket collecting messages.
type notifySocket struct {
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) (*notifySocket, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifySocket{conn: conn, msgs: make(chan string, 100)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	return n, path
}

// await returns the first message with the given prefix, skipping others
// (watchdog pings); it fails after 20 seconds.
func (n *notifySocket) await(t *testing.T, d *daemon, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-n.msgs:
			if !ok {
				t.Fatalf("notify socket closed before %q", prefix)
			}
			if strings.HasPrefix(m, prefix) {
				return m
			}
		case <-timeout:
			t.Fatalf("no %q notification:\n%s", prefix, d.stderr.String())
		}
	}
}

// startServeEnv starts "tributary serve -config path" with extra
// environment variables, without waiting for it.
func startServeEnv(t *testing.T, path string, env ...string) *daemon {
	t.Helper()
	return launchServe(t, binPath, path, env...)
}

func TestSdNotify(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)
	sock, sockPath := newNotifySocket(t)
	d := startServeEnv(t, cfg, "NOTIFY_SOCKET="+sockPath, "WATCHDOG_USEC=400000")

	sock.await(t, d, "READY=1")
	// READY means the listener is up and the store open: /healthz answers now.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz right after READY=1: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz right after READY=1: %d", resp.StatusCode)
	}
	t.Run("watchdog", func(t *testing.T) { sock.await(t, d, "WATCHDOG=1") })
	t.Run("reload", func(t *testing.T) {
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		m := sock.await(t, d, "RELOADING=1")
		if !strings.Contains(m, "\nMONOTONIC_USEC=") {
			t.Errorf("RELOADING message %q lacks MONOTONIC_USEC", m)
		}
		sock.await(t, d, "READY=1")
	})
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sock.await(t, d, "STOPPING=1")
	if err := <-d.done; err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, d.stderr.String())
	}
}
