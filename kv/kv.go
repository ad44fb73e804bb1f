// Package kv declares the ordered key-value database the store runs on: a
// tree of named buckets holding byte-sorted keys, read and written in
// transactions. Package storage keeps tributary's layout (doc.go there) in
// it and applies the story engine's decisions through it; a backend only
// has to keep keys in order and transactions atomic and serialisable.
// Package kv/boltkv is the embedded backend (one bbolt file), package
// pgkv the PostgreSQL one that several instances share.
//
// The interfaces follow bbolt's API, which storage was written against:
// Get, Put, cursors that move over a bucket's keys in byte order, nested
// buckets whose keys show in their parent's cursor with a nil value. A
// backend that meets an I/O error in a method without an error result (Get,
// a cursor move) panics with an *Error; DB.View and DB.Update recover it
// and return it, so storage code reads like bbolt code.
//
// Byte slices a Tx returns are valid only until the transaction ends and
// must not be modified.
package kv

import (
	"context"
	"errors"
)

// DB is an ordered key-value database.
type DB interface {
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot of the database.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn
	// returns nil and rolled back otherwise. Write transactions are
	// serialised: no two run at once, across every process that shares
	// the database.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the database; it waits for running transactions.
	Close() error
}

// Tx is one transaction.
type Tx interface {
	// ID is the generation of the database this transaction sees: it
	// grows with every committed write transaction and never goes back,
	// also across restarts. A write transaction's ID is that of the
	// generation it will commit.
	ID() uint64
	// Writable reports whether this is a read-write transaction.
	Writable() bool
	// Bucket returns the top-level bucket name, or nil if there is none.
	Bucket(name []byte) Bucket
	// CreateBucket creates the top-level bucket name; it fails with
	// ErrBucketExists when there is one.
	CreateBucket(name []byte) (Bucket, error)
	// CreateBucketIfNotExists returns the top-level bucket name, created
	// if needed.
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// DeleteBucket deletes the top-level bucket name and all it holds; it
	// fails with ErrBucketNotFound when there is none.
	DeleteBucket(name []byte) error
	// Cursor walks the names of the top-level buckets (values are nil).
	Cursor() Cursor
}

// Bucket is a set of byte-sorted keys with their values, and of nested
// buckets named like keys.
type Bucket interface {
	// Get returns the value of key, or nil when key is absent or names a
	// nested bucket.
	Get(key []byte) []byte
	// Put sets the value of key (not empty; value not nil).
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
	// Cursor walks the bucket's keys in byte order; a nested bucket's
	// name shows with a nil value.
	Cursor() Cursor
	// ForEach calls fn for every key in order, a nested bucket's name with
	// a nil value, and stops at fn's first error, which it returns. fn
	// must not change the bucket.
	ForEach(fn func(key, value []byte) error) error
	// Bucket returns the nested bucket name, or nil if there is none.
	Bucket(name []byte) Bucket
	// CreateBucket creates the nested bucket name; ErrBucketExists when
	// there is one.
	CreateBucket(name []byte) (Bucket, error)
	// CreateBucketIfNotExists returns the nested bucket name, created if
	// needed.
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// DeleteBucket deletes the nested bucket name and all it holds;
	// ErrBucketNotFound when there is none.
	DeleteBucket(name []byte) error
	// AppendHint tells the backend that new keys of this bucket mostly
	// come after all existing ones (bbolt packs its pages fuller); a
	// backend may ignore it.
	AppendHint()
}

// Cursor moves over a bucket's keys in byte order. Every move returns the
// key and value it lands on, or nil, nil past either end.
type Cursor interface {
	First() (key, value []byte)
	Last() (key, value []byte)
	Next() (key, value []byte)
	Prev() (key, value []byte)
	// Seek moves to key, or to the first key after it.
	Seek(key []byte) (key2, value []byte)
	// Delete removes the key the cursor is on; the next Next moves to
	// the key after it.
	Delete() error
}

// Errors of bucket operations, shared by every backend.
var (
	ErrBucketExists   = errors.New("bucket already exists")
	ErrBucketNotFound = errors.New("bucket not found")
	ErrTxNotWritable  = errors.New("transaction not writable")
	// ErrIncompatibleValue is a value operation on a nested bucket's
	// name, or a bucket operation on a key that holds a value.
	ErrIncompatibleValue = errors.New("incompatible value")
	// ErrKeyTooLarge is a key or bucket name longer than the backend
	// takes (bbolt: 32 KiB; PostgreSQL: see package pgkv).
	ErrKeyTooLarge = errors.New("key too large")
)

// Error is an I/O failure a backend met in a method without an error
// result; it panics with it and View or Update returns it (see Recover).
type Error struct{ Err error }

func (e *Error) Error() string { return "kv: " + e.Err.Error() }

// Unwrap returns the backend's error.
func (e *Error) Unwrap() error { return e.Err }

// Recover turns a panic with an *Error into *err; it re-panics with
// anything else. A backend defers it in View and Update.
func Recover(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if e, ok := r.(*Error); ok {
		*err = e
		return
	}
	panic(r)
}

// Prefetcher is a Bucket that reads many keys in one go. A backend whose
// every read is a round trip to a server implements it (package pgkv), so
// that a caller about to look up many keys asks for them at once; what a
// prefetch read answers the later Get or Seek as the database would, in
// the transaction's snapshot, with the transaction's own writes over it.
// bbolt reads memory and does not implement it. Call it through
// PrefetchKeys and PrefetchSeeks, which do nothing on other backends.
type Prefetcher interface {
	// PrefetchKeys reads the values of keys, for Get (and Bucket).
	PrefetchKeys(keys [][]byte)
	// PrefetchSeeks reads, for each of seeks, what a cursor finds from
	// its Seek(From) on: the keys from From up to To, at most n of them,
	// and when there are fewer, the first key at or after To (To nil:
	// the first n keys from From). A Seek to From and the Next moves
	// after it are then answered from memory.
	PrefetchSeeks(seeks []Range, n int)
}

// Range is the keys from From up to, not including, To.
type Range struct{ From, To []byte }

// PrefetchKeys asks b to read keys in one go, if it is a Prefetcher.
func PrefetchKeys(b Bucket, keys [][]byte) {
	if p, ok := b.(Prefetcher); ok && len(keys) > 0 {
		p.PrefetchKeys(keys)
	}
}

// PrefetchSeeks asks b to read what cursors find from each of seeks on in
// one go (see Prefetcher), if it is a Prefetcher.
func PrefetchSeeks(b Bucket, seeks []Range, n int) {
	if p, ok := b.(Prefetcher); ok && len(seeks) > 0 && n > 0 {
		p.PrefetchSeeks(seeks, n)
	}
}

// A Carrier is a transaction of a backend whose every read is a round
// trip (PostgreSQL) that can hand what a read transaction read over to a
// later write transaction of the same DB, which then reads again only
// what a write committed in between may have changed: a caller that looks
// keys up in a read transaction, then again in a write transaction (to
// decide under the write lock), pays for the round trips once where it
// can. Call it through Carry and Adopt, which do nothing on other backends.
type Carrier interface {
	// Carry returns what the read transaction read, for Adopt; nil when
	// it cannot be carried.
	Carry() Carried
	// Adopt takes, in a write transaction, the reads of c that no write
	// committed since c's snapshot may have changed: a later Get of
	// their keys is answered from them, as the database would.
	Adopt(c Carried)
}

// Carried is what a read transaction read (Carrier.Carry), opaque to the
// caller.
type Carried any

// Carry returns what tx, a read transaction, read, for Adopt, if it is a
// Carrier; else nil.
func Carry(tx Tx) Carried {
	if c, ok := tx.(Carrier); ok {
		return c.Carry()
	}
	return nil
}

// Adopt gives tx, a write transaction, what a read transaction read (see
// Carrier), if it is a Carrier and c is not nil.
func Adopt(tx Tx, c Carried) {
	if a, ok := tx.(Carrier); ok && c != nil {
		a.Adopt(c)
	}
}
