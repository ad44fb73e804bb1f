package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
	"github.com/tributary/tributary/story"
)

// testFeed is the source feed of the test articles.
const testFeed = "https://feeds.example/world.rss"

// testNow is the store clock in tests.
func testNow() time.Time { return time.Date(2025, 8, 17, 15, 0, 0, 0, time.UTC) }

// hour returns 17 August 2025 at h:00 UTC, a Published time.
func hour(h int) time.Time { return time.Date(2025, 8, 17, h, 0, 0, 0, time.UTC) }

// testArticle returns an article named name (its GUID), filed in slugs.
func testArticle(name string, published time.Time, slugs ...string) Article {
	var cats []Category
	for _, s := range slugs {
		cats = append(cats, Category{Slug: s, Name: strings.ToUpper(s)})
	}
	return Article{
		ID:         story.ItemKey(testFeed, name, "", "", ""),
		GUID:       name,
		Title:      "Story " + name,
		Link:       "https://news.example/" + name,
		Published:  published,
		Updated:    published,
		Author:     "Reporter",
		Content:    "<p>" + name + "</p>",
		Categories: cats,
		Source:     Source{FeedURL: testFeed, ID: testFeed, Title: "World"},
	}
}

// guids lists the GUIDs of arts, to compare orders readably.
func guids(arts []Article) []string {
	out := []string{}
	for _, a := range arts {
		out = append(out, a.GUID)
	}
	return out
}

// testBackendEnv names the environment variable that picks the backend
// storage's tests run on: "bolt" (the default) or "postgres". Tests that
// use openTestStore run on it; those about what only a bbolt file has
// (Salvage, VerifyFile, Compact, the schema-1 file of migrate_test, the
// file lock, reopening a file, its size) open files with Open or
// openTestFile and run on bbolt whatever it says.
const testBackendEnv = "TRIBUTARY_TEST_BACKEND"

// openTestStore opens a new, empty store on the test backend with the test
// clock; cleanup runs Check and then Close.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	return openTestStoreOpts(t, Options{Now: testNow})
}

// openTestStoreOpts is openTestStore with opts.
func openTestStoreOpts(t testing.TB, opts Options) *Store {
	t.Helper()
	s := newBackendStore(t, opts)
	t.Cleanup(func() { checkTestStore(t, s) })
	return s
}

// newBackendStore opens a new, empty store on the backend testBackendEnv
// names; cleanup closes it, without checking it.
func newBackendStore(t testing.TB, opts Options) *Store {
	t.Helper()
	var s *Store
	var err error
	switch backend := os.Getenv(testBackendEnv); backend {
	case "", "bolt":
		s, err = Open(filepath.Join(t.TempDir(), "tributary.db"), opts)
	case "postgres":
		s, err = New(openPostgresTestDB(t), opts)
	default:
		t.Fatalf("%s=%q: want bolt or postgres", testBackendEnv, backend)
	}
	if err != nil {
		t.Fatalf("open the test store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openPostgresTestDB returns an empty kv.DB in a new database of the test
// binary's private PostgreSQL server (pgtest), closed by the Store that
// takes it.
func openPostgresTestDB(t testing.TB) kv.DB {
	t.Helper()
	db, err := pgkv.Open(context.Background(), pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatalf("open the test database: %v", err)
	}
	return db
}

// openTestFile opens the bbolt store at path with the test clock; cleanup
// runs Check and then Close.
func openTestFile(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{Now: testNow})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		checkTestStore(t, s)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// checkTestStore runs Check on s and fails the test on a problem.
func checkTestStore(t testing.TB, s *Store) {
	t.Helper()
	// t.Context is already cancelled when cleanups run.
	if err := s.Check(context.Background()); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// save stores arts and fails the test on error.
func save(t *testing.T, s *Store, arts ...Article) SaveResult {
	t.Helper()
	res, err := s.SaveArticles(t.Context(), arts)
	if err != nil {
		t.Fatalf("SaveArticles: %v", err)
	}
	return res
}

// latest returns the GUIDs of Latest(slug, limit) and fails the test on error.
func latest(t *testing.T, s *Store, slug string, limit int) []string {
	t.Helper()
	arts, err := s.Latest(t.Context(), slug, limit)
	if err != nil {
		t.Fatalf("Latest(%q, %d): %v", slug, limit, err)
	}
	return guids(arts)
}

// categories returns Categories() and fails the test on error.
func categories(t *testing.T, s *Store) []CategoryInfo {
	t.Helper()
	cats, err := s.Categories(t.Context())
	if err != nil {
		t.Fatalf("Categories: %v", err)
	}
	return cats
}

// txID is the id of the last committed transaction: it grows with every
// write, so an unchanged txID proves nothing was written.
func txID(t *testing.T, s *Store) uint64 {
	t.Helper()
	var id uint64
	if err := s.db.View(context.Background(), func(tx kv.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRestartKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	s, err := Open(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	arts := []Article{
		testArticle("a", hour(9), "world"),
		testArticle("b", hour(11), "business", "world"),
		testArticle("c", hour(10)),
	}
	if _, err := s.SaveArticles(t.Context(), arts); err != nil {
		t.Fatal(err)
	}
	states := []SourceState{
		{FeedURL: "https://a.example/feed", ETag: `"x1"`, Outcome: "ok", LastSuccess: hour(12)},
		{FeedURL: "https://b.example/feed", Outcome: "timeout", LastError: "deadline", ConsecutiveFailures: 2},
	}
	for _, st := range states {
		if err := s.PutSourceState(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	wantCats := categories(t, s)
	wantLatest := latest(t, s, AllSlug, 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTestFile(t, path)
	if diff := cmp.Diff(wantLatest, latest(t, s, AllSlug, 10)); diff != "" {
		t.Errorf("Latest after reopen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantCats, categories(t, s)); diff != "" {
		t.Errorf("Categories after reopen (-want +got):\n%s", diff)
	}
	gotStates, err := s.SourceStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(states, gotStates); diff != "" {
		t.Errorf("SourceStates after reopen (-want +got):\n%s", diff)
	}
	for _, a := range arts {
		got, found, err := s.Article(t.Context(), a.ID)
		if err != nil || !found {
			t.Fatalf("Article(%s) = found %t, %v", a.GUID, found, err)
		}
		a.FirstSeen = testNow()
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Article(%s) after reopen (-want +got):\n%s", a.GUID, diff)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		max     time.Duration
	}{
		{"default timeout", 0, 3 * time.Second},
		{"short timeout", 100 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tributary.db")
			openTestFile(t, path) // the file lock is a file's
			start := time.Now()
			s2, err := Open(path, Options{LockTimeout: tt.timeout})
			elapsed := time.Since(start)
			if err == nil {
				_ = s2.Close()
				t.Fatal("second Open succeeded, want ErrLocked")
			}
			if !errors.Is(err, ErrLocked) {
				t.Errorf("second Open: %v, want ErrLocked", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if elapsed > tt.max {
				t.Errorf("second Open took %v, want at most %v", elapsed, tt.max)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // makes the file at path
		want    string                          // in the error, besides the path
		wantIs  error
	}{
		{
			name:    "missing directory",
			prepare: func(*testing.T, string) {},
			want:    "directory",
			wantIs:  fs.ErrNotExist,
		},
		{
			name: "newer schema",
			prepare: func(t *testing.T, path string) {
				setSchema(t, path, strconv.Itoa(schemaVersion+1))
			},
			want: fmt.Sprintf("database schema version %d is newer than this tributary supports (%d)", schemaVersion+1, schemaVersion),
		},
		{
			name: "garbled schema",
			prepare: func(t *testing.T, path string) {
				setSchema(t, path, "one")
			},
			want: `database schema version "one" is not a number`,
		},
		{
			name: "another program's bbolt file",
			prepare: func(t *testing.T, path string) {
				db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(func(tx *bolt.Tx) error {
					_, err := tx.CreateBucket([]byte("widgets"))
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			},
			want: "not a tributary database",
		},
		{
			name: "not a bbolt file",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: "invalid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tributary.db")
			if tt.wantIs == fs.ErrNotExist {
				path = filepath.Join(dir, "missing", "tributary.db")
			}
			tt.prepare(t, path)
			s, err := Open(path, Options{})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %q, want it to name %s and say %q", err, path, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Open: %v, want errors.Is %v", err, tt.wantIs)
			}
		})
	}
}

// setSchema creates a store at path and overwrites its schema version.
func setSchema(t *testing.T, path, version string) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(context.Background(), func(tx kv.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte(version))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCreatesThenOnlyReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("new database has mode %v, want 0600", perm)
	}
	before := txID(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestFile(t, path)
	if got := txID(t, s); got != before {
		t.Errorf("reopening moved the transaction id from %d to %d", before, got)
	}
}

func TestSourceStates(t *testing.T) {
	s := openTestStore(t)
	ctx := t.Context()
	if _, found, err := s.SourceState(ctx, "https://none.example/feed"); err != nil || found {
		t.Errorf("SourceState of unknown source = found %t, %v; want false, nil", found, err)
	}
	if err := s.PutSourceState(ctx, SourceState{}); err == nil {
		t.Error("PutSourceState with empty FeedURL succeeded, want an error")
	}
	put := []SourceState{
		{FeedURL: "https://z.example/feed", Outcome: "ok"},
		{FeedURL: "https://a.example/feed", Outcome: "http-error", LastError: "503", ConsecutiveFailures: 1},
		{FeedURL: "https://a.example/feed", Outcome: "ok", ETag: `W/"1"`, LastModified: "Sun, 17 Aug 2025 14:26:19 GMT", NextDue: hour(16)},
	}
	for _, st := range put {
		if err := s.PutSourceState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	got, found, err := s.SourceState(ctx, "https://a.example/feed")
	if err != nil || !found {
		t.Fatalf("SourceState = found %t, %v", found, err)
	}
	if diff := cmp.Diff(put[2], got); diff != "" {
		t.Errorf("SourceState (-want +got):\n%s", diff)
	}
	all, err := s.SourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]SourceState{put[2], put[0]}, all); diff != "" {
		t.Errorf("SourceStates (-want +got):\n%s", diff)
	}
}
