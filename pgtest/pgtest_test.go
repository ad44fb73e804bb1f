package pgtest

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

func TestServerRunsQueries(t *testing.T) {
	ctx := context.Background()
	s, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	u1, u2 := NewDatabase(t), NewDatabase(t)
	if u1 == u2 {
		t.Fatalf("two databases share the URL %s", u1)
	}
	u, err := url.Parse(u1)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if err := s.Exec(ctx, db, "CREATE TABLE probe (n int); INSERT INTO probe VALUES (41), (1)"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(ctx, db, "SELECT sum(n) FROM probe")
	if err != nil {
		t.Fatal(err)
	}
	if got != "42" {
		t.Fatalf("sum = %q, want 42", got)
	}
	if err := s.Exec(ctx, db, "SELECT * FROM no_such_table"); err == nil {
		t.Fatal("a failing statement gave no error")
	}
}

func TestNewDatabaseWithoutPostgres(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "" {
		return // only TestMissingPostgresSkipsOrFails's child process runs it
	}
	NewDatabase(t)
	t.Fatal("NewDatabase returned without a server")
}

// TestMissingPostgresSkipsOrFails runs NewDatabase as if no PostgreSQL
// were installed (TRIBUTARY_PG_BIN names an empty directory): it skips
// without $CI and fails with it, naming the package to install.
func TestMissingPostgresSkipsOrFails(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		want string
	}{
		{"", "--- SKIP"},
		{"1", "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNewDatabaseWithoutPostgres$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", "TRIBUTARY_PG_BIN="+t.TempDir(), "CI="+tc.ci)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "install the postgresql package") {
			t.Errorf("CI=%q: want %s naming the package, got:\n%s", tc.ci, tc.want, out)
		}
	}
}
