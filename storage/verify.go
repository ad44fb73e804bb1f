package storage

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// verifyLockTimeout is how long VerifyFile waits for the file lock: a
// daemon holding the file is found at once, and Open reports it.
const verifyLockTimeout = 100 * time.Millisecond

// maxVerifyProblems caps the problems VerifyFile names.
const maxVerifyProblems = 5

// VerifyFile checks that the bbolt file at path can be opened and read
// without crashing: both meta pages, the file size they imply, bbolt's
// page check (the page walk Open does to rebuild the free list, and
// more), and a read of every key and value of every bucket. It opens the
// file read-only and changes nothing.
//
// bbolt does not survive every damaged file: it may panic in goroutines of
// its own or fault on a page beyond the end of the file, which kills the
// process. VerifyFile is therefore meant to run in a child process (see
// cmd/tributary), whose death the parent reads as damage. It returns nil,
// an error wrapping ErrDamaged, or another error when the file could not
// be checked: it does not exist (fs.ErrNotExist), is not readable, or is
// locked by another process (ErrLocked).
func VerifyFile(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: verifyLockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("verify %s: %w", path, ErrLocked)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("verify %s: %w", path, err)
	case err != nil:
		return fmt.Errorf("%w: %s: %w", ErrDamaged, path, err)
	}
	defer func() { _ = db.Close() }()
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	var problems []string
	err = db.View(func(tx *bolt.Tx) error {
		if need := tx.Size(); info.Size() < need {
			// Reading a page past the end of the file kills the process.
			problems = append(problems, fmt.Sprintf("file is truncated: %d bytes, its pages need %d", info.Size(), need))
			return nil
		}
		for err := range tx.Check() {
			if len(problems) < maxVerifyProblems {
				// bbolt reports a panic it recovered as "panic: …".
				problems = append(problems, strings.TrimPrefix(err.Error(), "panic: "))
			}
		}
		if len(problems) > 0 {
			return nil
		}
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			return readBucket(b, crc32.NewIEEE())
		})
	})
	if err == nil && len(problems) == 0 {
		return nil
	}
	if err != nil {
		problems = append(problems, err.Error())
	}
	return fmt.Errorf("%w: %s: %s", ErrDamaged, path, strings.Join(problems, "; "))
}

// readBucket reads every key and value of b and of its nested buckets,
// feeding them to h so that every byte is touched.
func readBucket(b *bolt.Bucket, h io.Writer) error {
	return b.ForEach(func(k, v []byte) error {
		_, _ = h.Write(k)
		if v != nil {
			_, _ = h.Write(v)
			return nil
		}
		child := b.Bucket(k)
		if child == nil {
			return fmt.Errorf("bucket entry %q is neither a value nor a bucket", k)
		}
		return readBucket(child, h)
	})
}
