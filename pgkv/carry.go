package pgkv

import (
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

// changeSet is the keys a commit wrote or deleted, by childPath; all is
// set when it deleted a bucket, whose keys it does not list, or wrote more
// than recentKeys.
type changeSet struct {
	keys map[string]bool
	all  bool
}

// record remembers the keys b holds and dropped, committed as generation id.
func (c *changes) record(id uint64, b batch, dropped bool) {
	set := changeSet{all: dropped || len(b.putKeys)+len(b.delKeys) > recentKeys}
	if !set.all {
		set.keys = make(map[string]bool, len(b.putKeys)+len(b.delKeys))
		for i, k := range b.putKeys {
			set.keys[string(childPath(b.putBuckets[i], k))] = true
		}
		for i, k := range b.delKeys {
			set.keys[string(childPath(b.delBuckets[i], k))] = true
		}
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

// carried is what a read transaction read: its generation and the reads
// of its cache.
type carried struct {
	db    *DB
	id    uint64
	cache map[string]read
}

// Carry implements kv.Carrier: the reads of the read transaction's cache
// (its Gets, bucket lookups and key prefetches) at its generation.
func (t *tx) Carry() kv.Carried {
	if t.writable || len(t.cache) == 0 {
		return nil
	}
	return &carried{db: t.db, id: t.ID(), cache: t.cache}
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
	for k, r := range rc.cache {
		if _, known := t.cache[k]; known {
			continue
		}
		changed := false
		for _, set := range sets {
			if set.keys[k] {
				changed = true
				break
			}
		}
		if !changed {
			t.cache[k] = r
		}
	}
}
