package storage

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tributary/tributary/pgtest"
)

// TestMain runs the package's tests on bbolt, then runs the test binary
// again with the same flags on PostgreSQL (testBackendEnv=postgres), so
// that the default test run, CI's, proves storage behaves the same on
// both backends. A test binary started with testBackendEnv set runs on
// that backend only.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	if code == 0 && os.Getenv(testBackendEnv) == "" {
		if err := pgtest.Installed(); err != nil && os.Getenv("CI") == "" {
			// Like every test that needs a Debian tool: skipped on a
			// developer's machine without it, never in CI.
			fmt.Fprintf(os.Stderr, "storage: the tests ran on bbolt only: %v\n", err)
		} else {
			code = runOnPostgres()
		}
	}
	os.Exit(code)
}

// runOnPostgres runs the test binary again, with its own arguments, on the
// PostgreSQL backend, its output streamed to this one's, and returns its
// exit code.
func runOnPostgres() int {
	fmt.Fprintf(os.Stderr, "storage: the tests again with %s=postgres\n", testBackendEnv)
	cmd := exec.Command(os.Args[0], testFlags(os.Args[1:])...)
	cmd.Env = append(os.Environ(), testBackendEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "storage: run the tests on postgres: %v\n", err)
		return 1
	}
	return 0
}

// testFlags returns args without the flags of benchmarks, fuzzing and
// profiles: the run on PostgreSQL repeats the tests only (a benchmark
// that compares the backends opens both itself), and must not overwrite
// the profiles of the first run.
func testFlags(args []string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case strings.HasPrefix(name, "test.bench"), strings.HasPrefix(name, "test.fuzz"),
			strings.HasSuffix(name, "profile"), name == "test.trace":
			continue
		}
		out = append(out, a)
	}
	return out
}
