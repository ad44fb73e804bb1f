package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
)

// otherBackend hides the bbolt file under a kv.DB, so that a Store on it
// takes the path of any backend but bbolt.
type otherBackend struct{ kv.DB }

// openBolt opens a bbolt file at path for New.
func openBolt(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestNewOnAnotherBackend runs a Store on a kv.DB that is not a bbolt
// file: New writes the layout into the empty database, the store saves,
// reads and checks its invariants there, and what needs a file fails with
// ErrNotFile. The file then opens with Open, holding the same articles.
func TestNewOnAnotherBackend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	s, err := New(otherBackend{boltkv.New(openBolt(t, path))}, Options{Now: testNow})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a, b := testArticle("a", hour(1), "world"), testArticle("b", hour(2), "world", "tech")
	if res := save(t, s, a, b); res.New != 2 {
		t.Fatalf("saved %+v, want 2 new", res)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
	if _, err := s.Size(); !errors.Is(err, ErrNotFile) {
		t.Errorf("Size: %v, want ErrNotFile", err)
	}
	var buf bytes.Buffer
	if _, err := s.WriteTo(t.Context(), &buf); !errors.Is(err, ErrNotFile) || buf.Len() != 0 {
		t.Errorf("WriteTo: %v (%d bytes), want ErrNotFile and nothing written", err, buf.Len())
	}
	want := latest(t, s, "world", 10)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := latest(t, openTestFile(t, path), "world", 10); !cmp.Equal(got, want) {
		t.Errorf("reopened as a file: %v, want %v", got, want)
	}
}

// TestNewFindsTheFile gives New a bbolt file: what needs one works.
func TestNewFindsTheFile(t *testing.T) {
	s, err := New(boltkv.New(openBolt(t, filepath.Join(t.TempDir(), "tributary.db"))), Options{Now: testNow})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	save(t, s, testArticle("a", hour(1), "world"))
	if n, err := s.Size(); err != nil || n == 0 {
		t.Errorf("Size: %d, %v", n, err)
	}
	if n, err := s.WriteTo(t.Context(), io.Discard); err != nil || n == 0 {
		t.Errorf("WriteTo: %d, %v", n, err)
	}
}

// TestNewRefusesAnotherProgramsData leaves a database holding other
// buckets, and no meta, untouched.
func TestNewRefusesAnotherProgramsData(t *testing.T) {
	db := boltkv.New(openBolt(t, filepath.Join(t.TempDir(), "other.db")))
	t.Cleanup(func() { _ = db.Close() })
	err := db.Update(t.Context(), func(tx kv.Tx) error {
		_, err := tx.CreateBucket([]byte("theirs"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(otherBackend{db}, Options{}); err == nil || !strings.Contains(err.Error(), "not a tributary database") {
		t.Fatalf("New: %v, want not a tributary database", err)
	}
	err = db.View(t.Context(), func(tx kv.Tx) error {
		if k, _ := tx.Cursor().First(); string(k) != "theirs" || tx.Bucket([]byte(bucketMeta)) != nil {
			t.Errorf("New changed the database: first bucket %q", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitReturnsBackendErrors fails a write with a backend's I/O
// failure, a panic with a *kv.Error: the caller gets that error back, not
// a panic message, and the other writes of the transaction commit.
func TestGroupCommitReturnsBackendErrors(t *testing.T) {
	s := openTestStore(t)
	ioErr := &kv.Error{Err: io.ErrUnexpectedEOF}
	err := s.writes.update(func(kv.Tx) error { panic(ioErr) })
	var got *kv.Error
	if !errors.As(err, &got) || got != ioErr || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("update: %v, want the backend's error", err)
	}
	if err := s.PutSourceState(t.Context(), SourceState{FeedURL: testFeed}); err != nil {
		t.Errorf("a write after it: %v", err)
	}
}

// meetingDB is a kv.DB whose read transactions wait, after they ran,
// until n of them did: the Stores opened on it at once all look before
// any of them writes.
type meetingDB struct {
	kv.DB
	met sync.WaitGroup
}

func (m *meetingDB) View(ctx context.Context, fn func(kv.Tx) error) error {
	err := m.DB.View(ctx, fn)
	m.met.Done()
	m.met.Wait()
	return err
}

// TestNewTogetherOnOneDatabase starts two Stores at once on one empty
// database, as two instances sharing one do: both find it empty, one
// writes the layout and the other takes it instead of failing.
func TestNewTogetherOnOneDatabase(t *testing.T) {
	db := boltkv.New(openBolt(t, filepath.Join(t.TempDir(), "shared.db")))
	t.Cleanup(func() { _ = db.Close() })
	m := &meetingDB{DB: db}
	m.met.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = New(otherBackend{m}, Options{Now: testNow}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("New %d: %v", i, err)
		}
	}
}
