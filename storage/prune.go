package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tributary/tributary/kv"
)

// defaultPruneBatch is the number of deletions per transaction when
// PruneOptions.Batch is zero: small enough that a write transaction never
// holds the writer lock (and delays a fetch's save) for long.
const defaultPruneBatch = 1000

// PruneOptions say what Prune removes.
type PruneOptions struct {
	// MaxAge removes articles published longer than MaxAge ago; zero keeps
	// articles of any age.
	MaxAge time.Duration
	// MaxPerCategory keeps only the newest MaxPerCategory articles of each
	// category (AllSlug, the merge of all, is not capped); zero keeps any
	// number.
	MaxPerCategory int
	// TombstoneTTL is how long the ID of a deleted article (pruned, or
	// removed with Delete) is remembered, so that a source still listing
	// the item does not bring it back. Zero means twice MaxAge, at least 7
	// days; it should always exceed MaxAge.
	TombstoneTTL time.Duration
	// Batch is the most deletions per transaction; zero means 1000.
	Batch int
}

// PruneResult counts what one Prune call did.
type PruneResult struct {
	// Pruned articles were deleted with their index entries.
	Pruned int
	// Expired tombstones were forgotten.
	Expired int
}

// Prune deletes the articles that fall outside opts: those published before
// now - MaxAge, and those beyond the newest MaxPerCategory of any category.
// Each deleted article leaves a tombstone (see Delete), written in the same
// transaction, that makes SaveArticles suppress the same story until the
// tombstone is older than the TTL; older tombstones are removed. After
// deleting, it merges the sketch log into the sketch index (sketchlog.go),
// which drops the log's entries of the deleted stories. Deletions run in transactions of at most
// opts.Batch articles, so readers and writers are never held up for long.
// It is safe for concurrent use; an article saved while Prune runs is not
// considered by this call.
func (s *Store) Prune(ctx context.Context, opts PruneOptions) (PruneResult, error) {
	var res PruneResult
	now := s.now().UTC()
	batch := opts.Batch
	if batch <= 0 {
		batch = defaultPruneBatch
	}
	ttl := opts.TombstoneTTL
	if ttl <= 0 {
		ttl = max(2*opts.MaxAge, 7*24*time.Hour)
	}
	var ids, expired [][]byte
	err := s.db.View(ctx, func(tx kv.Tx) error {
		var err error
		ids, err = pruneCandidates(tx, opts, now)
		if err != nil {
			return err
		}
		expired = expiredTombstones(tx, now.Add(-ttl))
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("prune %s: %w", s.name, err)
	}
	for chunk := range slices.Chunk(ids, batch) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var n int
		err := s.db.Update(ctx, func(tx kv.Tx) error {
			var err error
			n, err = deleteArticles(tx, chunk, now)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("prune %s: %w", s.name, err)
		}
		res.Pruned += n
	}
	if res.Pruned > 0 {
		// The sketch log keeps the entries of deleted stories until a
		// merge drops them: merge now, so that churn does not grow it.
		if err := s.mergeLog(ctx, true); err != nil {
			return res, fmt.Errorf("prune %s: %w", s.name, err)
		}
	}
	for chunk := range slices.Chunk(expired, batch) {
		err := s.db.Update(ctx, func(tx kv.Tx) error {
			b := tx.Bucket([]byte(bucketTombstones))
			for _, id := range chunk {
				if err := b.Delete(id); err != nil {
					return fmt.Errorf("delete tombstone %s: %w", id, err)
				}
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("prune %s: %w", s.name, err)
		}
		res.Expired += len(chunk)
	}
	return res, nil
}

// pruneCandidates lists, without duplicates, the IDs of the articles
// outside opts at now: the oldest entries of every category index beyond
// MaxPerCategory, and every entry of the AllSlug index older than MaxAge.
func pruneCandidates(tx kv.Tx, opts PruneOptions, now time.Time) ([][]byte, error) {
	seen := map[string]bool{}
	var out [][]byte
	add := func(k []byte) error {
		_, id, err := splitIndexKey(k)
		if err != nil {
			return err
		}
		if !seen[string(id)] {
			seen[string(id)] = true
			out = append(out, slices.Clone(id))
		}
		return nil
	}
	index := tx.Bucket([]byte(bucketIndex))
	if opts.MaxAge > 0 {
		if all := index.Bucket([]byte(AllSlug)); all != nil {
			cutoff := keyTime(now.Add(-opts.MaxAge))
			c := all.Cursor()
			for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < cutoff; k, _ = c.Next() {
				if err := add(k); err != nil {
					return nil, err
				}
			}
		}
	}
	if opts.MaxPerCategory > 0 {
		cats := tx.Bucket([]byte(bucketCategories))
		err := forEachBucket(index, func(slug []byte) error {
			if string(slug) == AllSlug {
				return nil // the merge of every category is not capped
			}
			var m categoryMeta
			if raw := cats.Get(slug); raw != nil {
				if err := json.Unmarshal(raw, &m); err != nil {
					return fmt.Errorf("decode category %s: %w", slug, err)
				}
			}
			extra := m.Count - opts.MaxPerCategory // Check keeps Count = index size
			b := index.Bucket(slug)
			c := b.Cursor()
			for k, _ := c.First(); k != nil && extra > 0; k, _ = c.Next() {
				if err := add(k); err != nil {
					return err
				}
				extra--
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// expiredTombstones lists the tombstones written before cutoff.
func expiredTombstones(tx kv.Tx, cutoff time.Time) [][]byte {
	b := tx.Bucket([]byte(bucketTombstones))
	if b == nil {
		return nil
	}
	var out [][]byte
	limit := keyTime(cutoff)
	_ = b.ForEach(func(k, v []byte) error {
		if len(v) < 8 || binary.BigEndian.Uint64(v) < limit {
			out = append(out, slices.Clone(k))
		}
		return nil
	})
	return out
}

// deleteArticles deletes the stories ids (skipping any already gone) like
// Delete: with their index, identity and per-source counts, leaving a
// tombstone stamped now. It returns how many it deleted.
func deleteArticles(tx kv.Tx, ids [][]byte, now time.Time) (int, error) {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = string(id)
	}
	return deleteStories(tx, strs, now)
}
