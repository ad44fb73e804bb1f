package boltkv

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("database in use by another process")

// OpenOptions tune Open.
type OpenOptions struct {
	// ReadOnly opens the file for reading only; it must exist.
	ReadOnly bool
	// Timeout is how long Open waits for the file's lock; zero means one
	// second.
	Timeout time.Duration
}

// Open opens the bbolt file at path as it is (creating an empty one, mode
// 0600, unless ReadOnly), with no tributary layout written or checked: for
// tools that copy or compare whole databases. It fails with ErrLocked when
// another process holds the file. The caller must Close the DB.
func Open(path string, opts OpenOptions) (*DB, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        timeout,
		ReadOnly:       opts.ReadOnly,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return New(db), nil
}
