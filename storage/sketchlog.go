package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"iter"
	"maps"
	"math"
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

// keyIndexVersion is the key of the sketch index's versions in
// bucketSketchLog: for each slice of the sketch keys (keySlice),
// BigEndian(uint64), counting the transactions that deleted entries of
// the slice from the index, merged the slice of the log into it, or put
// one there directly. Saves add entries to the log only, so while a
// slice's version stays, what the index gives a lookup of a key of it
// stays: a save looks its new articles up in the index in a read
// transaction, outside the write lock, and the write transaction uses
// what it found for each key whose slice's version is still the one it
// read.
var keyIndexVersion = []byte("version")

// keyMergesEnded is the key of the count of merges of the log that ended,
// BigEndian(uint64), in bucketSketchLog: a merge's last step removes the
// runs it merged, and their stale marks with them (see candidateMemo).
var keyMergesEnded = []byte("merged")

// mergesEnded returns the count of merges of tx's sketch log that ended.
func mergesEnded(tx kv.Tx) uint64 {
	if b := tx.Bucket([]byte(bucketSketchLog)); b != nil {
		if v := b.Get(keyMergesEnded); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

// indexVersions are the versions of the slices of the sketch index.
type indexVersions [mergeSlices]uint64

// keySlice returns the slice of the sketch key key, which merges and
// versions go by: the sixteenth of the byte range of the first byte of its
// band value (a hash, so the slices are of even size; the kind and band
// bytes before it take a few values only). Schema version 3 took the
// kind byte, which put every key in two slices.
func keySlice(key []byte) int {
	return int(key[2]) * mergeSlices / 256
}

// readIndexVersions returns the versions of tx's sketch index.
func readIndexVersions(tx kv.Tx) indexVersions {
	var out indexVersions
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return out
	}
	if v := b.Get(keyIndexVersion); len(v) == 8*mergeSlices {
		for i := range out {
			out[i] = binary.BigEndian.Uint64(v[8*i:])
		}
	}
	return out
}

// bumpIndexVersion counts a change of the slices of tx's sketch index
// that changed holds (see keyIndexVersion).
func bumpIndexVersion(tx kv.Tx, changed [mergeSlices]bool) error {
	b, err := tx.CreateBucketIfNotExists([]byte(bucketSketchLog))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSketchLog, err)
	}
	vs := readIndexVersions(tx)
	var v []byte
	for i, n := range vs {
		if changed[i] {
			n++
		}
		v = binary.BigEndian.AppendUint64(v, n)
	}
	if err := b.Put(keyIndexVersion, v); err != nil {
		return fmt.Errorf("put sketch index versions: %w", err)
	}
	return nil
}

// oneSlice is the change of slice i alone, for bumpIndexVersion.
func oneSlice(i int) [mergeSlices]bool {
	var s [mergeSlices]bool
	s[i] = true
	return s
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
// of the run cache (about 20 bytes an entry) and on the work of one merge,
// against how often the index is rewritten.
const mergeEntries = 1 << 17

// sketchRun is one run of the directory: its key and number of entries.
type sketchRun struct {
	key     string
	entries int
}

// seq returns the sequence number of r, the first eight bytes of its key.
func (r sketchRun) seq() uint64 {
	return binary.BigEndian.Uint64([]byte(r.key))
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
		if n > maxRunEntries {
			return nil, 0, fmt.Errorf("sketch log directory: run %x of %d entries, more than a save writes", v[:runKeyLen], n)
		}
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

// maxRunEntries bounds the entries of one run: a save writes one record
// (of at most 255 sketch keys) per article, SaveChunk articles at most. A
// directory that counts more is damaged.
const maxRunEntries = SaveChunk * 255

// readRun returns the parts of the run key in b, checked against the
// directory's count n: concatenated, they are the run's entries.
func readRun(b kv.Bucket, key string, n int) ([][]byte, error) {
	if n > maxRunEntries {
		return nil, fmt.Errorf("sketch log run %x: %d entries, more than a save writes", key, n)
	}
	var parts [][]byte
	for i := range runParts(n) {
		v := b.Get(partKey(key, i))
		if v == nil {
			return nil, fmt.Errorf("sketch log run %x: part %d missing", key, i)
		}
		want := min(partEntries, n-i*partEntries) * entryLen
		if len(v) != want {
			return nil, fmt.Errorf("sketch log run %x: part %d has %d bytes, want %d (%d entries of %d)", key, i, len(v), want, n, entryLen)
		}
		parts = append(parts, v)
	}
	return parts, nil
}

// logEntry is a sketch entry of a run, under its period and sketch key.
type logEntry struct {
	day uint32
	id  string
}

// cacheKey is the prefix of a sketch entry: its period and sketch key.
type cacheKey [periodLen + story.SketchKeyLen]byte

// cacheID is the ID of a sketch entry.
type cacheID [idLen]byte

// cachedEntry is an entry of the sketch cache: its day, its ID (an index
// into sketchCache.ids) and the entry of the same prefix cached before it
// (-1 for none).
type cachedEntry struct {
	day  uint32
	id   uint32
	prev int32
}

// cacheChain is where the entries of one prefix are in the sketch cache:
// the last one cached and how many there are.
type cacheChain struct {
	last, n int32
}

// sketchCache holds the entries of the runs of the sketch log in memory,
// by period and sketch key, so that a lookup in the runs costs a map
// access rather than a search of every run. It follows the directory: a
// write transaction loads the runs it has not seen yet, and starts over
// when a run it holds is gone (merged, or written by a transaction that
// rolled back). Only write transactions use it, one at a time. It holds
// no pointers (about 20 bytes an entry, which the garbage collector need
// not scan): the entries of a prefix are a chain through one slice, and
// each ID is kept once.
type sketchCache struct {
	// mergeAt is how many entries the runs hold at most before a save
	// merges them: mergeEntries, less in tests.
	mergeAt int
	mu      sync.Mutex
	runs    []sketchRun
	chains  map[cacheKey]cacheChain
	entries []cachedEntry
	ids     []cacheID
	idIndex map[cacheID]uint32
	// stale holds the IDs the runs mark stale (see staleMark), with the
	// sequence number of the last run that marks each: their entries are
	// live only if their signature record still has them, and a record
	// read before that run may have changed since (see candidateMemo).
	stale map[cacheID]uint64
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
			c.reset()
			c.mu.Unlock()
		}
	}()
	if err := c.sync(tx); err != nil {
		return nil, err
	}
	synced = true
	return &sketchView{cache: c}, nil
}

// reset empties c.
func (c *sketchCache) reset() {
	c.runs, c.chains, c.entries, c.ids, c.idIndex, c.stale = nil, nil, nil, nil, nil, nil
}

// sync brings c up to the directory of tx.
func (c *sketchCache) sync(tx kv.Tx) error {
	runs, _, err := readSketchDir(tx)
	if err != nil {
		return err
	}
	if len(runs) < len(c.runs) || !slices.Equal(runs[:len(c.runs)], c.runs) {
		c.reset()
	}
	if c.chains == nil {
		c.chains = make(map[cacheKey]cacheChain)
		c.idIndex = make(map[cacheID]uint32)
		c.stale = make(map[cacheID]uint64)
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
				c.add(e, r.seq())
			}
		} else {
			parts, err := readRun(b, r.key, r.entries)
			if err != nil {
				return err
			}
			for _, v := range parts {
				c.add(v, r.seq())
			}
		}
		c.runs = append(c.runs, r)
	}
	c.written, c.entriesWritten = sketchRun{}, nil
	return nil
}

// add caches the concatenated entries v of the run of sequence number
// seq.
func (c *sketchCache) add(v []byte, seq uint64) {
	for ; len(v) >= entryLen; v = v[entryLen:] {
		e := v[:entryLen]
		id := cacheID(e[entryLen-idLen:])
		if isStaleMark(e) {
			c.stale[id] = max(c.stale[id], seq)
			continue
		}
		n, ok := c.idIndex[id]
		if !ok {
			n = uint32(len(c.ids))
			c.ids = append(c.ids, id)
			c.idIndex[id] = n
		}
		key := cacheKey(e[:len(cacheKey{})])
		ch, ok := c.chains[key]
		if !ok {
			ch.last = -1
		}
		c.entries = append(c.entries, cachedEntry{day: binary.BigEndian.Uint32(e[len(key):]), id: n, prev: ch.last})
		c.chains[key] = cacheChain{last: int32(len(c.entries) - 1), n: ch.n + 1}
	}
}

// count returns how many entries c holds under prefix.
func (c *sketchCache) count(prefix []byte) int {
	return int(c.chains[cacheKey(prefix)].n)
}

// appendEntries appends to dst the entries c holds under prefix whose day
// is from from to to, in no particular order.
func (c *sketchCache) appendEntries(dst []logEntry, prefix []byte, from, to uint32) []logEntry {
	ch, ok := c.chains[cacheKey(prefix)]
	if !ok {
		return dst
	}
	for i := ch.last; i >= 0; i = c.entries[i].prev {
		if e := c.entries[i]; e.day >= from && e.day <= to {
			dst = append(dst, logEntry{day: e.day, id: string(c.ids[e.id][:])})
		}
	}
	return dst
}

// staleMark returns the mark that the entries of the ID id in the runs
// before it, and in its own run, may be stale: a save (or a deletion) that
// replaces or removes the signature record of id writes it in its run.
// Lookups check the record of a marked ID before they take an entry of it
// (liveEntry); the entries of an unmarked ID are those of its record as it
// was written. A mark has the layout of an entry, with every byte before
// the ID 0xff: no entry has that period, and marks sort after entries in
// a run. A merge drops them with the entries it finds stale.
func staleMark(id string) []byte {
	return append(bytes.Repeat([]byte{0xff}, entryLen-idLen), id...)
}

// staleMarks are the staleMark entries of a transaction that removes
// signature records outside a save.
type staleMarks [][]byte

// add marks id stale.
func (m *staleMarks) add(id string) {
	*m = append(*m, staleMark(id))
}

// log writes the marks as a run of tx's sketch log, if there are any. It
// never starts a merge: the next save that passes the log's bound does.
func (m staleMarks) log(tx kv.Tx) error {
	if len(m) == 0 {
		return nil
	}
	_, _, err := appendRun(tx, m, math.MaxInt)
	return err
}

// isStaleMark reports whether the sketch entry e is a staleMark.
func isStaleMark(e []byte) bool {
	return len(e) == entryLen && bytes.Count(e[:entryLen-idLen], []byte{0xff}) == entryLen-idLen
}

// sketchView is the sketch log as one save transaction sees it: the runs
// of the cache and the entries the save added so far, which it writes as
// one run when it ends.
type sketchView struct {
	cache *sketchCache
	added map[string][]logEntry
	run   [][]byte
	// stale holds the IDs the save marked stale (see staleMark).
	stale map[string]bool
	// indexed marks the slices of the keys the save put an entry of
	// straight into the index.
	indexed [mergeSlices]bool
	// merging is set when a merge of the log is in progress: the save
	// runs it (Store.mergeLog) once its transaction committed.
	merging bool
}

// flush writes the entries the save added as a new run of tx's sketch log,
// and starts a merge of the runs into the sketch index when they hold more
// than mergeEntries (see appendRun).
func (v *sketchView) flush(tx kv.Tx) error {
	if len(v.run) == 0 {
		return nil
	}
	r, merging, err := appendRun(tx, v.run, v.cache.mergeAt)
	if err != nil {
		return err
	}
	v.cache.written, v.cache.entriesWritten = r, v.run
	v.merging = merging
	return nil
}

// release unlocks the cache, which the transaction of the save may have
// left behind (its runs are taken in at the next begin).
func (v *sketchView) release() {
	v.cache.mu.Unlock()
}

// maxLogged is how many entries of one sketch key (in one period) the log
// holds at most: a lookup of a key sorts its entries of the log, where the
// index bounds its cursor to maxCandidates, so the entries of a key past
// that go straight into the index. Only copies of one text reach it.
const maxLogged = 4 * maxCandidates

// appendRun writes entries as a new run of tx's sketch log and returns it,
// and starts a merge of the runs into the sketch index if they hold more
// than limit entries. It reports whether a merge is in progress, for the
// caller to run its steps (Store.mergeLog) once tx committed.
func appendRun(tx kv.Tx, entries [][]byte, limit int) (sketchRun, bool, error) {
	b, err := tx.CreateBucketIfNotExists([]byte(bucketSketchLog))
	if err != nil {
		return sketchRun{}, false, fmt.Errorf("create bucket %s: %w", bucketSketchLog, err)
	}
	runs, total, err := readSketchDir(tx)
	if err != nil {
		return sketchRun{}, false, err
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
			return sketchRun{}, false, fmt.Errorf("put sketch log run: %w", err)
		}
	}
	dir := binary.BigEndian.AppendUint32(append(slices.Clone(b.Get(keySketchDir)), key...), uint32(len(entries)))
	if err := b.Put(keySketchDir, dir); err != nil {
		return sketchRun{}, false, fmt.Errorf("put sketch log directory: %w", err)
	}
	r := sketchRun{key: string(key), entries: len(entries)}
	if total+len(entries) <= limit {
		return r, b.Get(keySketchMerge) != nil, nil
	}
	_, err = startMerge(tx)
	return r, true, err
}

// keySketchMerge is the key of the merge in progress in bucketSketchLog:
// BigEndian(uint32 n) ‖ one byte i: the first n runs of the directory are
// being merged into the sketch index, slice i next (see mergeStep).
var keySketchMerge = []byte("merge")

// mergeSlices is how many transactions a merge of the sketch log takes:
// step i puts the entries whose sketch key starts with a byte of the i-th
// of as many equal ranges, so that each transaction rewrites a sixteenth
// of the index's pages, and holds as much of it in memory, rather than the
// whole index at once.
const mergeSlices = 16

// startMerge starts a merge of every run of tx's sketch log into the
// sketch index, unless one is in progress, and reports whether one is
// (false when the log is empty).
func startMerge(tx kv.Tx) (bool, error) {
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return false, nil
	}
	if b.Get(keySketchMerge) != nil {
		return true, nil
	}
	runs, _, err := readSketchDir(tx)
	if err != nil || len(runs) == 0 {
		return false, err
	}
	if err := b.Put(keySketchMerge, append(binary.BigEndian.AppendUint32(nil, uint32(len(runs))), 0)); err != nil {
		return false, fmt.Errorf("start sketch log merge: %w", err)
	}
	return true, nil
}

// mergeStep runs the next step of the merge in progress in tx, if any: it
// puts the live entries of the runs being merged whose sketch key is in
// the step's slice into the sketch index, in key order; the last step
// removes those runs from the log. It reports whether the merge is done.
// Until then, an entry of a merged slice is in the index and in the log,
// which lookups find once.
func mergeStep(tx kv.Tx, read *mergeRead) (done bool, err error) {
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return true, nil
	}
	state := b.Get(keySketchMerge)
	if state == nil {
		return true, nil
	}
	runs, _, err := readSketchDir(tx)
	if err != nil {
		return false, err
	}
	if len(state) != 5 || int(binary.BigEndian.Uint32(state)) > len(runs) || int(state[4]) >= mergeSlices {
		return false, fmt.Errorf("sketch log merge %x: not a merge of the %d runs", state, len(runs))
	}
	n, slice := int(binary.BigEndian.Uint32(state)), int(state[4])
	if err := read.of(b, runs[:n]); err != nil {
		return false, err
	}
	if err := read.marks(b, runs[n:]); err != nil {
		return false, err
	}
	var entries [][]byte
	for _, e := range read.entries {
		if keySlice(e[periodLen:]) == slice {
			entries = append(entries, e)
		}
	}
	if err := indexLive(tx, entries, read.marked); err != nil {
		return false, err
	}
	if slice+1 < mergeSlices {
		if err := b.Put(keySketchMerge, append(binary.BigEndian.AppendUint32(nil, uint32(n)), byte(slice+1))); err != nil {
			return false, fmt.Errorf("record sketch log merge: %w", err)
		}
		return false, bumpIndexVersion(tx, oneSlice(slice))
	}
	for _, r := range runs[:n] {
		for i := range runParts(r.entries) {
			if err := b.Delete(partKey(r.key, i)); err != nil {
				return false, fmt.Errorf("delete sketch log run %x: %w", r.key, err)
			}
		}
	}
	dir := b.Get(keySketchDir)
	if err := b.Put(keySketchDir, slices.Clone(dir[n*dirEntryLen:])); err != nil {
		return false, fmt.Errorf("put sketch log directory: %w", err)
	}
	if err := b.Delete(keySketchMerge); err != nil {
		return false, fmt.Errorf("end sketch log merge: %w", err)
	}
	if err := b.Put(keyMergesEnded, binary.BigEndian.AppendUint64(nil, mergesEnded(tx)+1)); err != nil {
		return false, fmt.Errorf("count sketch log merge: %w", err)
	}
	return true, bumpIndexVersion(tx, oneSlice(slice))
}

// mergeRead holds the entries of the runs a merge merges, read by its
// first step and kept for the next ones (a run never changes): on
// PostgreSQL each step would otherwise read them all again; and the IDs
// the runs of the log mark stale (staleMark), those being merged and
// those written since.
type mergeRead struct {
	runs    []sketchRun
	entries [][]byte
	marked  map[string]bool
	// markedRuns holds the keys of the runs whose marks are in marked.
	markedRuns map[string]bool
}

// of makes r hold the entries of runs, read from b unless r holds them,
// and their marks.
func (r *mergeRead) of(b kv.Bucket, runs []sketchRun) error {
	if slices.Equal(r.runs, runs) {
		return nil
	}
	r.runs, r.entries, r.marked, r.markedRuns = nil, nil, nil, nil
	for _, run := range runs {
		parts, err := readRun(b, run.key, run.entries)
		if err != nil {
			return err
		}
		for i, v := range parts {
			parts[i] = bytes.Clone(v) // outlives the transaction
		}
		r.entries = slices.AppendSeq(r.entries, runEntries(parts))
		r.noteMarks(run.key, parts)
	}
	r.runs = slices.Clone(runs)
	return nil
}

// marks adds the marks of runs, runs of the log after those being merged,
// to r.marked, reading those it has not read: a save between two steps of
// the merge may have replaced or removed a record whose entries the
// merge has yet to put into the index.
func (r *mergeRead) marks(b kv.Bucket, runs []sketchRun) error {
	for _, run := range runs {
		if r.markedRuns[run.key] {
			continue
		}
		parts, err := readRun(b, run.key, run.entries)
		if err != nil {
			return err
		}
		r.noteMarks(run.key, parts)
	}
	return nil
}

// noteMarks adds the IDs the run key, of parts, marks stale to r.marked.
func (r *mergeRead) noteMarks(key string, parts [][]byte) {
	if r.marked == nil {
		r.marked, r.markedRuns = make(map[string]bool), make(map[string]bool)
	}
	for e := range runEntries(parts) {
		if isStaleMark(e) {
			r.marked[string(e[entryLen-idLen:])] = true
		}
	}
	r.markedRuns[key] = true
}

// runEntries yields the entries of parts, the parts of a run (readRun),
// each capped at its length.
func runEntries(parts [][]byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, v := range parts {
			for ; len(v) >= entryLen; v = v[entryLen:] {
				if !yield(v[:entryLen:entryLen]) {
					return
				}
			}
		}
	}
}

// unmarkedStale returns, sorted, the IDs of entries, entries of the log
// and marks, that have an entry their signature record no longer has (or
// no record) and no mark among entries (see staleMark).
func unmarkedStale(tx kv.Tx, entries [][]byte) []string {
	marked := make(map[string]bool)
	byID := make(map[string][][]byte)
	for _, e := range entries {
		id := string(e[entryLen-idLen:])
		if isStaleMark(e) {
			marked[id] = true
		} else {
			byID[id] = append(byID[id], e)
		}
	}
	var out []string
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		if !marked[id] && !allCurrent(tx, id, byID[id]) {
			out = append(out, id)
		}
	}
	return out
}

// allCurrent reports whether the signature record of id has every one of
// entries.
func allCurrent(tx kv.Tx, id string, entries [][]byte) bool {
	r, ok := lookupRecord(tx, id)
	if !ok {
		return false
	}
	current := sketchEntries(r, id)
	for _, e := range entries {
		if !slices.ContainsFunc(current, func(c []byte) bool { return bytes.Equal(c, e) }) {
			return false
		}
	}
	return true
}

// indexLive puts the live ones of entries, sketch entries of the log, into
// the sketch index, in key order. An entry is live if its ID's record has
// it; only an ID in marked, which the log marks stale (staleMark), can
// have entries its record no longer has, so only those IDs' records are
// read. Marks are not entries and never go in.
func indexLive(tx kv.Tx, entries [][]byte, marked map[string]bool) error {
	var check [][]byte
	for _, e := range entries {
		if id := e[entryLen-idLen:]; marked[string(id)] {
			check = append(check, id)
		}
	}
	prefetchKeys(tx, bucketSignatures, check)
	current := make(map[string]bool)
	seen := make(map[string]bool, len(check))
	for _, id := range check {
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
	live := slices.DeleteFunc(entries, func(e []byte) bool {
		return isStaleMark(e) || marked[string(e[entryLen-idLen:])] && !current[string(e)]
	})
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
	return nil
}

// mergeLog runs the merge of the sketch log in progress, if any, to its
// end, one step a transaction, unless another goroutine of s is running
// it; with start, it first starts one if none is in progress.
func (s *Store) mergeLog(ctx context.Context, start bool) error {
	if !s.merging.CompareAndSwap(false, true) {
		return nil
	}
	defer s.merging.Store(false)
	if start {
		if err := s.db.Update(ctx, func(tx kv.Tx) error {
			_, err := startMerge(tx)
			return err
		}); err != nil {
			return fmt.Errorf("merge the sketch log: %w", err)
		}
	}
	var read mergeRead
	for done := false; !done; {
		if err := s.db.Update(ctx, func(tx kv.Tx) error {
			var err error
			done, err = mergeStep(tx, &read)
			return err
		}); err != nil {
			return fmt.Errorf("merge the sketch log: %w", err)
		}
	}
	return nil
}

// liveEntry reports whether the sketch entry of key, day and id is one of
// the entries of the signature record id has now.
func liveEntry(tx kv.Tx, key []byte, day uint32, id string) bool {
	r, ok := lookupRecord(tx, id)
	if !ok || dayOf(r.Published()) != day {
		return false
	}
	return r.HasKey(key)
}

// add records entries of a story written in the save, in tx: in the log,
// but for a sketch key that has maxLogged entries there already, in the
// sketch index sk, which then counts a change (see keyIndexVersion).
func (v *sketchView) add(tx kv.Tx, sk kv.Bucket, entries [][]byte) error {
	if v.added == nil {
		v.added = make(map[string][]logEntry)
	}
	for _, e := range entries {
		prefix := string(e[:periodLen+story.SketchKeyLen])
		if len(v.added[prefix])+v.cache.count([]byte(prefix)) >= maxLogged {
			if err := sk.Put(e, empty); err != nil {
				return fmt.Errorf("put sketch entry %x: %w", e, err)
			}
			if s := keySlice(e[periodLen:]); !v.indexed[s] {
				v.indexed[s] = true
				if err := bumpIndexVersion(tx, oneSlice(s)); err != nil {
					return err
				}
			}
			continue
		}
		v.added[prefix] = append(v.added[prefix], logEntry{
			day: binary.BigEndian.Uint32(e[len(prefix):]),
			id:  string(e[len(prefix)+dayLen:]),
		})
		v.run = append(v.run, e)
	}
	return nil
}

// appendLogged appends to dst the entries of the runs and of the save
// under prefix, a period and sketch key, whose day is from from to to,
// whether live or not, in no particular order.
func (v *sketchView) appendLogged(dst []logEntry, prefix []byte, from, to uint32) []logEntry {
	dst = v.cache.appendEntries(dst, prefix, from, to)
	for _, e := range v.added[string(prefix)] {
		if e.day >= from && e.day <= to {
			dst = append(dst, e)
		}
	}
	return dst
}

// markStale writes the staleMark of id in the save's run: the save
// replaces or removes the signature record of id.
func (v *sketchView) markStale(id string) {
	if v.stale == nil {
		v.stale = make(map[string]bool)
	}
	v.stale[id] = true
	v.run = append(v.run, staleMark(id))
}

// mayBeStale reports whether the log's entries of id may be stale: a run
// or the save marked id (see staleMark).
func (v *sketchView) mayBeStale(id string) bool {
	if v.stale[id] {
		return true
	}
	_, ok := v.cache.stale[cacheID([]byte(id))]
	return ok
}

// markedAfter reports whether the save, or a run after the run of
// sequence number seq (-1: every run), marked id (see staleMark): its
// signature record may have changed since a transaction that saw the log
// end with that run.
func (v *sketchView) markedAfter(id string, seq int64) bool {
	if v.stale[id] {
		return true
	}
	last, ok := v.cache.stale[cacheID([]byte(id))]
	return ok && int64(last) > seq
}

// indexLookup is what the sketch index gave the sketch keys of an article
// in a read transaction (lookUpIndex): at index version version, around
// day, the entries of each key of its record, in the order of Keys.
type indexLookup struct {
	versions indexVersions
	day      uint32
	entries  [][]logEntry
}

// lookUpIndex looks the sketch keys of each of ins up in the sketch index
// of tx, a read transaction, into its indexed field, and judges the
// candidates it found into its judged field (judgeIndexed): the costly
// part of a near-duplicate lookup, done outside the write lock, which
// takes what it found for each key whose slice's version has not changed
// (indexedEntries) and each verdict that still stands (candidateMemo). On
// a backend that prefetches, the seeks of all of ins go at once.
func lookUpIndex(tx kv.Tx, ins []*incoming, now time.Time) {
	sk := tx.Bucket([]byte(bucketSketch))
	versions := readIndexVersions(tx)
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
		l := &indexLookup{versions: versions, day: day}
		for _, key := range recs[i].Keys() {
			l.entries = append(l.entries, indexCandidates(sk, key, day))
		}
		in.indexed = l
	}
	judgeIndexed(tx, ins, recs)
}

// indexed returns the sketch index entries of the i-th of keys, the
// sketch keys of in's record, around day in tx: those in.indexed holds if
// it looked them up around day at the version of the key's slice tx has
// (vs), else those of a cursor seek in sk.
func (in *incoming) indexedEntries(sk kv.Bucket, vs indexVersions, keys [][]byte, i int, day uint32) []logEntry {
	if in.indexFresh(vs, keys, i, day) {
		return in.indexed.entries[i]
	}
	return indexCandidates(sk, keys[i], day)
}

// indexFresh reports whether in.indexed holds the sketch index entries of
// the i-th of keys around day as the index has them at versions vs.
func (in *incoming) indexFresh(vs indexVersions, keys [][]byte, i int, day uint32) bool {
	l := in.indexed
	return l != nil && l.day == day && len(l.entries) == len(keys) && l.versions[keySlice(keys[i])] == vs[keySlice(keys[i])]
}
