package storage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Size returns the size in bytes of the database as of now, the size a
// backup would have. It needs a bbolt file (ErrNotFile otherwise). Safe for
// concurrent use.
func (s *Store) Size() (int64, error) {
	file, err := s.boltFile("size of " + s.name)
	if err != nil {
		return 0, err
	}
	var n int64
	err = file.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", s.name, err)
	}
	return n, nil
}

// WriteTo writes a consistent copy of the whole database to w: a snapshot
// taken in one read transaction, which is held until the copy is written,
// so w should not be slow (writers go on; only page reuse waits). It
// returns the number of bytes written. It needs a bbolt file (ErrNotFile
// otherwise). Safe for concurrent use.
func (s *Store) WriteTo(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	file, err := s.boltFile("back up " + s.name)
	if err != nil {
		return 0, err
	}
	var n int64
	err = file.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up %s: %w", s.name, err)
	}
	return n, nil
}

// WriteFileAtomic writes the bytes from write to path atomically: into a
// temporary file in path's directory with the given mode, synced to disk,
// then renamed over path, and the directory synced. On any error path is
// untouched and the temporary file is removed.
func WriteFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: the rename is done either way
		_ = d.Close()
	}
	return nil
}
