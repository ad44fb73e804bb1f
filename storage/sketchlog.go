package storage

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// bucketSketchLog holds the sketch entries that saves added since they
// were last merged into the sketch index (bucketSketch), as runs: one value
// per save transaction, its entries sorted and concatenated in parts of
// partEntries, under keys that grow with each run. Putting fifteen random keys a story into the
// index made every save transaction rewrite pages all over it, which is
// what a first ingest spent most of its write time and memory on; a run is
// one put, and a merge puts many runs' entries in key order, rewriting each
// page of the index once for all of them. The directory (keySketchDir)
// lists the runs in order with their sizes.
//
// An entry of a run is live while the signature record of its ID still
// yields it (sketchEntries): an update or a deletion removes a story's
// entries from the index but leaves them in the runs, where lookups and
// the merge skip them.
const bucketSketchLog = "sketchlog"

// keySketchDir is the key of the run directory in bucketSketchLog: for
// each run in the order they were written, its key (runKeyLen bytes) and
// BigEndian(uint32 number of entries).
var keySketchDir = []byte("dir")

// keyIndexVersion is the key of the sketch index's version in
// bucketSketchLog: BigEndian(uint64), counting the transactions that
// deleted entries from the index or merged the log into it. Saves add
// entries to the log only, so while the version stays, what the index
// gives a lookup stays: a save looks its new articles up in the index in
// a read transaction, outside the write lock, and the write transaction
// uses what it found if the version is still the one it read.
var keyIndexVersion = []byte("version")

// indexVersion returns the version of tx's sketch index.
func indexVersion(tx kv.Tx) uint64 {
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return 0
	}
	if v := b.Get(keyIndexVersion); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// bumpIndexVersion counts a change of tx's sketch index other than by a
// save (see keyIndexVersion).
func bumpIndexVersion(tx kv.Tx) error {
	b, err := tx.CreateBucketIfNotExists([]byte(bucketSketchLog))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSketchLog, err)
	}
	if err := b.Put(keyIndexVersion, binary.BigEndian.AppendUint64(nil, indexVersion(tx)+1)); err != nil {
		return fmt.Errorf("put sketch index version: %w", err)
	}
	return nil
}

// runKeyLen is the length of a run's key: BigEndian(uint64 sequence) then
// eight random bytes, so that a run written by a transaction that rolled
// back is never taken for the one written by the next.
const runKeyLen = 16

// dirEntryLen is the length of a run's entry in the directory.
const dirEntryLen = runKeyLen + 4

// entryLen is the length of a sketch entry: period, sketch key, day, ID.
const entryLen = periodLen + story.SketchKeyLen + dayLen + idLen

// mergeEntries is how many entries the runs hold at most before the save
// that adds one merges them into the sketch index: a bound on the memory
// of the run cache (about 110 bytes an entry) and on the work of one merge,
// against how often the index is rewritten.
const mergeEntries = 1 << 17

// sketchRun is one run of the directory: its key and number of entries.
type sketchRun struct {
	key     string
	entries int
}

// readSketchDir returns the runs listed in tx's sketch log directory, in
// order, and their total number of entries.
func readSketchDir(tx kv.Tx) ([]sketchRun, int, error) {
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return nil, 0, nil
	}
	v := b.Get(keySketchDir)
	if len(v)%dirEntryLen != 0 {
		return nil, 0, fmt.Errorf("sketch log directory: %d bytes, not a multiple of %d", len(v), dirEntryLen)
	}
	runs := make([]sketchRun, 0, len(v)/dirEntryLen)
	total := 0
	for ; len(v) > 0; v = v[dirEntryLen:] {
		n := int(binary.BigEndian.Uint32(v[runKeyLen:]))
		runs = append(runs, sketchRun{key: string(v[:runKeyLen]), entries: n})
		total += n
	}
	return runs, total, nil
}

// partEntries is how many entries one value of a run holds: a run is
// stored in parts that each fit a page, as values that span pages need
// that many free pages in a row, which a file under churn may only find at
// its end.
const partEntries = 64

// partKey returns the key of part i of the run key: the run's key then
// BigEndian(uint32 i).
func partKey(key string, i int) []byte {
	return binary.BigEndian.AppendUint32([]byte(key), uint32(i))
}

// runParts returns how many parts a run of n entries has.
func runParts(n int) int {
	return (n + partEntries - 1) / partEntries
}

// readRun returns the parts of the run key in b, checked against the
// directory's count n: concatenated, they are the run's entries.
func readRun(b kv.Bucket, key string, n int) ([][]byte, error) {
	parts := make([][]byte, runParts(n))
	for i := range parts {
		v := b.Get(partKey(key, i))
		if v == nil {
			return nil, fmt.Errorf("sketch log run %x: part %d missing", key, i)
		}
		want := min(partEntries, n-i*partEntries) * entryLen
		if len(v) != want {
			return nil, fmt.Errorf("sketch log run %x: part %d has %d bytes, want %d (%d entries of %d)", key, i, len(v), want, n, entryLen)
		}
		parts[i] = v
	}
	return parts, nil
}

// logEntry is a sketch entry of a run, under its period and sketch key.
type logEntry struct {
	day uint32
	id  string
}

// sketchCache holds the entries of the runs of the sketch log in memory,
// by period and sketch key, so that a lookup in the runs costs a map
// access rather than a search of every run. It follows the directory: a
// write transaction loads the runs it has not seen yet, and starts over
// when a run it holds is gone (merged, or written by a transaction that
// rolled back). Only write transactions use it, one at a time.
type sketchCache struct {
	// mergeAt is how many entries the runs hold at most before a save
	// merges them: mergeEntries, less in tests.
	mergeAt int
	mu      sync.Mutex
	runs    []sketchRun
	entries map[string][]logEntry
	// written is the run the last save of this cache wrote, and its
	// entries: if its transaction committed, the next sync finds it in the
	// directory and takes it from here rather than reading it back.
	written        sketchRun
	entriesWritten [][]byte
}

// begin locks the cache, brings it up to tx's directory and returns the
// view of the sketch log for a save in tx. Unless it fails, the caller
// must call sketchView.release.
func (c *sketchCache) begin(tx kv.Tx) (*sketchView, error) {
	c.mu.Lock()
	synced := false
	defer func() {
		if !synced {
			// A failed read (an error, or a panic of the backend)
			// may have left part of a run in the cache.
			c.runs, c.entries = nil, nil
			c.mu.Unlock()
		}
	}()
	if err := c.sync(tx); err != nil {
		return nil, err
	}
	synced = true
	return &sketchView{cache: c}, nil
}

// sync brings c up to the directory of tx.
func (c *sketchCache) sync(tx kv.Tx) error {
	runs, _, err := readSketchDir(tx)
	if err != nil {
		return err
	}
	if len(runs) < len(c.runs) || !slices.Equal(runs[:len(c.runs)], c.runs) {
		c.runs, c.entries = nil, nil
	}
	if c.entries == nil {
		c.entries = make(map[string][]logEntry)
	}
	b := tx.Bucket([]byte(bucketSketchLog))
	var keys [][]byte
	for _, r := range runs[len(c.runs):] {
		if r != c.written {
			for i := range runParts(r.entries) {
				keys = append(keys, partKey(r.key, i))
			}
		}
	}
	kv.PrefetchKeys(b, keys)
	for _, r := range runs[len(c.runs):] {
		if r == c.written {
			for _, e := range c.entriesWritten {
				c.add(e)
			}
		} else {
			parts, err := readRun(b, r.key, r.entries)
			if err != nil {
				return err
			}
			for _, v := range parts {
				c.add(v)
			}
		}
		c.runs = append(c.runs, r)
	}
	c.written, c.entriesWritten = sketchRun{}, nil
	return nil
}

// add indexes the concatenated entries v.
func (c *sketchCache) add(v []byte) {
	ids := make(map[string]string)
	for ; len(v) >= entryLen; v = v[entryLen:] {
		e := v[:entryLen]
		prefix := e[:periodLen+story.SketchKeyLen]
		raw := e[len(prefix)+dayLen:]
		id, ok := ids[string(raw)]
		if !ok {
			id = string(raw)
			ids[id] = id
		}
		c.entries[string(prefix)] = append(c.entries[string(prefix)], logEntry{day: binary.BigEndian.Uint32(e[len(prefix):]), id: id})
	}
}

// sketchView is the sketch log as one save transaction sees it: the runs
// of the cache and the entries the save added so far, which it writes as
// one run when it ends.
type sketchView struct {
	cache *sketchCache
	added map[string][]logEntry
	run   [][]byte
	// hot is set when a sketch key has more than maxLogged entries.
	hot bool
}

// flush writes the entries the save added as a new run of tx's sketch log,
// and merges the runs into the sketch index when they hold more than
// mergeEntries, or when a sketch key has more than maxLogged entries in
// them.
func (v *sketchView) flush(tx kv.Tx) error {
	if len(v.run) == 0 {
		return nil
	}
	limit := v.cache.mergeAt
	if v.hot {
		limit = 0
	}
	r, err := appendRun(tx, v.run, limit)
	if err != nil {
		return err
	}
	v.cache.written, v.cache.entriesWritten = r, v.run
	return nil
}

// release unlocks the cache, which the transaction of the save may have
// left behind (its runs are taken in at the next begin).
func (v *sketchView) release() {
	v.cache.mu.Unlock()
}

// maxLogged is how many entries of one sketch key the runs hold at most
// before they are merged into the sketch index: a lookup of a key sorts
// its entries of the runs, where the index bounds its cursor to
// maxCandidates. Only a run of copies of one text reaches it.
const maxLogged = 4 * maxCandidates

// appendRun writes entries as a new run of tx's sketch log and returns it,
// then merges the runs into the sketch index if they hold more than limit
// entries (the run returned is then merged too).
func appendRun(tx kv.Tx, entries [][]byte, limit int) (sketchRun, error) {
	b, err := tx.CreateBucketIfNotExists([]byte(bucketSketchLog))
	if err != nil {
		return sketchRun{}, fmt.Errorf("create bucket %s: %w", bucketSketchLog, err)
	}
	runs, total, err := readSketchDir(tx)
	if err != nil {
		return sketchRun{}, err
	}
	var seq uint64
	if len(runs) > 0 {
		seq = binary.BigEndian.Uint64([]byte(runs[len(runs)-1].key)) + 1
	}
	key := binary.BigEndian.AppendUint64(make([]byte, 0, runKeyLen), seq)
	key = append(key, rand.Text()[:runKeyLen-8]...)
	slices.SortFunc(entries, bytes.Compare)
	for i, part := range slices.Collect(slices.Chunk(entries, partEntries)) {
		if err := b.Put(partKey(string(key), i), bytes.Join(part, nil)); err != nil {
			return sketchRun{}, fmt.Errorf("put sketch log run: %w", err)
		}
	}
	dir := binary.BigEndian.AppendUint32(append(slices.Clone(b.Get(keySketchDir)), key...), uint32(len(entries)))
	if err := b.Put(keySketchDir, dir); err != nil {
		return sketchRun{}, fmt.Errorf("put sketch log directory: %w", err)
	}
	r := sketchRun{key: string(key), entries: len(entries)}
	if total+len(entries) <= limit {
		return r, nil
	}
	return r, mergeSketchLog(tx)
}

// mergeSketchLog puts the live entries of every run of tx's sketch log into
// the sketch index, in key order, and empties the log.
func mergeSketchLog(tx kv.Tx) error {
	runs, total, err := readSketchDir(tx)
	if err != nil || len(runs) == 0 {
		return err
	}
	b := tx.Bucket([]byte(bucketSketchLog))
	values := make([][]byte, 0, len(runs))
	ids := make([][]byte, 0, total/15)
	for _, r := range runs {
		parts, err := readRun(b, r.key, r.entries)
		if err != nil {
			return err
		}
		values = append(values, parts...)
		for _, v := range parts {
			for ; len(v) > 0; v = v[entryLen:] {
				ids = append(ids, v[entryLen-idLen:entryLen])
			}
		}
	}
	prefetchKeys(tx, bucketSignatures, ids)
	// An entry is live if its ID's record has it: read each ID's record
	// once, for its fifteen entries or more.
	current := make(map[string]bool, total)
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[string(id)] {
			continue
		}
		seen[string(id)] = true
		if r, ok := lookupRecord(tx, string(id)); ok {
			for _, e := range sketchEntries(r, string(id)) {
				current[string(e)] = true
			}
		}
	}
	live := make([][]byte, 0, total)
	for _, v := range values {
		for ; len(v) > 0; v = v[entryLen:] {
			if e := v[:entryLen]; current[string(e)] {
				live = append(live, e)
			}
		}
	}
	slices.SortFunc(live, bytes.Compare)
	live = slices.CompactFunc(live, bytes.Equal)
	sk, err := tx.CreateBucketIfNotExists([]byte(bucketSketch))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSketch, err)
	}
	for _, e := range live {
		// A run's value lives in the database's memory, which the puts
		// below may move: copy each key before it goes in.
		if err := sk.Put(slices.Clone(e), empty); err != nil {
			return fmt.Errorf("merge sketch entry %x: %w", e, err)
		}
	}
	for _, r := range runs {
		for i := range runParts(r.entries) {
			if err := b.Delete(partKey(r.key, i)); err != nil {
				return fmt.Errorf("delete sketch log run %x: %w", r.key, err)
			}
		}
	}
	if err := b.Delete(keySketchDir); err != nil {
		return fmt.Errorf("delete sketch log directory: %w", err)
	}
	return bumpIndexVersion(tx)
}

// liveEntry reports whether the sketch entry of key, day and id is one of
// the entries of the signature record id has now.
func liveEntry(tx kv.Tx, key []byte, day uint32, id string) bool {
	r, ok := lookupRecord(tx, id)
	if !ok || dayOf(r.Published()) != day {
		return false
	}
	return slices.ContainsFunc(r.Keys(), func(k []byte) bool { return bytes.Equal(k, key) })
}

// add records entries of a story written in the save.
func (v *sketchView) add(entries [][]byte) {
	if v.added == nil {
		v.added = make(map[string][]logEntry)
	}
	for _, e := range entries {
		prefix := string(e[:periodLen+story.SketchKeyLen])
		v.added[prefix] = append(v.added[prefix], logEntry{
			day: binary.BigEndian.Uint32(e[len(prefix):]),
			id:  string(e[len(prefix)+dayLen:]),
		})
		v.run = append(v.run, e)
		if len(v.added[prefix])+len(v.cache.entries[prefix]) > maxLogged {
			v.hot = true
		}
	}
}

// logged yields the entries of the runs and of the save under prefix, a
// period and sketch key, whether live or not.
func (v *sketchView) logged(prefix []byte) []logEntry {
	a, b := v.cache.entries[string(prefix)], v.added[string(prefix)]
	if len(b) == 0 {
		return a
	}
	return slices.Concat(a, b)
}

// indexLookup is what the sketch index gave the sketch keys of an article
// in a read transaction (lookUpIndex): at index version version, around
// day, the entries of each key of its record, in the order of Keys.
type indexLookup struct {
	version uint64
	day     uint32
	entries [][]logEntry
}

// lookUpIndex looks the sketch keys of each of ins up in the sketch index
// of tx, a read transaction, into its indexed field: the costly part of a
// near-duplicate lookup, done outside the write lock, which takes what it
// found as long as the index's version has not changed (indexedFor). On a
// backend that prefetches, the seeks of all of ins go at once.
func lookUpIndex(tx kv.Tx, ins []*incoming, now time.Time) {
	sk := tx.Bucket([]byte(bucketSketch))
	version := indexVersion(tx)
	recs := make([]story.Record, len(ins))
	var seeks []kv.Range
	for i, in := range ins {
		a := newTimes(in.Article, now)
		recs[i] = newRecord(a, in.signature())
		for _, key := range recs[i].Keys() {
			seeks = append(seeks, sketchSeeks(key, dayOf(a.Published))...)
		}
	}
	if sk != nil {
		kv.PrefetchSeeks(sk, seeks, maxCandidates+1)
	}
	for i, in := range ins {
		day := dayOf(recs[i].Published())
		l := &indexLookup{version: version, day: day}
		for _, key := range recs[i].Keys() {
			l.entries = append(l.entries, indexCandidates(sk, key, day))
		}
		in.indexed = l
	}
}

// indexedFor returns in.indexed if it holds the index's entries for rec
// around day in tx: looked up at the index version tx has, for as many
// keys; else nil.
func (in *incoming) indexedFor(tx kv.Tx, rec story.Record, day uint32) *indexLookup {
	l := in.indexed
	if l == nil || l.day != day || len(l.entries) != len(rec.Keys()) || l.version != indexVersion(tx) {
		return nil
	}
	return l
}
