// Package kvcopy copies one kv.DB into another, whatever their backends
// (bbolt to PostgreSQL and back), and compares two of them bucket by
// bucket. It knows nothing of tributary's layout: every bucket, nested
// bucket and key is copied as it is.
package kvcopy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/tributary/tributary/kv"
)

// DefaultBatchKeys is the number of keys written per destination
// transaction when Options.BatchKeys is zero.
const DefaultBatchKeys = 10_000

// maxBatchBytes bounds the keys and values held for one destination
// transaction, whatever Options.BatchKeys says: a batch of large values
// (articles with their full text) must not take unbounded memory.
const maxBatchBytes = 64 << 20

// ErrNotEmpty is returned by Copy when the destination holds a bucket:
// Copy never merges into, or overwrites, existing data.
var ErrNotEmpty = errors.New("destination database is not empty")

// Options tune Copy.
type Options struct {
	// BatchKeys is the number of keys (and buckets) written per
	// destination transaction; zero means DefaultBatchKeys.
	BatchKeys int
	// Progress, if not nil, is called after every committed destination
	// transaction with the totals so far, from Copy's goroutine.
	Progress func(Stats)
}

// Stats counts what Copy wrote.
type Stats struct {
	// Buckets counts buckets, top-level and nested.
	Buckets int64
	// Keys counts keys that hold a value (not the names of nested buckets).
	Keys int64
	// Bytes is the total length of those keys and values.
	Bytes int64
}

// op is one write of a batch: a bucket to create at path (value nil), or
// key to set to value in the bucket at path.
type op struct {
	path       [][]byte
	key, value []byte
}

// Copy copies every bucket and key of src, read in one transaction (a
// consistent snapshot), into dst, which must hold no bucket (ErrNotEmpty
// otherwise). It writes in transactions of Options.BatchKeys keys, so
// neither side holds one huge write; when it fails half way, dst holds a
// part of src and must be emptied before a new attempt.
func Copy(ctx context.Context, dst, src kv.DB, opts Options) (Stats, error) {
	if err := checkEmpty(ctx, dst); err != nil {
		return Stats{}, err
	}
	c := &copier{ctx: ctx, dst: dst, opts: opts}
	if c.opts.BatchKeys <= 0 {
		c.opts.BatchKeys = DefaultBatchKeys
	}
	err := src.View(ctx, func(tx kv.Tx) error {
		if err := c.walk(nil, tx.Cursor(), func(name []byte) kv.Bucket { return tx.Bucket(name) }); err != nil {
			return err
		}
		return c.flush()
	})
	if err != nil {
		return c.stats, fmt.Errorf("copy: %w", err)
	}
	return c.stats, nil
}

// checkEmpty returns ErrNotEmpty when db holds a bucket.
func checkEmpty(ctx context.Context, db kv.DB) error {
	return db.View(ctx, func(tx kv.Tx) error {
		if k, _ := tx.Cursor().First(); k != nil {
			return fmt.Errorf("copy: %w (it holds the bucket %q)", ErrNotEmpty, k)
		}
		return nil
	})
}

// copier holds the state of one Copy: the batch not yet written and the
// totals of what was.
type copier struct {
	ctx        context.Context
	dst        kv.DB
	opts       Options
	batch      []op
	batchBytes int
	stats      Stats
	pending    Stats // what batch adds to stats once written
}

// walk queues the buckets and keys a cursor c over the bucket at path
// lists; child opens the nested bucket of a name.
func (c *copier) walk(path [][]byte, cur kv.Cursor, child func(name []byte) kv.Bucket) error {
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v != nil {
			if err := c.add(op{path: path, key: bytes.Clone(k), value: bytes.Clone(v)}); err != nil {
				return err
			}
			continue
		}
		b := child(k)
		if b == nil {
			return fmt.Errorf("bucket %s: key %q has no value and is no bucket", pathString(path), k)
		}
		sub := append(slices.Clip(path), bytes.Clone(k))
		if err := c.add(op{path: sub}); err != nil {
			return err
		}
		if err := c.walk(sub, b.Cursor(), b.Bucket); err != nil {
			return err
		}
	}
	return nil
}

// add queues o, and writes the batch when it is full.
func (c *copier) add(o op) error {
	c.batch = append(c.batch, o)
	if o.value == nil {
		c.pending.Buckets++
	} else {
		c.pending.Keys++
		c.pending.Bytes += int64(len(o.key) + len(o.value))
	}
	c.batchBytes += len(o.key) + len(o.value)
	if len(c.batch) < c.opts.BatchKeys && c.batchBytes < maxBatchBytes {
		return nil
	}
	return c.flush()
}

// flush writes the batch in one destination transaction.
func (c *copier) flush() error {
	if len(c.batch) == 0 {
		return nil
	}
	err := c.dst.Update(c.ctx, func(tx kv.Tx) error {
		w := writer{tx: tx}
		for _, o := range c.batch {
			if err := w.apply(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write to destination: %w", err)
	}
	c.stats.Buckets += c.pending.Buckets
	c.stats.Keys += c.pending.Keys
	c.stats.Bytes += c.pending.Bytes
	c.batch, c.batchBytes, c.pending = c.batch[:0], 0, Stats{}
	if c.opts.Progress != nil {
		c.opts.Progress(c.stats)
	}
	return nil
}

// writer applies ops in one destination transaction, keeping the bucket
// of the last path, as consecutive ops mostly share it.
type writer struct {
	tx     kv.Tx
	path   [][]byte
	bucket kv.Bucket
}

// apply performs o.
func (w *writer) apply(o op) error {
	if o.value == nil {
		parent, err := w.open(o.path[:len(o.path)-1])
		if err != nil {
			return err
		}
		name := o.path[len(o.path)-1]
		var b kv.Bucket
		if parent == nil {
			b, err = w.tx.CreateBucket(name)
		} else {
			b, err = parent.CreateBucket(name)
		}
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", pathString(o.path), err)
		}
		b.AppendHint()
		w.path, w.bucket = o.path, b
		return nil
	}
	b, err := w.open(o.path)
	if err != nil {
		return err
	}
	if err := b.Put(o.key, o.value); err != nil {
		return fmt.Errorf("put %q in bucket %s: %w", o.key, pathString(o.path), err)
	}
	return nil
}

// open returns the bucket at path, nil for the root (path empty).
func (w *writer) open(path [][]byte) (kv.Bucket, error) {
	if len(path) == 0 {
		return nil, nil
	}
	if w.bucket != nil && equalPath(w.path, path) {
		return w.bucket, nil
	}
	b := w.tx.Bucket(path[0])
	for i := 1; b != nil && i < len(path); i++ {
		b = b.Bucket(path[i])
	}
	if b == nil {
		return nil, fmt.Errorf("bucket %s: %w", pathString(path), kv.ErrBucketNotFound)
	}
	// Keys come in order, and a new transaction starts on the bucket of
	// the last one.
	b.AppendHint()
	w.path, w.bucket = path, b
	return b, nil
}

// equalPath reports whether a and b name the same bucket.
func equalPath(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// pathString shows a bucket path as its names joined by "/", quoted when
// they are not printable.
func pathString(path [][]byte) string {
	if len(path) == 0 {
		return "(root)"
	}
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = printable(p)
	}
	return strings.Join(parts, "/")
}

// printable returns b as a string, quoted when it holds anything but
// printable ASCII other than '/' and '"'.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x21 || c > 0x7e || c == '/' || c == '"' {
			return fmt.Sprintf("%q", b)
		}
	}
	return string(b)
}

// BucketSum sums up one bucket for Compare: its path, its number of keys
// and nested buckets, and a hash of them in order.
type BucketSum struct {
	// Path names the bucket from the root, names joined by "/".
	Path string
	// Keys counts its keys with a value; Buckets its nested buckets.
	Keys, Buckets int64
	// Hash is SHA-256 over every key with a value, in order, and its
	// value (lengths prefixed); nested buckets have sums of their own.
	Hash [sha256.Size]byte
}

// Sum walks db in one read transaction and returns the sum of every
// bucket, in the order of a depth-first walk by key.
func Sum(ctx context.Context, db kv.DB) ([]BucketSum, error) {
	var out []BucketSum
	err := db.View(ctx, func(tx kv.Tx) error {
		var err error
		out, err = sumBucket(ctx, nil, tx.Cursor(), func(name []byte) kv.Bucket { return tx.Bucket(name) }, out)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sum: %w", err)
	}
	return out, nil
}

// sumBucket appends the sums of the bucket at path and of its nested
// buckets to out.
func sumBucket(ctx context.Context, path [][]byte, cur kv.Cursor, child func([]byte) kv.Bucket, out []BucketSum) ([]BucketSum, error) {
	if err := ctx.Err(); err != nil {
		return out, err
	}
	h := sha256.New()
	s := BucketSum{Path: pathString(path)}
	i := len(out)
	out = append(out, s)
	var nested [][]byte
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v == nil {
			s.Buckets++
			nested = append(nested, bytes.Clone(k))
			continue
		}
		s.Keys++
		writeRecord(h, k, v)
	}
	h.Sum(s.Hash[:0])
	out[i] = s
	for _, name := range nested {
		b := child(name)
		if b == nil {
			return out, fmt.Errorf("bucket %s: key %q has no value and is no bucket", pathString(path), name)
		}
		var err error
		out, err = sumBucket(ctx, append(slices.Clip(path), name), b.Cursor(), b.Bucket, out)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// writeRecord writes one key of a bucket to h: key and value each
// prefixed with its length, so that no two different buckets hash alike by
// moving bytes between keys and values.
func writeRecord(h hash.Hash, k, v []byte) {
	var hdr [16]byte
	binary.BigEndian.PutUint64(hdr[0:8], uint64(len(k)))
	binary.BigEndian.PutUint64(hdr[8:16], uint64(len(v)))
	h.Write(hdr[:]) // a hash.Hash's Write never fails
	h.Write(k)
	h.Write(v)
}

// Diff returns the differences between two databases' sums, one line per
// bucket that is missing from one side or differs; none when they hold
// the same buckets and keys.
func Diff(a, b []BucketSum) []string {
	bm := make(map[string]BucketSum, len(b))
	for _, s := range b {
		bm[s.Path] = s
	}
	am := make(map[string]bool, len(a))
	var out []string
	for _, s := range a {
		am[s.Path] = true
		t, ok := bm[s.Path]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("bucket %s: only in the source", s.Path))
		case s.Keys != t.Keys || s.Buckets != t.Buckets:
			out = append(out, fmt.Sprintf("bucket %s: %d keys and %d buckets in the source, %d and %d in the destination", s.Path, s.Keys, s.Buckets, t.Keys, t.Buckets))
		case s.Hash != t.Hash:
			out = append(out, fmt.Sprintf("bucket %s: same counts (%d keys), different keys or values", s.Path, s.Keys))
		}
	}
	for _, t := range b {
		if !am[t.Path] {
			out = append(out, fmt.Sprintf("bucket %s: only in the destination", t.Path))
		}
	}
	return out
}
