package storage

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/tributary/tributary/kv"
)

// tsLen is the length of the time prefix of an index key.
const tsLen = 8

// empty is the value of keys that carry nothing but their name (index,
// coverage and sketch entries); kv takes no nil value.
var empty = []byte{}

// indexKey is the index key of an article: its Published time (see
// keyTime), big-endian, then its ID.
func indexKey(published time.Time, id string) []byte {
	k := make([]byte, tsLen, tsLen+len(id))
	binary.BigEndian.PutUint64(k, keyTime(published))
	return append(k, id...)
}

// keyTime is t in Unix nanoseconds, clamped to [0, MaxInt64] so that times
// before 1970 (including the zero Time) sort first and keys stay sortable.
func keyTime(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// splitIndexKey returns the key time and the article ID of an index key.
func splitIndexKey(k []byte) (uint64, []byte, error) {
	if len(k) != tsLen+idLen {
		return 0, nil, fmt.Errorf("index key %x: want %d bytes, have %d", k, tsLen+idLen, len(k))
	}
	return binary.BigEndian.Uint64(k), k[tsLen:], nil
}

// reindex adds key to the index of category slug.
func reindex(index kv.Bucket, slug string, key []byte) error {
	b, err := index.CreateBucketIfNotExists([]byte(slug))
	if err != nil {
		return fmt.Errorf("create index %s: %w", slug, err)
	}
	b.AppendHint()
	if err := b.Put(key, empty); err != nil {
		return fmt.Errorf("put index %s: %w", slug, err)
	}
	return nil
}

// unindex removes key from the index of category slug.
func unindex(index kv.Bucket, slug string, key []byte) error {
	b := index.Bucket([]byte(slug))
	if b == nil {
		return fmt.Errorf("delete from index %s: no such index", slug)
	}
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("delete from index %s: %w", slug, err)
	}
	return nil
}

// forEachBucket calls fn with the name of every nested bucket of b, in
// order, and stops at fn's first error, which it returns.
func forEachBucket(b kv.Bucket, fn func(name []byte) error) error {
	return b.ForEach(func(k, v []byte) error {
		if v != nil {
			return nil
		}
		return fn(k)
	})
}
