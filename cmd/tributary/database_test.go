package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
)

// postgresConfig writes a config of the today-news fixtures at feedsURL,
// listening on listen, whose store is the PostgreSQL database at dbURL;
// extra is appended (more top-level keys).
func postgresConfig(t *testing.T, feedsURL, listen, dbURL, extra string) string {
	t.Helper()
	path := todayNewsConfig(t, feedsURL, listen)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "database: "+dbURL+"\n"+extra+string(b))
	return path
}

// TestPostgresCommands runs each command that opens the store against a
// PostgreSQL database: migrate applies the migrations once and says so,
// fetch stores the fixtures there (data_dir holds no database file),
// check -db and stats read them, compact vacuums, and backup and salvage
// point to pg_dump and fail.
func TestPostgresCommands(t *testing.T) {
	feeds := todayNewsServer(t)
	dbURL := pgtest.NewDatabase(t)
	shown := config.RedactURL(dbURL) // without the user name
	cfg := postgresConfig(t, feeds.URL, freeAddr(t), dbURL, "")
	out := filepath.Join(t.TempDir(), "backup.db")
	steps := []struct {
		args     []string
		code     int
		stdout   []string // substrings, in order
		stderr   string
		noStdout string
	}{
		{args: []string{"migrate"}, stdout: []string{"applied 0001_kv", "applied 0002_leases", "applied 0003_lz4"}},
		{args: []string{"migrate"}, stdout: []string{"nothing to do, every migration is applied"}, noStdout: "applied 0"},
		{args: []string{"fetch"}, stdout: []string{"livemint-world.rss", "3 sources"}},
		{args: []string{"check", "-db"}, stdout: []string{shown + ": ok"}},
		{args: []string{"stats"}, stdout: []string{"world", "perspectives.rss"}},
		{args: []string{"compact"}, stdout: []string{shown + ": VACUUM (ANALYZE) done in "}},
		{args: []string{"backup", out}, code: 1, stderr: "back it up with pg_dump -Fc, see docs/operations.md"},
		{args: []string{"salvage", out}, code: 1, stderr: "salvage reads a damaged bbolt file; restore a pg_dump instead"},
	}
	for _, st := range steps {
		r := tributary(t, append([]string{st.args[0], "-config", cfg}, st.args[1:]...)...)
		if r.code != st.code {
			t.Fatalf("%v: exit %d, want %d\n%s%s", st.args, r.code, st.code, r.stdout, r.stderr)
		}
		rest := r.stdout
		for _, want := range st.stdout {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Fatalf("%v: stdout lacks %q (in order):\n%s", st.args, want, r.stdout)
			}
			rest = rest[i+len(want):]
		}
		if st.noStdout != "" && strings.Contains(r.stdout, st.noStdout) {
			t.Errorf("%v: stdout has %q:\n%s", st.args, st.noStdout, r.stdout)
		}
		if !strings.Contains(r.stderr, st.stderr) {
			t.Errorf("%v: stderr lacks %q:\n%s", st.args, st.stderr, r.stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("backup on PostgreSQL left %s (stat: %v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "data", dbFile)); !os.IsNotExist(err) {
		t.Errorf("with database set, data_dir has %s (stat: %v)", dbFile, err)
	}
}

// TestPostgresUnreachable runs every command that opens the database
// against a port nothing listens on, with a password file: each exits 1
// with one line naming the database and the cause, never the password.
func TestPostgresUnreachable(t *testing.T) {
	const password = "pw-never-shown-5d1f"
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pgpass")
	writeFile(t, pwFile, password+"\n")
	addr := freeAddr(t)
	dbURL := "postgres://tributary@" + addr + "/news?sslmode=disable"
	cfg := postgresConfig(t, "http://127.0.0.1:9", freeAddr(t), dbURL, "database_password_file: "+pwFile+"\n")
	for _, args := range [][]string{{"serve"}, {"fetch"}, {"check", "-db"}, {"stats"}, {"compact"}, {"migrate"}} {
		r := tributary(t, append(args, "-config", cfg)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		switch {
		case r.code != 1:
			t.Errorf("%v: exit %d, want 1\n%s", args, r.code, r.stderr)
		case len(lines) != 1:
			t.Errorf("%v: stderr is not one line:\n%s", args, r.stderr)
		case !strings.Contains(r.stderr, addr+"/news") || !strings.Contains(r.stderr, "connection refused"):
			t.Errorf("%v: stderr does not name the database and the cause:\n%s", args, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Errorf("%v: output shows the password:\n%s%s", args, r.stdout, r.stderr)
		}
	}
}

// FuzzOneLine checks that oneLine makes any error one line that keeps
// every word of it, seeded with pgx's errors for a refused connection.
func FuzzOneLine(f *testing.F) {
	f.Add("open database postgres://tributary@127.0.0.1:5/news: migrate: connect: failed to connect to `user=tributary database=news`: 127.0.0.1:5 (127.0.0.1): dial error: dial tcp 127.0.0.1:5: connect: connection refused")
	f.Add("failed to connect to `user=postgres database=x`:\n\t[::1]:5432 (localhost): dial error: dial tcp [::1]:5432: connect: connection refused\n\t127.0.0.1:5432 (localhost): dial error: dial tcp 127.0.0.1:5432: connect: connection refused")
	f.Add("")
	f.Fuzz(func(t *testing.T, msg string) {
		got := oneLine(errors.New(msg)).Error()
		if strings.ContainsAny(got, "\n") {
			t.Fatalf("oneLine(%q) = %q: more than one line", msg, got)
		}
		if !strings.Contains(msg, "\n") && got != msg {
			t.Fatalf("oneLine(%q) = %q: a line changed", msg, got)
		}
		for _, w := range strings.Fields(msg) {
			if w != ";" && !strings.Contains(got, w) {
				t.Fatalf("oneLine(%q) = %q: lost %q", msg, got, w)
			}
		}
	})
}

// TestMigrateNeedsDatabase runs migrate on a config without database: it
// says the bbolt file needs none, exit 1, and creates no file.
func TestMigrateNeedsDatabase(t *testing.T) {
	cfg := todayNewsConfig(t, "http://127.0.0.1:9", freeAddr(t))
	r := tributary(t, "migrate", "-config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "migrate: no database in the config") {
		t.Errorf("migrate without database: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "data")); !os.IsNotExist(err) {
		t.Errorf("migrate without database made data_dir (stat: %v)", err)
	}
}

// TestLeaseEnvErrors checks that a $TRIBUTARY_LEASE that is not a positive
// duration is refused with an error naming it, not taken as some lease.
func TestLeaseEnvErrors(t *testing.T) {
	db, err := pgkv.Open(t.Context(), pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, val := range []string{"soon", "0s", "-2s", "2"} {
		t.Setenv(leaseEnv, val)
		c, err := newCoordinator(db, nil)
		if err == nil {
			_ = c.Close(t.Context())
			t.Errorf("%s=%q: no error", leaseEnv, val)
			continue
		}
		if !strings.Contains(err.Error(), leaseEnv) || !strings.Contains(err.Error(), "positive duration") {
			t.Errorf("%s=%q: error %q does not say what is wrong", leaseEnv, val, err)
		}
	}
}
