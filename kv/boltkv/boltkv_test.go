package boltkv_test

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
	"github.com/tributary/tributary/kv/kvtest"
)

// open opens a new bbolt file; its mmap starts large enough that a write
// never waits for a view to end (kvtest's snapshot test commits while a
// view is open).
func open(t *testing.T) (kv.DB, func() kv.DB) {
	path := filepath.Join(t.TempDir(), "kv.db")
	opts := &bolt.Options{Timeout: time.Second, InitialMmapSize: 64 << 20}
	var db *boltkv.DB
	openFile := func() kv.DB {
		b, err := bolt.Open(path, 0o600, opts)
		if err != nil {
			t.Fatal(err)
		}
		db = boltkv.New(b)
		return db
	}
	openFile()
	t.Cleanup(func() { _ = db.Close() })
	return db, func() kv.DB {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return openFile()
	}
}

func TestConformance(t *testing.T) { kvtest.Run(t, open) }
