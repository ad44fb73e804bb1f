package boltkv_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
)

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	if _, err := boltkv.Open(path, boltkv.OpenOptions{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Open of a missing file: %v, want fs.ErrNotExist", err)
	}
	db, err := boltkv.Open(path, boltkv.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A new file is left empty: no layout is written.
	err = db.View(t.Context(), func(tx kv.Tx) error {
		if k, _ := tx.Cursor().First(); k != nil {
			t.Errorf("a new file holds the bucket %q", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = boltkv.Open(path, boltkv.OpenOptions{ReadOnly: true, Timeout: 50 * time.Millisecond})
	if !errors.Is(err, boltkv.ErrLocked) {
		t.Errorf("Open of a file held open: %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := boltkv.Open(path, boltkv.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open once released: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
}
