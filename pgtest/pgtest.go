// Package pgtest starts a private PostgreSQL server for tests: a new
// cluster in a temporary directory (initdb), listening on a free loopback
// port (pg_ctl), stopped and removed by Stop. Nothing depends on a server
// of the system's. It needs the PostgreSQL server programs (Debian:
// postgresql). When they are missing, Start fails with ErrNotInstalled,
// and NewDatabase skips the test, like the project's other tests that
// need a Debian tool, unless $CI is set: CI installs the package, so
// there a missing server fails the run instead of hiding the tests.
//
// PostgreSQL refuses to run as root: when the tests run as root, the
// server runs as the system's "postgres" user (created by the Debian
// package), through setpriv.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a running private PostgreSQL server.
type Server struct {
	dir  string // the cluster's data directory's parent, removed by Stop
	bin  string // directory of initdb, pg_ctl, postgres, psql
	port int
	run  []string // command prefix that runs a program as the server's user
	next atomic.Int64
}

// Start creates and starts a new cluster. The caller must Stop it.
func Start(ctx context.Context) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tributary-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user of the postgresql package: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		s.run = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) start(ctx context.Context) error {
	if out, err := s.command(ctx, "initdb", "-D", s.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, s.dir)
		out, err := s.command(ctx, "pg_ctl", "-D", s.data(), "-w", "-t", "60",
			"-l", filepath.Join(s.dir, "server.log"), "-o", opts, "start").CombinedOutput()
		if err == nil {
			s.port = port
			return nil
		}
		lastErr = fmt.Errorf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, s.Log())
	}
	return lastErr
}

// command runs the program name of the server's bin directory as the
// server's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, s.run...), filepath.Join(s.bin, name)), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.dir
	return cmd
}

// Log returns the server's log so far, for a failing test's report.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

// Port is the loopback TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// URL returns the connection URL of database db (user postgres, no
// password, sslmode=disable).
func (s *Server) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates a new empty database with a unique name and
// returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.next.Add(1))
	if err := s.Exec(ctx, "postgres", "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// Exec runs sql in database db with psql, failing on the first error.
func (s *Server) Exec(ctx context.Context, db, sql string) error {
	_, err := s.Query(ctx, db, sql)
	return err
}

// Query runs sql in database db with psql and returns what it printed,
// unaligned and without headers (psql -At).
func (s *Server) Query(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-U", "postgres", "-d", db, "-c", sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("pgtest: psql %q: %v: %s", sql, err, stderr.String())
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// Bin returns the path of the PostgreSQL program name (pg_dump, psql, …)
// of the server's installation.
func (s *Server) Bin(name string) string { return filepath.Join(s.bin, name) }

// Stop stops the server at once and removes its files.
func (s *Server) Stop() {
	if s.port != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		_ = s.command(ctx, "pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop").Run()
		cancel()
	}
	_ = os.RemoveAll(s.dir)
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns the test binary's one server, started on first use; a
// package's TestMain stops it with StopShared after m.Run.
func Shared() (*Server, error) {
	sharedOnce.Do(func() {
		shared, sharedErr = Start(context.Background())
	})
	return shared, sharedErr
}

// StopShared stops the server Shared started, if any.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

// ErrNotInstalled is the error of Start when the PostgreSQL server
// programs are not installed.
var ErrNotInstalled = errors.New("pgtest: no PostgreSQL server programs (initdb, pg_ctl) found: install the postgresql package, or set TRIBUTARY_PG_BIN")

// Installed returns nil when the PostgreSQL server programs are found,
// ErrNotInstalled (wrapped) otherwise; it starts nothing.
func Installed() error {
	_, err := findBin()
	return err
}

// Available reports whether a test may use the shared server: nil when it
// runs, ErrNotInstalled (wrapped) when PostgreSQL is not installed and $CI
// is not set (the test should skip), any other start error otherwise.
func Available() error {
	_, err := Shared()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "" {
		return fmt.Errorf("%w (CI is set: CI must install postgresql)", err)
	}
	return err
}

// NewDatabase returns the URL of a new empty database on the shared
// server. It skips t when PostgreSQL is not installed and $CI is not set,
// and fails t when the server cannot start.
func NewDatabase(t testing.TB) string {
	t.Helper()
	s, err := Shared()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") == "" {
		t.Skip(err.Error() + " (set CI=1 to make this a failure)")
	}
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// findBin returns the directory of the newest installed PostgreSQL's
// server programs: $TRIBUTARY_PG_BIN (which must hold them), else pg_ctl's on PATH, else Debian's
// /usr/lib/postgresql/VERSION/bin.
func findBin() (string, error) {
	if dir := os.Getenv("TRIBUTARY_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err != nil {
			return "", fmt.Errorf("TRIBUTARY_PG_BIN=%s: %w", dir, ErrNotInstalled)
		}
		return dir, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// Follow links, such as /usr/local/bin/pg_ctl to Debian's, to the
		// directory that holds psql and pg_dump too.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "psql")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

// version is the major version in a /usr/lib/postgresql/VERSION/bin path.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// freePort returns a loopback TCP port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
