package storage

import "errors"

// ErrLocked is returned (wrapped) by Open when another process, or another
// Store in this process, holds the database file. Callers test it with
// errors.Is to tell "already running" apart from other failures.
var ErrLocked = errors.New("database in use by another process")

// ErrInvalidCursor is returned (wrapped) by Page when a cursor is not an
// index key this store could have made. Callers answer it as a bad request.
var ErrInvalidCursor = errors.New("invalid page cursor")

// ErrDamaged is returned (wrapped) by VerifyFile when the database file is
// damaged: bbolt's page structure is broken, or a page cannot be read.
// Callers stop rather than open such a file: bbolt may crash on it.
var ErrDamaged = errors.New("database damaged")

// ErrNotFile is returned (wrapped) by what only a bbolt file can do (Size,
// WriteTo) when the store is kept in another backend, whose own tools do
// that work.
var ErrNotFile = errors.New("needs a bbolt file; for PostgreSQL use pg_dump to back up and VACUUM to compact")
