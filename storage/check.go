package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
	"github.com/tributary/tributary/story"
)

// maxProblems caps how many problems Check lists one by one.
const maxProblems = 100

// Check verifies the whole database: on a bbolt file its own page
// structure, and on any backend the store's invariants. Every index entry
// must decode and point at an existing article filed in that category at
// the key's Published time; every article must be indexed under AllSlug and
// each of its categories exactly once; each category's count must equal
// the size of its index; every signature record must be well-formed,
// belong to a stored article (or to an item merged into one) and have its
// sketch entries, and every sketch entry must name a stored article (or
// such an item).
// It returns nil or an errors.Join of the problems found (at most about a
// hundred listed). Check is safe for concurrent use, but on a bbolt file it
// reads the whole file while holding the write lock, so writers wait for
// it: it is meant for tests and maintenance commands.
func (s *Store) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var p problems
	var walkErr error
	check := func(tx kv.Tx) error {
		checkPages(tx, &p)
		walkErr = checkInvariants(ctx, tx, &p)
		return nil
	}
	var err error
	if s.file != nil {
		// bbolt's page check reads the shared freelist, which is only safe
		// in a write transaction. The transaction changes nothing and is
		// committed: rolling back a write transaction makes bbolt (with
		// NoFreelistSync) rescan the file, and panic if the file is damaged.
		err = s.db.Update(ctx, check)
	} else {
		err = s.db.View(ctx, check)
	}
	if err == nil {
		err = walkErr
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", s.name, err)
	}
	if err := p.join(); err != nil {
		return fmt.Errorf("check %s: %w", s.name, err)
	}
	return nil
}

// checkPages adds to p every problem of the page structure of a bbolt
// file; other backends keep their own storage consistent.
func checkPages(tx kv.Tx, p *problems) {
	btx, ok := tx.(boltkv.Tx)
	if !ok {
		return
	}
	for err := range btx.Bolt().Check() {
		p.add("bbolt: %v", err)
	}
}

// checkInvariants adds to p every broken invariant of the store's layout.
// It fails only when it cannot finish, e.g. when ctx is done.
func checkInvariants(ctx context.Context, tx kv.Tx, p *problems) error {
	filed, err := checkArticles(ctx, tx, p)
	if err != nil {
		return err
	}
	sizes, err := checkIndex(ctx, tx, filed, p)
	if err != nil {
		return err
	}
	if err := checkCategories(tx, sizes, p); err != nil {
		return err
	}
	if err := checkCoverage(ctx, tx, filed, sizes, p); err != nil {
		return err
	}
	return checkSignatures(ctx, tx, p)
}

// problems collects what Check finds, keeping the first maxProblems.
type problems struct {
	errs    []error
	omitted int
}

func (p *problems) add(format string, args ...any) {
	if len(p.errs) == maxProblems {
		p.omitted++
		return
	}
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *problems) join() error {
	if p.omitted > 0 {
		return errors.Join(append(p.errs, fmt.Errorf("and %d more problems", p.omitted))...)
	}
	return errors.Join(p.errs...)
}

// filing is where an article should be indexed: its key time and
// coverage key, and the index entries found for each slug it is filed
// under.
type filing struct {
	keyTime     uint64
	coverageKey []byte
	found       map[string]int
}

// checkArticles decodes every article and returns where each must be indexed.
func checkArticles(ctx context.Context, tx kv.Tx, p *problems) (map[string]filing, error) {
	filed := make(map[string]filing)
	err := tx.Bucket([]byte(bucketArticles)).ForEach(func(k, v []byte) error {
		if len(filed)%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var a Article
		if err := json.Unmarshal(v, &a); err != nil {
			p.add("article %s: %v", k, err)
			return nil
		}
		if a.ID != string(k) || !validID(a.ID) {
			p.add("article %s: stored with id %q", k, a.ID)
			return nil
		}
		f := filing{keyTime: keyTime(a.Published), coverageKey: coverageKey(a), found: make(map[string]int)}
		for _, c := range filedUnder(a) {
			f.found[c.Slug] = 0
		}
		filed[a.ID] = f
		return nil
	})
	return filed, err
}

// checkIndex walks every category index, checks each entry against filed
// and then that every article was found exactly once per slug. It returns
// the number of entries of each index.
func checkIndex(ctx context.Context, tx kv.Tx, filed map[string]filing, p *problems) (map[string]int, error) {
	sizes := make(map[string]int)
	index := tx.Bucket([]byte(bucketIndex))
	err := index.ForEach(func(name, v []byte) error {
		slug := string(name)
		if v != nil {
			p.add("index: key %q is not a category index", slug)
			return nil
		}
		return index.Bucket(name).ForEach(func(k, _ []byte) error {
			sizes[slug]++
			if sizes[slug]%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			ts, id, err := splitIndexKey(k)
			if err != nil {
				p.add("index %s: %v", slug, err)
				return nil
			}
			entry := fmt.Sprintf("index %s: entry %s at %s", slug, id, formatKeyTime(ts))
			f, ok := filed[string(id)]
			switch {
			case !ok:
				p.add("%s: no such article", entry)
			case ts != f.keyTime:
				p.add("%s: article is published at %s", entry, formatKeyTime(f.keyTime))
			}
			if n, listed := f.found[slug]; listed {
				f.found[slug] = n + 1
			} else if ok {
				p.add("%s: article is not in category %s", entry, slug)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(filed)) {
		found := filed[id].found
		for _, slug := range slices.Sorted(maps.Keys(found)) {
			if n := found[slug]; n != 1 {
				p.add("article %s: indexed %d times in %s, want once", id, n, slug)
			}
		}
	}
	return sizes, nil
}

// checkCoverage checks that the coverage index of each category holds the
// coverage key of every article of its time index (sizes gives their
// number), and nothing else.
func checkCoverage(ctx context.Context, tx kv.Tx, filed map[string]filing, sizes map[string]int, p *problems) error {
	cov := tx.Bucket([]byte(bucketCoverage))
	if cov == nil {
		p.add("coverage: no coverage index")
		return nil
	}
	n := 0
	return forEachBucket(cov, func(name []byte) error {
		slug := string(name)
		size := 0
		err := cov.Bucket(name).ForEach(func(k, _ []byte) error {
			size++
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if len(k) != CoverageCursorLen {
				p.add("coverage %s: key %x: want %d bytes", slug, k, CoverageCursorLen)
				return nil
			}
			id := string(k[len(k)-idLen:])
			f, ok := filed[id]
			_, listed := f.found[slug]
			if !ok || !listed || string(f.coverageKey) != string(k) {
				p.add("coverage %s: entry %s: no such article in the category with this coverage and time", slug, id)
			}
			return nil
		})
		if err == nil && size != sizes[slug] {
			p.add("coverage %s: %d entries, the time index holds %d", slug, size, sizes[slug])
		}
		return err
	})
}

// formatKeyTime formats the time of an index key for messages.
func formatKeyTime(ts uint64) string {
	return time.Unix(0, int64(ts)).UTC().Format(time.RFC3339Nano)
}

// checkCategories compares each category record with its index size.
func checkCategories(tx kv.Tx, sizes map[string]int, p *problems) error {
	recorded := make(map[string]bool)
	err := tx.Bucket([]byte(bucketCategories)).ForEach(func(k, v []byte) error {
		slug := string(k)
		recorded[slug] = true
		var m categoryMeta
		if err := json.Unmarshal(v, &m); err != nil {
			p.add("category %s: %v", slug, err)
			return nil
		}
		if m.Count <= 0 || m.Count != sizes[slug] {
			p.add("category %s: count %d, index holds %d", slug, m.Count, sizes[slug])
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, slug := range slices.Sorted(maps.Keys(sizes)) {
		if !recorded[slug] {
			p.add("index %s: %d entries but no category record", slug, sizes[slug])
		}
	}
	return nil
}

// checkSignatures verifies the near-duplicate index (signature.go) and its
// log (sketchlog.go).
func checkSignatures(ctx context.Context, tx kv.Tx, p *problems) error {
	arts := tx.Bucket([]byte(bucketArticles))
	sk := tx.Bucket([]byte(bucketSketch))
	logged, err := checkSketchLog(tx, p)
	if err != nil {
		return err
	}
	if sigs := tx.Bucket([]byte(bucketSignatures)); sigs != nil {
		err := sigs.ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := story.Record(v)
			switch {
			case !r.Valid():
				p.add("signature %s: malformed record (%d bytes)", k, len(v))
			case arts.Get([]byte(resolveStory(tx, string(k)))) == nil:
				p.add("signature %s: no such article", k)
			default:
				for _, e := range sketchEntries(r, string(k)) {
					if (sk == nil || sk.Get(e) == nil) && !logged[string(e)] {
						p.add("signature %s: sketch entry %x missing", k, e[periodLen:periodLen+story.SketchKeyLen])
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if sk == nil {
		return nil
	}
	return sk.ForEach(func(k, _ []byte) error {
		if len(k) < idLen || arts.Get([]byte(resolveStory(tx, string(k[len(k)-idLen:])))) == nil {
			p.add("sketch entry %x: no such article", k)
		}
		return ctx.Err()
	})
}

// checkSketchLog verifies that the runs of the sketch log are those its
// directory lists, of the sizes it gives, and that every stale entry's ID
// is marked (unmarkedStale), and returns their entries.
func checkSketchLog(tx kv.Tx, p *problems) (map[string]bool, error) {
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return nil, nil
	}
	runs, _, err := readSketchDir(tx)
	if err != nil {
		p.add("%v", err)
		return nil, nil
	}
	listed := make(map[string]bool, len(runs))
	entries := make(map[string]bool)
	var all [][]byte
	for _, r := range runs {
		parts, err := readRun(b, r.key, r.entries)
		if err != nil {
			p.add("%v", err)
			continue
		}
		for i := range parts {
			listed[string(partKey(r.key, i))] = true
		}
		for e := range runEntries(parts) {
			entries[string(e)] = true
			all = append(all, e)
		}
	}
	for _, id := range unmarkedStale(tx, all) {
		p.add("sketch log: entries of %s its signature record no longer has, not marked stale", id)
	}
	if m := b.Get(keySketchMerge); m != nil && (len(m) != 5 || int(binary.BigEndian.Uint32(m)) > len(runs) || int(m[4]) >= mergeSlices) {
		p.add("sketch log merge %x: not a merge of the %d runs", m, len(runs))
	}
	err = b.ForEach(func(k, _ []byte) error {
		if !bytes.Equal(k, keySketchDir) && !bytes.Equal(k, keyIndexVersion) && !bytes.Equal(k, keySketchMerge) && !bytes.Equal(k, keyMergesEnded) && !listed[string(k)] {
			p.add("sketch log run %x: not in the directory", k)
		}
		return nil
	})
	return entries, err
}
