package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv/boltkv"
	"github.com/tributary/tributary/kv/kvcopy"
	"github.com/tributary/tributary/pgtest"
	"github.com/tributary/tributary/storage"
)

// fetchedDataDir fetches the today-news fixtures with the binary into a
// new data_dir and returns it.
func fetchedDataDir(t *testing.T) string {
	t.Helper()
	cfg := todayNewsConfig(t, todayNewsServer(t).URL, freeAddr(t))
	if r := tributary(t, "fetch", "-config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return filepath.Join(filepath.Dir(cfg), "data")
}

// categoriesOf opens the store at path and returns its categories.
func categoriesOf(t *testing.T, path string) []storage.CategoryInfo {
	t.Helper()
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("check %s: %v", path, err)
	}
	cats, err := s.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cats
}

func TestCopyDBBoltToBolt(t *testing.T) {
	data := fetchedDataDir(t)
	tests := []struct {
		name, to string
		batch    []string
	}{
		{"into a new file, default batches", "copy.db", nil},
		{"into a data_dir, batches of 7 keys", "", []string{"-batch", "7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			to := filepath.Join(dir, tt.to)
			r := tributary(t, append([]string{"copy-db", "-from", data, "-to", to}, tt.batch...)...)
			if r.code != 0 {
				t.Fatalf("copy-db: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			want := regexp.MustCompile(`^copied \S+/tributary.db to \S+: \d+ buckets, [1-9]\d* keys, [1-9]\d* bytes in \S+
compare: \d+ buckets identical
check: ok
$`)
			if !want.MatchString(r.stdout) {
				t.Errorf("stdout does not match %s:\n%s", want, r.stdout)
			}
			copied := to
			if tt.to == "" {
				copied = filepath.Join(dir, dbFile)
			}
			if diff := cmp.Diff(categoriesOf(t, filepath.Join(data, dbFile)), categoriesOf(t, copied)); diff != "" {
				t.Errorf("categories (-source +copy):\n%s", diff)
			}
		})
	}
}

func TestCopyDBRefuses(t *testing.T) {
	data := fetchedDataDir(t)
	src := filepath.Join(data, dbFile)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.db")
	if r := tributary(t, "copy-db", "-from", data, "-to", full); r.code != 0 {
		t.Fatalf("copy-db: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	before, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"non-empty destination", []string{"-from", data, "-to", full}, 1,
			`destination database is not empty (it holds the bucket "aliases")`},
		{"same database", []string{"-from", data, "-to", src}, 1, "-from and -to are the same database"},
		{"missing source", []string{"-from", filepath.Join(dir, "none.db"), "-to", filepath.Join(dir, "new.db")}, 1, "no such file or directory"},
		{"no -to", []string{"-from", data}, 2, "-from and -to are required"},
		{"bad batch", []string{"-from", data, "-to", filepath.Join(dir, "new.db"), "-batch", "0"}, 2, "-batch must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tributary(t, append([]string{"copy-db"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
	after, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("a refused copy changed the destination")
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); err == nil {
		t.Errorf("a refused copy left a new destination file")
	}
}

// TestCopyDBPostgres moves a fetched store from bbolt to PostgreSQL and
// back with the binary: each copy compares equal and passes the database
// check, the file that comes back holds the same keys as the one that
// left, and a non-empty PostgreSQL destination is refused.
func TestCopyDBPostgres(t *testing.T) {
	data := fetchedDataDir(t)
	url := pgtest.NewDatabase(t)
	back := filepath.Join(t.TempDir(), "back.db")
	for _, step := range []struct{ name, from, to string }{
		{"bbolt to PostgreSQL", data, url},
		{"PostgreSQL to bbolt", url, back},
	} {
		t.Run(step.name, func(t *testing.T) {
			r := tributary(t, "copy-db", "-from", step.from, "-to", step.to, "-batch", "50")
			if r.code != 0 {
				t.Fatalf("copy-db: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "\ncheck: ok\n") || !strings.Contains(r.stdout, " buckets identical\n") {
				t.Errorf("stdout lacks the comparison or the check:\n%s", r.stdout)
			}
		})
	}
	if d := diffFiles(t, filepath.Join(data, dbFile), back); len(d) > 0 {
		t.Errorf("the round trip differs from the file that left: %q", d)
	}
	if diff := cmp.Diff(categoriesOf(t, filepath.Join(data, dbFile)), categoriesOf(t, back)); diff != "" {
		t.Errorf("categories (-source +round trip):\n%s", diff)
	}
	r := tributary(t, "copy-db", "-from", data, "-to", url)
	if r.code != 1 || !strings.Contains(r.stderr, "destination database is not empty") {
		t.Errorf("copy into the filled database: exit %d, stderr %q", r.code, r.stderr)
	}
}

// diffFiles compares two bbolt files key by key (kvcopy.Diff).
func diffFiles(t *testing.T, a, b string) []string {
	t.Helper()
	var sums [2][]kvcopy.BucketSum
	for i, path := range []string{a, b} {
		db, err := boltkv.Open(path, boltkv.OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		sums[i], err = kvcopy.Sum(t.Context(), db)
		if err := errors.Join(err, db.Close()); err != nil {
			t.Fatal(err)
		}
	}
	return kvcopy.Diff(sums[0], sums[1])
}
