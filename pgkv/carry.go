package pgkv

import (
	"slices"
	"sync"

	"github.com/tributary/tributary/kv"
)

var _ kv.Carrier = (*tx)(nil)

// recentGenerations is how many of its last commits a DB remembers the
// keys of, for kv.Carrier, and recentKeys how many keys of one commit at
// most: a commit of more is remembered as changing everything, which
// keeps what a DB holds for it to a few megabytes. A read is carried over
// the few commits of the moments between a save's read transaction and
// its write transaction.
const (
	recentGenerations = 64
	recentKeys        = 16384
)

// changes remembers which keys the write transactions committed through
// this DB changed, by generation, for the last recentGenerations of them:
// a write transaction may adopt a read transaction's reads when every
// generation committed since its snapshot is one of these (another
// process's writes, which it does not know of, prevent it).
type changes struct {
	mu   sync.Mutex
	byID map[uint64]changeSet
}

// changeSet is the keys a commit wrote or deleted, by bucket path, each
// bucket's in key order; all is set when it deleted a bucket, whose keys
// it does not list, or wrote more than recentKeys.
type changeSet struct {
	keys map[string][][]byte
	all  bool
}

// has reports whether the set holds key of the bucket at path.
func (set changeSet) has(path, key string) bool {
	_, found := slices.BinarySearchFunc(set.keys[path], key, compareKey)
	return found
}

// compareKey compares a key with one held as a string, without copying
// either.
func compareKey(a []byte, b string) int {
	switch {
	case string(a) < b:
		return -1
	case string(a) > b:
		return 1
	}
	return 0
}

// record remembers the keys b holds and dropped, committed as generation id.
func (c *changes) record(id uint64, b batch, dropped bool) {
	set := changeSet{all: dropped || len(b.putKeys)+len(b.delKeys) > recentKeys}
	if !set.all {
		set.keys = b.keys
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = make(map[uint64]changeSet)
	}
	c.byID[id] = set
	delete(c.byID, id-recentGenerations)
}

// since returns the change sets of generations from+1 to to, and false
// when one of them is not known.
func (c *changes) since(from, to uint64) ([]changeSet, bool) {
	if to < from || to-from > recentGenerations {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sets := make([]changeSet, 0, to-from)
	for id := from + 1; id <= to; id++ {
		set, ok := c.byID[id]
		if !ok || set.all {
			return nil, false
		}
		sets = append(sets, set)
	}
	return sets, true
}

// carried is what a read transaction read: its generation and its reads,
// by bucket path and key.
type carried struct {
	db    *DB
	id    uint64
	reads map[string]map[string]read
}

// Carry implements kv.Carrier: the reads of the read transaction (its
// Gets, bucket lookups and key prefetches) at its generation.
func (t *tx) Carry() kv.Carried {
	if t.writable {
		return nil
	}
	reads := make(map[string]map[string]read, len(t.buckets))
	for path, s := range t.buckets {
		if len(s.reads) > 0 {
			reads[path] = s.reads
		}
	}
	if len(reads) == 0 {
		return nil
	}
	return &carried{db: t.db, id: t.ID(), reads: reads}
}

// Adopt implements kv.Carrier: the reads of c whose keys no generation
// committed since c's changed go to the transaction's cache, if this DB
// committed every one of those generations.
func (t *tx) Adopt(c kv.Carried) {
	rc, ok := c.(*carried)
	if !ok || !t.writable || rc.db != t.db {
		return
	}
	sets, ok := t.db.changes.since(rc.id, t.id-1)
	if !ok {
		return
	}
	for path, reads := range rc.reads {
		var changed []changeSet // the sets that changed keys of path
		for _, set := range sets {
			if len(set.keys[path]) > 0 {
				changed = append(changed, set)
			}
		}
		dst := t.state([]byte(path)).reads
		for k, r := range reads {
			if _, known := dst[k]; known || changedKey(changed, path, k) {
				continue
			}
			dst[k] = r
		}
	}
}

// changedKey reports whether one of sets holds key of the bucket at path.
func changedKey(sets []changeSet, path, key string) bool {
	for _, set := range sets {
		if set.has(path, key) {
			return true
		}
	}
	return false
}
