package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
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
				return func(tx *bolt.Tx) error {
					runs = append(runs, to)
					_, err := tx.CreateBucketIfNotExists([]byte{byte('0' + to)})
					return err
				}
			}
			steps := []migration{step(2), step(3)}
			for range 2 { // the second run finds nothing to do
				err = db.Update(func(tx *bolt.Tx) error {
					_, err := migrate(tx, steps)
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
		c := openTestStore(t, path)
		if got := latest(t, c, AllSlug, 10); len(got) != 1 {
			t.Errorf("compacted file holds %v, want 1 article", got)
		}
	})
}
