package storage

import (
	"errors"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// compactTxSize is the most bytes copied per transaction while compacting.
const compactTxSize = 64 << 20

// CompactResult gives the file size before and after Compact.
type CompactResult struct {
	Before, After int64
}

// Compact rewrites the database file at path without its free pages: it
// copies every bucket into a temporary file next to it, syncs it and
// renames it over path, keeping the file mode. It needs the file lock, so it
// fails with an error wrapping ErrLocked while another process (a running
// daemon) holds the file; it waits at most opts.LockTimeout for it.
func Compact(path string, opts Options) (CompactResult, error) {
	var res CompactResult
	s, err := Open(path, opts)
	if err != nil {
		return res, err
	}
	src := s.file
	defer func() { _ = s.Close() }()
	info, err := os.Stat(path)
	if err != nil {
		return res, fmt.Errorf("compact %s: %w", path, err)
	}
	res.Before = info.Size()
	err = WriteFileAtomic(path, info.Mode().Perm(), func(w io.Writer) error {
		f, ok := w.(*os.File)
		if !ok {
			return errors.New("compact needs a file")
		}
		dst, err := bolt.Open(f.Name(), info.Mode().Perm(), &bolt.Options{Timeout: opts.LockTimeout})
		if err != nil {
			return err
		}
		if err := bolt.Compact(dst, src, compactTxSize); err != nil {
			_ = dst.Close()
			return err
		}
		return dst.Close()
	})
	if err != nil {
		return res, fmt.Errorf("compact %s: %w", path, err)
	}
	after, err := os.Stat(path)
	if err != nil {
		return res, fmt.Errorf("compact %s: %w", path, err)
	}
	res.After = after.Size()
	return res, nil
}
