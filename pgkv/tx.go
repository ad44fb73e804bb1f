package pgkv

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/google/btree"
	"github.com/jackc/pgx/v5"

	"github.com/tributary/tributary/kv"
)

// maxKey is the most bytes of a key with its bucket's path: PostgreSQL
// indexes a row of at most 2,704 bytes (a third of a page), headers
// included, and a key that does not compress beyond that fails.
const maxKey = 2600

// kind is what a key holds.
type kind uint8

const (
	absent kind = iota // no such key
	value              // a value
	nested             // a nested bucket
)

// entry is one key of the write overlay: a value or nested bucket put by
// the transaction, or a tombstone.
type entry struct {
	key   []byte
	value []byte // the value when kind is value
	kind  kind   // absent for a tombstone
	// clear is set when the key had another kind before this transaction
	// put it: the flush deletes the old row before writing the new one.
	clear bool
}

func lessEntry(a, b *entry) bool { return bytes.Compare(a.key, b.key) < 0 }

// drop is a bucket deleted by a transaction: the key name in the bucket at
// parent, and the path of the rows it held.
type drop struct{ parent, name, path []byte }

// read is a key as the database holds it, cached for the transaction.
type read struct {
	value []byte
	kind  kind
}

// state is what a transaction holds of one bucket, by key: its writes
// (the overlay) and what it read of the database. Maps by key rather than
// by the key's path let a lookup find a key without building its path.
type state struct {
	// writes holds the overlay's entries in key order, for cursors, and
	// written the same entries by key, for lookups; nil until the first
	// write.
	writes  *btree.BTreeG[*entry]
	written map[string]*entry
	// block is the block the next entries of writes are taken from.
	block []entry
	// reads holds the database's keys read by Get, bucket lookups and
	// prefetches.
	reads map[string]read
	// seeks holds the pages PrefetchSeeks read, by the key sought; nil
	// for one being read.
	seeks map[string]*page
	// queued are the keys of PrefetchKeys not read yet.
	queued map[string]bool
}

// tx is a kv.Tx. Its reads go through the write overlay (what the
// transaction wrote), then the database; its writes go to the overlay,
// written to the database by flush.
type tx struct {
	// ctx is the context of View or Update: kv's methods take none, and
	// the transaction lives only as long as that call.
	ctx      context.Context
	db       *DB
	ptx      pgx.Tx
	id       uint64 // 0 until a view reads it
	writable bool
	// buckets holds the writes and reads of each bucket, by its path.
	buckets map[string]*state
	// dropped are the buckets deleted by the transaction: the rows under
	// them are gone, whatever the overlay now holds there.
	dropped []drop
	// pending are the PrefetchKeys not read yet.
	pending []pending
	// rootRead is set once every row of the root is in the cache.
	rootRead bool
}

// pending is a PrefetchKeys not read yet: keys of the bucket at path, as
// bytes for the query and as strings for the cache.
type pending struct {
	path []byte
	keys [][]byte
	strs []string
}

func newTx(ctx context.Context, db *DB, ptx pgx.Tx, id uint64, writable bool) *tx {
	return &tx{ctx: ctx, db: db, ptx: ptx, id: id, writable: writable, buckets: map[string]*state{}}
}

var _ kv.Tx = (*tx)(nil)

// state returns what the transaction holds of the bucket at path, made if
// needed.
func (t *tx) state(path []byte) *state {
	s := t.buckets[string(path)]
	if s == nil {
		s = &state{reads: map[string]read{}}
		t.buckets[string(path)] = s
	}
	return s
}

// childPath is the path of the bucket name in the bucket at path: each
// name as a uvarint length then its bytes, so that a path's buckets are
// exactly the paths it prefixes, whatever bytes the names hold.
func childPath(path, name []byte) []byte {
	p := make([]byte, 0, len(path)+binary.MaxVarintLen64+len(name))
	p = append(p, path...)
	p = binary.AppendUvarint(p, uint64(len(name)))
	return append(p, name...)
}

// hidden reports whether the database's rows of the bucket at path were
// deleted by the transaction.
func (t *tx) hidden(path []byte) bool {
	for _, d := range t.dropped {
		if bytes.HasPrefix(path, d.path) {
			return true
		}
	}
	return false
}

// lookup returns what key holds in the bucket at path.
func (t *tx) lookup(path, key []byte) read {
	if r, ok := t.known(path, key); ok {
		return r
	}
	if len(t.pending) > 0 {
		t.sendPending()
		if r, ok := t.known(path, key); ok {
			return r
		}
	}
	s := t.state(path)
	if len(path) == 0 && !t.rootRead {
		// The root holds only the top-level buckets' names, a few rows
		// that a transaction mostly all looks up: read them at once.
		t.readRoot(s)
		r := s.reads[string(key)] // absent if the root does not hold key
		s.reads[string(key)] = r
		return r
	}
	var v []byte
	r := read{kind: value}
	err := t.ptx.QueryRow(t.ctx, "SELECT value FROM kv WHERE bucket = $1 AND key = $2", path, key).Scan(&v)
	switch {
	case errNoRows(err):
		r.kind = absent
	case err != nil:
		panic(queryError(fmt.Sprintf("get %s", quote(key)), err))
	case v == nil:
		r.kind = nested
	default:
		r.value = v
	}
	s.reads[string(key)] = r
	return r
}

// known returns what the transaction already knows of key in the bucket
// at path, without a query: its write, a read of it, or its absence from
// a deleted bucket.
func (t *tx) known(path, key []byte) (read, bool) {
	s := t.buckets[string(path)]
	if s != nil {
		if e := s.written[string(key)]; e != nil {
			return read{value: e.value, kind: e.kind}, true
		}
	}
	if t.hidden(path) {
		return read{}, true
	}
	if s == nil {
		return read{}, false
	}
	r, ok := s.reads[string(key)]
	return r, ok
}

// readRoot reads every row of the root into s, its state.
func (t *tx) readRoot(s *state) {
	rows, _ := t.ptx.Query(t.ctx, "SELECT key, value FROM kv WHERE bucket = $1", []byte{})
	if err := forRows(rows, func(r row) { s.reads[string(r.key)] = read{value: r.value, kind: rowKind(r)} }); err != nil {
		panic(queryError("read the top-level buckets", err))
	}
	t.rootRead = true
}

// set puts e in the overlay of the bucket at path.
func (t *tx) set(path []byte, e entry) {
	s := t.state(path)
	if old := s.written[string(e.key)]; old != nil {
		if old.clear || old.kind == absent {
			e.clear = true
		}
		*old = e // the same key: its place in writes stands
		return
	}
	if s.writes == nil {
		s.writes = btree.NewG(16, lessEntry)
		s.written = map[string]*entry{}
	}
	p := s.newEntry(e)
	s.written[string(e.key)] = p
	s.writes.ReplaceOrInsert(p)
}

// entryBlock is how many entries of the overlay one allocation holds.
const entryBlock = 64

// newEntry returns a place holding e, taken from a block of entries: the
// overlay's entries cost an allocation a block rather than one each.
func (s *state) newEntry(e entry) *entry {
	if len(s.block) == cap(s.block) {
		s.block = make([]entry, 0, entryBlock)
	}
	s.block = append(s.block, e) // within its capacity: earlier places stand
	return &s.block[len(s.block)-1]
}

// ID implements kv.Tx. A view reads it on the first call, from its
// snapshot.
func (t *tx) ID() uint64 {
	if t.id == 0 {
		var gen int64
		if err := t.ptx.QueryRow(t.ctx, "SELECT generation FROM kv_generation").Scan(&gen); err != nil {
			panic(queryError("read generation", err))
		}
		t.id = uint64(gen)
	}
	return t.id
}

// Writable implements kv.Tx.
func (t *tx) Writable() bool { return t.writable }

func (t *tx) root() *bucket { return &bucket{t: t, path: []byte{}} }

// Bucket implements kv.Tx.
func (t *tx) Bucket(name []byte) kv.Bucket { return t.root().Bucket(name) }

// CreateBucket implements kv.Tx.
func (t *tx) CreateBucket(name []byte) (kv.Bucket, error) { return t.root().CreateBucket(name) }

// CreateBucketIfNotExists implements kv.Tx.
func (t *tx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	return t.root().CreateBucketIfNotExists(name)
}

// DeleteBucket implements kv.Tx.
func (t *tx) DeleteBucket(name []byte) error { return t.root().DeleteBucket(name) }

// Cursor implements kv.Tx.
func (t *tx) Cursor() kv.Cursor { return t.root().Cursor() }

// bucket is a kv.Bucket: the keys of one path.
type bucket struct {
	t    *tx
	path []byte
}

var _ kv.Bucket = (*bucket)(nil)

// Get implements kv.Bucket.
func (b *bucket) Get(key []byte) []byte {
	r := b.t.lookup(b.path, key)
	if r.kind != value {
		return nil
	}
	return r.value
}

// Put implements kv.Bucket. It fails with kv.ErrIncompatibleValue when the
// transaction knows key as a nested bucket; the commit fails when only the
// database does.
func (b *bucket) Put(key, v []byte) error {
	if err := b.writable(key); err != nil {
		return err
	}
	if r, ok := b.t.known(b.path, key); ok && r.kind == nested {
		return kv.ErrIncompatibleValue
	}
	b.t.set(b.path, entry{key: bytes.Clone(key), value: append([]byte{}, v...), kind: value})
	return nil
}

func (b *bucket) writable(key []byte) error {
	if !b.t.writable {
		return kv.ErrTxNotWritable
	}
	if len(key) == 0 {
		return fmt.Errorf("kv: empty key")
	}
	if len(b.path)+len(key) > maxKey {
		return fmt.Errorf("%d-byte key in a bucket of a %d-byte path: %w", len(key), len(b.path), kv.ErrKeyTooLarge)
	}
	return nil
}

// Delete implements kv.Bucket. A key the transaction has not read costs a
// query, to tell a nested bucket's name (kv.ErrIncompatibleValue).
func (b *bucket) Delete(key []byte) error {
	if err := b.writable(key); err != nil {
		return err
	}
	switch b.t.lookup(b.path, key).kind {
	case absent:
		return nil
	case nested:
		return kv.ErrIncompatibleValue
	}
	b.t.set(b.path, entry{key: bytes.Clone(key)})
	return nil
}

// Cursor implements kv.Bucket.
func (b *bucket) Cursor() kv.Cursor { return &cursor{b: b, off: 1} }

// ForEach implements kv.Bucket.
func (b *bucket) ForEach(fn func(key, value []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Bucket implements kv.Bucket.
func (b *bucket) Bucket(name []byte) kv.Bucket {
	if b.t.lookup(b.path, name).kind != nested {
		return nil
	}
	return &bucket{t: b.t, path: childPath(b.path, name)}
}

// CreateBucket implements kv.Bucket.
func (b *bucket) CreateBucket(name []byte) (kv.Bucket, error) {
	if err := b.writable(name); err != nil {
		return nil, err
	}
	switch b.t.lookup(b.path, name).kind {
	case nested:
		return nil, kv.ErrBucketExists
	case value:
		return nil, kv.ErrIncompatibleValue
	}
	b.t.set(b.path, entry{key: bytes.Clone(name), kind: nested})
	return &bucket{t: b.t, path: childPath(b.path, name)}, nil
}

// CreateBucketIfNotExists implements kv.Bucket.
func (b *bucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	nb, err := b.CreateBucket(name)
	if err == kv.ErrBucketExists {
		return &bucket{t: b.t, path: childPath(b.path, name)}, nil
	}
	return nb, err
}

// DeleteBucket implements kv.Bucket: the nested bucket's rows and those of
// the buckets it holds are hidden now and deleted at commit.
func (b *bucket) DeleteBucket(name []byte) error {
	if err := b.writable(name); err != nil {
		return err
	}
	switch b.t.lookup(b.path, name).kind {
	case absent:
		return kv.ErrBucketNotFound
	case value:
		return kv.ErrIncompatibleValue
	}
	child := childPath(b.path, name)
	for p := range b.t.buckets {
		if strings.HasPrefix(p, string(child)) {
			// What it wrote and read there is gone with the bucket.
			delete(b.t.buckets, p)
		}
	}
	b.t.dropped = append(b.t.dropped, drop{parent: b.path, name: bytes.Clone(name), path: child})
	b.t.set(b.path, entry{key: bytes.Clone(name), clear: true})
	return nil
}

// AppendHint implements kv.Bucket; PostgreSQL's B-trees need no hint.
func (b *bucket) AppendHint() {}
