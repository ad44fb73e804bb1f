package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"syscall"

	"github.com/tributary/tributary/kv"

	"github.com/tributary/tributary/story"
)

// salvageBatch is how many recovered articles are written per transaction.
const salvageBatch = 1000

// ErrNothingSalvaged is returned (wrapped) by Salvage when not one article
// or source state could be read: no output file is written.
var ErrNothingSalvaged = errors.New("nothing could be read")

// SalvageReport says what Salvage recovered and what it lost.
type SalvageReport struct {
	// Articles, Sources, Tombstones and Aliases count the records copied.
	Articles, Sources, Tombstones, Aliases int
	// Loose counts the articles among Articles that were found only on
	// pages no intact tree reaches (pages cut off by damage, or freed
	// pages holding an earlier version): they may be older versions.
	Loose int
	// Lost lists the first problems met (unreadable pages, subtrees and
	// records); LostCount counts them all. Zero means the file was read
	// whole.
	Lost      []string
	LostCount int
}

// Salvage copies what can be read of the database file at path into a
// new database at out: every readable article (with its index entries,
// category counts, signature and URL identity rebuilt as a save does),
// source state, tombstone and alias. It reads the file page by page
// without bbolt, checking every offset, so that no damage can crash it.
// When the walk from the newest valid meta page meets damage, it also
// scans every page it did not reach for articles and source states, and
// takes each one found there that the intact tree lacks and no tombstone
// names (the newest Updated of its copies).
//
// out must not exist; it is written atomically (a temporary file, synced,
// renamed) and passes Check before Salvage returns. Salvage refuses, with
// an error wrapping ErrLocked, while another process holds path, and
// fails with ErrNothingSalvaged, writing nothing, when no article or
// source state could be read.
func Salvage(ctx context.Context, path, out string) (SalvageReport, error) {
	if _, err := os.Lstat(out); err == nil {
		return SalvageReport{}, fmt.Errorf("salvage %s: %s: %w", path, out, fs.ErrExist)
	}
	f, err := os.Open(path)
	if err != nil {
		return SalvageReport{}, fmt.Errorf("salvage %s: %w", path, err)
	}
	defer f.Close()
	// The shared lock bbolt's read-only open takes: a daemon's exclusive
	// lock refuses it.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return SalvageReport{}, fmt.Errorf("salvage %s: %w (locked)", path, ErrLocked)
	}
	r, metaErr := openRaw(f)
	if r == nil {
		return SalvageReport{}, fmt.Errorf("salvage %s: %w", path, metaErr)
	}
	sv := &salvager{walk: rawWalker{r: r, reached: map[uint64]bool{}}, found: map[string]bool{}}
	if metaErr != nil {
		sv.walk.lose("%v", metaErr)
	}
	err = WriteFileAtomic(out, 0o600, func(w io.Writer) error {
		dst, err := Open(w.(*os.File).Name(), Options{})
		if err != nil {
			return err
		}
		sv.dst = dst
		err = sv.run(ctx)
		if err == nil {
			err = dst.Check(ctx)
		}
		return errors.Join(err, dst.Close())
	})
	sv.rep.Lost, sv.rep.LostCount = sv.walk.lost, sv.walk.lostN
	if err != nil {
		return sv.rep, fmt.Errorf("salvage %s: %w", path, err)
	}
	return sv.rep, nil
}

// salvager copies records from a damaged file into a new store.
type salvager struct {
	walk  rawWalker
	dst   *Store
	rep   SalvageReport
	found map[string]bool // article IDs copied from the intact tree
	tombs map[string][]byte
	batch []Article
}

// run copies the tree's records, then the loose ones when the tree was
// damaged.
func (sv *salvager) run(ctx context.Context) error {
	top := map[string][]byte{}
	if root := sv.walk.r.root; root != nil {
		sv.walk.bucket("root", root, func(e rawElement) {
			if e.bucket {
				top[string(e.key)] = bytes.Clone(e.value)
			}
		})
	}
	sv.tombs = map[string][]byte{}
	aliases := map[string][]byte{}
	sources := map[string]SourceState{}
	sv.collect(top, bucketTombstones, func(k, v []byte) bool {
		if validID(string(k)) && (len(v) == 8 || len(v) == tombstoneLen) {
			sv.tombs[string(k)] = bytes.Clone(v)
			return true
		}
		return false
	})
	sv.collect(top, bucketAliases, func(k, v []byte) bool {
		if validID(string(k)) && validID(string(v)) {
			aliases[string(k)] = bytes.Clone(v)
			return true
		}
		return false
	})
	sv.collect(top, bucketSources, func(k, v []byte) bool {
		st, ok := decodeSource(k, v)
		if ok {
			sources[st.FeedURL] = st
		}
		return ok
	})
	var werr error
	sv.collect(top, bucketArticles, func(k, v []byte) bool {
		a, ok := decodeArticle(k, v)
		if ok && werr == nil && !sv.found[a.ID] {
			sv.found[a.ID] = true
			werr = sv.add(ctx, a)
		}
		return ok
	})
	if werr != nil {
		return werr
	}
	if sv.walk.lostN > 0 {
		if err := sv.loose(ctx, sources, aliases); err != nil {
			return err
		}
	}
	if err := sv.flush(ctx); err != nil {
		return err
	}
	if sv.rep.Articles == 0 && len(sources) == 0 {
		return ErrNothingSalvaged
	}
	return sv.putRest(ctx, sources, aliases)
}

// collect walks the top-level bucket name, giving each value to keep;
// a value keep refuses is counted as lost.
func (sv *salvager) collect(top map[string][]byte, name string, keep func(k, v []byte) bool) {
	head, ok := top[name]
	if !ok {
		if name == bucketArticles || name == bucketSources || sv.walk.r.root == nil {
			sv.walk.lose("bucket %s: not found", name)
		}
		return
	}
	bad := 0
	sv.walk.bucket(name, head, func(e rawElement) {
		if e.bucket || !keep(e.key, e.value) {
			bad++
		}
	})
	if bad > 0 {
		sv.walk.lose("bucket %s: %d undecodable records", name, bad)
	}
}

// loose scans the pages the walk did not reach for articles and source
// states the tree lacks (and tombstones and aliases), keeping of each
// article its copy with the newest Updated.
func (sv *salvager) loose(ctx context.Context, sources map[string]SourceState, aliases map[string][]byte) error {
	r := sv.walk.r
	arts := map[string]Article{}
	for id := uint64(2); id < r.pages(); id++ {
		if sv.walk.reached[id] {
			continue
		}
		p, err := r.page(id)
		if err != nil || native.Uint16(p[8:]) != rawLeafPage {
			continue // a free or overflow page, or garbage
		}
		id += uint64(len(p))/uint64(r.pageSize) - 1
		sv.looseLeaf(p, 0, arts, sources, aliases)
	}
	for _, id := range slices.Sorted(maps.Keys(arts)) {
		if sv.tombs[id] != nil {
			continue
		}
		sv.rep.Loose++
		if err := sv.add(ctx, arts[id]); err != nil {
			return err
		}
	}
	return nil
}

// looseLeaf files the records of the loose leaf page p, and those of the
// small buckets stored inline in it.
func (sv *salvager) looseLeaf(p []byte, depth int, arts map[string]Article, sources map[string]SourceState, aliases map[string][]byte) {
	els, _, _ := elements(p)
	for _, e := range els {
		switch {
		case !e.bucket:
			sv.looseRecord(e.key, e.value, arts, sources, aliases)
		case len(e.value) > bucketHeadLen && native.Uint64(e.value) == 0 && depth < maxTreeDepth:
			sv.looseLeaf(e.value[bucketHeadLen:], depth+1, arts, sources, aliases)
		}
	}
}

// looseRecord files one record of a loose page by its shape.
func (sv *salvager) looseRecord(k, v []byte, arts map[string]Article, sources map[string]SourceState, aliases map[string][]byte) {
	id := string(k)
	switch {
	case validID(id) && validID(string(v)):
		if aliases[id] == nil {
			aliases[id] = bytes.Clone(v)
		}
	case validID(id) && (len(v) == 8 || len(v) == tombstoneLen):
		if sv.tombs[id] == nil && !sv.found[id] {
			sv.tombs[id] = bytes.Clone(v)
		}
	case validID(id):
		a, ok := decodeArticle(k, v)
		if ok && !sv.found[id] && (arts[id].ID == "" || a.Updated.After(arts[id].Updated)) {
			arts[id] = a
		}
	default:
		st, ok := decodeSource(k, v)
		if old, had := sources[st.FeedURL]; ok && (!had || st.LastFetch.After(old.LastFetch)) {
			sources[st.FeedURL] = st
		}
	}
}

// decodeArticle decodes a stored article and checks it as a save would.
func decodeArticle(k, v []byte) (Article, bool) {
	var a Article
	if json.Unmarshal(v, &a) != nil || a.ID != string(k) {
		return Article{}, false
	}
	a, err := normalize(a)
	return a, err == nil
}

// decodeSource decodes a stored source state.
func decodeSource(k, v []byte) (SourceState, bool) {
	var st SourceState
	if json.Unmarshal(v, &st) != nil || st.FeedURL == "" || st.FeedURL != string(k) {
		return SourceState{}, false
	}
	return st, true
}

// add queues a for writing, writing a batch when it is full.
func (sv *salvager) add(ctx context.Context, a Article) error {
	sv.batch = append(sv.batch, a)
	if len(sv.batch) < salvageBatch {
		return nil
	}
	return sv.flush(ctx)
}

// flush writes the queued articles with their index entries, category
// counts, signature records and URL identities, in one transaction.
func (sv *salvager) flush(ctx context.Context) error {
	if len(sv.batch) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := sv.dst.db.Update(ctx, func(tx kv.Tx) error {
		var cs counters
		for _, a := range sv.batch {
			if err := putChange(tx, change{art: a}, &cs); err != nil {
				return err
			}
			if err := writeRecord(tx, nil, a.ID, nil, newRecord(a, textSignature(a))); err != nil {
				return err
			}
			if a.Link != "" {
				if err := putIfAbsent(tx, bucketURLs, identityKey(story.IdentityURL(a.Link)), a.ID); err != nil {
					return err
				}
			}
		}
		return cs.apply(tx, sv.dst.now().UTC())
	})
	if err != nil {
		return fmt.Errorf("write %d salvaged articles: %w", len(sv.batch), err)
	}
	sv.rep.Articles += len(sv.batch)
	sv.batch = sv.batch[:0]
	return nil
}

// putRest writes the source states, tombstones and aliases.
func (sv *salvager) putRest(ctx context.Context, sources map[string]SourceState, aliases map[string][]byte) error {
	return sv.dst.db.Update(ctx, func(tx kv.Tx) error {
		for _, url := range slices.Sorted(maps.Keys(sources)) {
			val, err := json.Marshal(sources[url])
			if err != nil {
				return fmt.Errorf("encode source state %s: %w", url, err)
			}
			if err := tx.Bucket([]byte(bucketSources)).Put([]byte(url), val); err != nil {
				return fmt.Errorf("put source state %s: %w", url, err)
			}
		}
		sv.rep.Sources = len(sources)
		for name, recs := range map[string]map[string][]byte{bucketTombstones: sv.tombs, bucketAliases: aliases} {
			if len(recs) == 0 {
				continue
			}
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
			for k, v := range recs {
				if err := b.Put([]byte(k), v); err != nil {
					return fmt.Errorf("put %s entry %s: %w", name, k, err)
				}
			}
		}
		sv.rep.Tombstones, sv.rep.Aliases = len(sv.tombs), len(aliases)
		return nil
	})
}
