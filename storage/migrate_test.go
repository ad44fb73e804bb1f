package storage

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
)

func TestMigrate(t *testing.T) {
	tests := []struct {
		name     string
		version  string
		wantRuns []int
		wantVer  string
		wantErr  string
	}{
		{name: "older file runs every missing step once", version: "1", wantRuns: []int{2, 3}, wantVer: "3"},
		{name: "middle version runs the rest", version: "2", wantRuns: []int{3}, wantVer: "3"},
		{name: "current version runs nothing", version: "3", wantVer: "3"},
		{name: "newer version is refused", version: "4", wantVer: "4", wantErr: "database schema version 4 is newer than this tributary supports (3)"},
		{name: "garbage version is refused", version: "x", wantVer: "x", wantErr: `schema version "x" is not a valid version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := bolt.Open(filepath.Join(t.TempDir(), "m.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte(bucketMeta))
				if err != nil {
					return err
				}
				return b.Put([]byte(keySchema), []byte(tt.version))
			})
			if err != nil {
				t.Fatal(err)
			}
			var runs []int
			step := func(to int) migration {
				return func(tx kv.Tx) error {
					runs = append(runs, to)
					_, err := tx.CreateBucketIfNotExists([]byte{byte('0' + to)})
					return err
				}
			}
			steps := []migration{step(2), step(3)}
			for range 2 { // the second run finds nothing to do
				err = db.Update(func(tx *bolt.Tx) error {
					_, err := migrate(boltkv.Wrap(tx), steps)
					return err
				})
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("migrate: %v, want %q", err, tt.wantErr)
					}
				} else if err != nil {
					t.Fatalf("migrate: %v", err)
				}
			}
			if !equalInts(runs, tt.wantRuns) {
				t.Errorf("steps run %v, want %v", runs, tt.wantRuns)
			}
			_ = db.View(func(tx *bolt.Tx) error {
				if got := tx.Bucket([]byte(bucketMeta)).Get([]byte(keySchema)); !bytes.Equal(got, []byte(tt.wantVer)) {
					t.Errorf("version %q, want %q", got, tt.wantVer)
				}
				return nil
			})
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMigrationsMatchSchemaVersion(t *testing.T) {
	if got := len(migrations()) + 1; got != schemaVersion {
		t.Fatalf("len(migrations())+1 = %d, schemaVersion = %d", got, schemaVersion)
	}
}

func TestBackupAndCompact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tributary.db")
	s, err := Open(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	var arts []Article
	for _, g := range []string{"a", "b", "c", "d", "e", "f"} {
		a := testArticle(g, hour(10), "world")
		a.Content = strings.Repeat("<p>padding</p>", 2000)
		arts = append(arts, a)
	}
	save(t, s, arts...)
	if _, err := s.Prune(t.Context(), PruneOptions{MaxPerCategory: 1}); err != nil {
		t.Fatal(err)
	}

	t.Run("backup", func(t *testing.T) {
		out := filepath.Join(dir, "backup.db")
		err := WriteFileAtomic(out, 0o600, func(w io.Writer) error {
			_, err := s.WriteTo(t.Context(), w)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(out, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := b.Check(t.Context()); err != nil {
			t.Error(err)
		}
		if got := latest(t, b, AllSlug, 10); len(got) != 1 {
			t.Errorf("backup holds %v, want 1 article", got)
		}
	})

	t.Run("compact refuses while open", func(t *testing.T) {
		if _, err := Compact(path, Options{LockTimeout: 100 * 1e6}); !errors.Is(err, ErrLocked) {
			t.Fatalf("Compact while open: %v, want ErrLocked", err)
		}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("compact", func(t *testing.T) {
		res, err := Compact(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.After >= res.Before {
			t.Errorf("compact: %d → %d bytes, want smaller", res.Before, res.After)
		}
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("compacted file: %v, %v", info.Mode(), err)
		}
		c := openTestFile(t, path)
		if got := latest(t, c, AllSlug, 10); len(got) != 1 {
			t.Errorf("compacted file holds %v, want 1 article", got)
		}
	})
}

// bucketLen counts the keys of the top-level bucket name of the bbolt file
// at path, -1 when there is no such bucket, and returns the file's schema
// version.
func bucketLen(t *testing.T, path, name string) (n int, schema string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n = -1
	_ = db.View(func(tx *bolt.Tx) error {
		schema = string(tx.Bucket([]byte(bucketMeta)).Get([]byte(keySchema)))
		if b := tx.Bucket([]byte(name)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, schema
}

// schema1File writes testdata/schema1.db.gz, a database of the schema 1
// layout (60 generated stories from three sources and one copy), into a
// temporary directory and returns its path.
func schema1File(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "schema1.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	db, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tributary.db")
	if err := os.WriteFile(path, db, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSketchByPeriodMigration opens testdata/schema1.db.gz, written by the
// schema 1 layout (60 generated stories from three sources and one copy),
// and checks that the sketch index moves to the period-first layout whole:
// Check passes (every signature record's entries are there, each entry's
// story exists), and new copies of the stored stories are still found
// through it.
func TestSketchByPeriodMigration(t *testing.T) {
	path := schema1File(t)
	entries, schema := bucketLen(t, path, bucketSketchV1)
	if schema != "1" || entries < 60*10 {
		t.Fatalf("fixture: schema %q with %d sketch entries, want schema 1 with at least 600", schema, entries)
	}
	s, err := Open(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check after the migration: %v", err)
	}
	res := save(t, s, laterCopy(7), laterCopy(30), laterCopy(59))
	if res.Merged != 3 || res.New != 0 {
		t.Errorf("copies of stored stories after the migration: %+v, want 3 merged", res)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, schema := bucketLen(t, path, bucketSketchV1); n != -1 || schema != strconv.Itoa(schemaVersion) {
		t.Errorf("after Open: schema %q, old sketch bucket with %d keys; want schema %d and no old bucket", schema, n, schemaVersion)
	}
	if n, _ := bucketLen(t, path, bucketSketch); n < entries {
		t.Errorf("after Open: %d sketch entries, want the %d migrated and those of the new copies", n, entries)
	}
	openTestFile(t, path) // its cleanup runs Check
}

// laterCopy is a syndicated copy of generated story k (benchStory) from a
// source the fixtures do not have.
func laterCopy(k int) Article {
	c := benchStory(k, "later-copies.example")
	c.Title += " | Later"
	return c
}

// TestSalvageSchema1 salvages a database of the schema 1 layout: the
// stories are rebuilt into a store of the current layout, whose sketch
// index finds their copies.
func TestSalvageSchema1(t *testing.T) {
	out := filepath.Join(t.TempDir(), "salvaged.db")
	rep, err := Salvage(t.Context(), schema1File(t), out)
	if err != nil || rep.Articles != 60 {
		t.Fatalf("Salvage: %+v, %v; want 60 articles", rep, err)
	}
	s := openTestFile(t, out) // its cleanup runs Check
	if res := save(t, s, laterCopy(3), laterCopy(42)); res.Merged != 2 {
		t.Errorf("copies of salvaged stories: %+v, want 2 merged", res)
	}
}
