package storage

import "errors"

// ErrLocked is returned (wrapped) by Open when another process, or another
// Store in this process, holds the database file. Callers test it with
// errors.Is to tell "already running" apart from other failures.
var ErrLocked = errors.New("database in use by another process")
