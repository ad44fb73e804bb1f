package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/tributary/tributary/storage"
)

// backupHolds opens the backup at path and returns the GUIDs it holds.
func backupHolds(t *testing.T, path string) int {
	t.Helper()
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	arts, err := s.Latest(t.Context(), storage.AllSlug, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(arts)
}

func TestAdminCommands(t *testing.T) {
	feeds := todayNewsServer(t)
	addr := freeAddr(t)
	cfg := todayNewsConfig(t, feeds.URL, addr)
	dataDir := filepath.Join(filepath.Dir(cfg), "data")
	if r := tributary(t, "fetch", "-config", cfg); r.code != 0 {
		t.Fatalf("fetch: %d\n%s", r.code, r.stderr)
	}
	out := t.TempDir()

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  *regexp.Regexp
		wantErr  string
	}{
		{"stats", []string{"stats", "-config", cfg}, 0, regexp.MustCompile(`(?m)^all\s+all\s+3\s+\S+ ago$[\s\S]*/perspectives.rss>\s+ok\s+1\s`), ""},
		{"check -db", []string{"check", "-db", "-config", cfg}, 0, regexp.MustCompile(`(?m)tributary\.db: ok$`), ""},
		{"backup", []string{"backup", "-config", cfg, filepath.Join(out, "b.db")}, 0, regexp.MustCompile(`b\.db: \d+ bytes from the %s, check ok`), ""},
		{"backup without OUT", []string{"backup", "-config", cfg}, 2, nil, "want exactly one argument"},
	}
	run := func(t *testing.T, via string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := tributary(t, tt.args...)
				if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
					t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
				}
				if tt.wantOut != nil {
					re := regexp.MustCompile(strings.ReplaceAll(tt.wantOut.String(), "%s", via))
					if !re.MatchString(r.stdout) {
						t.Errorf("stdout does not match %v:\n%s", re, r.stdout)
					}
				}
			})
		}
		// Four items, of which Mint's and Bloomberg's copies are one story.
		if n := backupHolds(t, filepath.Join(out, "b.db")); n != 3 {
			t.Errorf("backup holds %d articles, want 3", n)
		}
		if err := os.Remove(filepath.Join(out, "b.db")); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("offline", func(t *testing.T) { run(t, "file") })

	d := startServe(t, cfg, addr)
	sock, err := os.Stat(filepath.Join(dataDir, adminSocket))
	if err != nil || sock.Mode().Perm() != 0o600 || sock.Mode().Type() != os.ModeSocket {
		t.Fatalf("admin socket: %v, %v", sock, err)
	}
	t.Run("while serving", func(t *testing.T) { run(t, "daemon") })
	t.Run("compact refuses while serving", func(t *testing.T) {
		r := tributary(t, "compact", "-config", cfg)
		if r.code != 1 || !strings.Contains(r.stderr, "locked") || !strings.Contains(r.stderr, "stop the daemon") {
			t.Fatalf("compact: exit %d\n%s", r.code, r.stderr)
		}
	})
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve: exit %d\n%s", code, d.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, adminSocket)); !os.IsNotExist(err) {
		t.Errorf("admin socket left behind: %v", err)
	}
	t.Run("compact", func(t *testing.T) {
		r := tributary(t, "compact", "-config", cfg)
		if r.code != 0 || !regexp.MustCompile(`tributary\.db: \d+ → \d+ bytes`).MatchString(r.stdout) {
			t.Fatalf("compact: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := tributary(t, "check", "-db", "-config", cfg); r.code != 0 {
			t.Fatalf("check -db after compact: exit %d\n%s", r.code, r.stderr)
		}
	})
}

func TestCheckDBReportsDamage(t *testing.T) {
	feeds := todayNewsServer(t)
	cfg := todayNewsConfig(t, feeds.URL, freeAddr(t))
	db := filepath.Join(filepath.Dir(cfg), "data", dbFile)
	if r := tributary(t, "fetch", "-config", cfg); r.code != 0 {
		t.Fatalf("fetch: %d\n%s", r.code, r.stderr)
	}
	s, err := storage.Open(db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	arts, err := s.Latest(t.Context(), storage.AllSlug, 1)
	s.Close()
	if err != nil || len(arts) != 1 {
		t.Fatalf("Latest: %v, %v", arts, err)
	}
	// Change the id inside the stored article value, byte for byte: every
	// copy in the file, since pages freed by earlier writes may still hold
	// older versions of the same value.
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	id := arts[0].ID
	bad := id[:31] + map[bool]string{true: "1", false: "0"}[id[31] == '0']
	damaged := strings.ReplaceAll(string(raw), `"id":"`+id+`"`, `"id":"`+bad+`"`)
	if damaged == string(raw) {
		t.Fatal("article value not found in the file")
	}
	writeFile(t, db, damaged)
	r := tributary(t, "check", "-db", "-config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "article "+id+`: stored with id "`+bad+`"`) {
		t.Fatalf("check -db on a damaged file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
