// Package boltkv is the embedded backend of package kv: one bbolt file,
// locked by the process that opens it. Its types wrap bbolt's without
// copying: a bucket or cursor is one pointer, so handing it out as a kv
// interface allocates nothing.
package boltkv

import (
	"context"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tributary/tributary/kv"
)

// DB is a kv.DB over an open bbolt database.
type DB struct{ db *bolt.DB }

// New returns the kv.DB of db; closing it closes db.
func New(db *bolt.DB) *DB { return &DB{db: db} }

// Bolt returns the bbolt database, for what only a file has: backups,
// compaction, consistency checks of its pages, its size.
func (d *DB) Bolt() *bolt.DB { return d.db }

// View implements kv.DB.
func (d *DB) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.View(func(tx *bolt.Tx) error { return fn(Tx{tx}) })
}

// Update implements kv.DB.
func (d *DB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.Update(func(tx *bolt.Tx) error { return fn(Tx{tx}) })
}

// Close implements kv.DB.
func (d *DB) Close() error { return d.db.Close() }

// Tx is a kv.Tx over a bbolt transaction.
type Tx struct{ tx *bolt.Tx }

// Wrap returns the kv.Tx of tx.
func Wrap(tx *bolt.Tx) Tx { return Tx{tx} }

// Bolt returns the bbolt transaction.
func (t Tx) Bolt() *bolt.Tx { return t.tx }

// ID implements kv.Tx: bbolt's transaction id, which grows by one with
// every committed write transaction.
func (t Tx) ID() uint64 { return uint64(t.tx.ID()) }

// Writable implements kv.Tx.
func (t Tx) Writable() bool { return t.tx.Writable() }

// Bucket implements kv.Tx.
func (t Tx) Bucket(name []byte) kv.Bucket { return wrapBucket(t.tx.Bucket(name)) }

// CreateBucket implements kv.Tx.
func (t Tx) CreateBucket(name []byte) (kv.Bucket, error) {
	b, err := t.tx.CreateBucket(name)
	return wrapBucket(b), convert(err)
}

// CreateBucketIfNotExists implements kv.Tx.
func (t Tx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	return wrapBucket(b), convert(err)
}

// DeleteBucket implements kv.Tx.
func (t Tx) DeleteBucket(name []byte) error { return convert(t.tx.DeleteBucket(name)) }

// Cursor implements kv.Tx.
func (t Tx) Cursor() kv.Cursor { return Cursor{t.tx.Cursor()} }

// Bucket is a kv.Bucket over a bbolt bucket.
type Bucket struct{ b *bolt.Bucket }

// wrapBucket returns b as a kv.Bucket, nil when b is nil.
func wrapBucket(b *bolt.Bucket) kv.Bucket {
	if b == nil {
		return nil
	}
	return Bucket{b}
}

// Bolt returns the bbolt bucket.
func (b Bucket) Bolt() *bolt.Bucket { return b.b }

// Get implements kv.Bucket.
func (b Bucket) Get(key []byte) []byte { return b.b.Get(key) }

// Put implements kv.Bucket.
func (b Bucket) Put(key, value []byte) error { return convert(b.b.Put(key, value)) }

// Delete implements kv.Bucket.
func (b Bucket) Delete(key []byte) error { return convert(b.b.Delete(key)) }

// Cursor implements kv.Bucket.
func (b Bucket) Cursor() kv.Cursor { return Cursor{b.b.Cursor()} }

// ForEach implements kv.Bucket.
func (b Bucket) ForEach(fn func(key, value []byte) error) error { return b.b.ForEach(fn) }

// Bucket implements kv.Bucket.
func (b Bucket) Bucket(name []byte) kv.Bucket { return wrapBucket(b.b.Bucket(name)) }

// CreateBucket implements kv.Bucket.
func (b Bucket) CreateBucket(name []byte) (kv.Bucket, error) {
	nb, err := b.b.CreateBucket(name)
	return wrapBucket(nb), convert(err)
}

// CreateBucketIfNotExists implements kv.Bucket.
func (b Bucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	nb, err := b.b.CreateBucketIfNotExists(name)
	return wrapBucket(nb), convert(err)
}

// DeleteBucket implements kv.Bucket.
func (b Bucket) DeleteBucket(name []byte) error { return convert(b.b.DeleteBucket(name)) }

// appendFill is the fill of pages of buckets whose keys mostly grow at the
// end: full pages, as nothing will be inserted between their keys.
const appendFill = 0.9

// AppendHint implements kv.Bucket: it packs the bucket's pages fuller for
// this transaction.
func (b Bucket) AppendHint() { b.b.FillPercent = appendFill }

// Cursor is a kv.Cursor over a bbolt cursor.
type Cursor struct{ c *bolt.Cursor }

// First implements kv.Cursor.
func (c Cursor) First() ([]byte, []byte) { return c.c.First() }

// Last implements kv.Cursor.
func (c Cursor) Last() ([]byte, []byte) { return c.c.Last() }

// Next implements kv.Cursor.
func (c Cursor) Next() ([]byte, []byte) { return c.c.Next() }

// Prev implements kv.Cursor.
func (c Cursor) Prev() ([]byte, []byte) { return c.c.Prev() }

// Seek implements kv.Cursor.
func (c Cursor) Seek(key []byte) ([]byte, []byte) { return c.c.Seek(key) }

// Delete implements kv.Cursor.
func (c Cursor) Delete() error { return convert(c.c.Delete()) }

// convert maps bbolt's bucket errors to kv's, so that callers test them
// the same way whatever the backend.
func convert(err error) error {
	switch err {
	case nil:
		return nil
	case berrors.ErrBucketExists:
		return kv.ErrBucketExists
	case berrors.ErrBucketNotFound:
		return kv.ErrBucketNotFound
	case berrors.ErrTxNotWritable:
		return kv.ErrTxNotWritable
	case berrors.ErrIncompatibleValue:
		return kv.ErrIncompatibleValue
	case berrors.ErrKeyTooLarge:
		return kv.ErrKeyTooLarge
	}
	return err
}
