package storage

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/tributary/tributary/kv"
)

// bucketSourceCounts maps a source's feed URL to the number of articles
// stored from it (8 bytes, big-endian). It is created by the first write
// that needs it, so databases written before it existed still open; their
// older articles are simply not counted.
const bucketSourceCounts = "source_counts"

// countSourceArticles applies the per-source changes of one save to the
// source counters, in the save's transaction: +1 for each new article,
// and a move for an article whose source changed.
func countSourceArticles(tx kv.Tx, changes []change) error {
	deltas := map[string]int64{}
	for _, c := range changes {
		switch {
		case c.old == nil:
			deltas[c.art.Source.FeedURL]++
		case c.old.Source.FeedURL != c.art.Source.FeedURL:
			deltas[c.old.Source.FeedURL]--
			deltas[c.art.Source.FeedURL]++
		}
	}
	return addSourceCounts(tx, deltas)
}

// addSourceCounts adds deltas (feed URL → change) to the per-source
// article counters, never below zero.
func addSourceCounts(tx kv.Tx, deltas map[string]int64) error {
	if len(deltas) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists([]byte(bucketSourceCounts))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSourceCounts, err)
	}
	for feedURL, d := range deltas {
		if d == 0 || feedURL == "" {
			continue
		}
		n := max(sourceCount(b, feedURL)+d, 0)
		if err := b.Put([]byte(feedURL), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return fmt.Errorf("count articles of %s: %w", feedURL, err)
		}
	}
	return nil
}

// sourceCount reads one counter, 0 when absent or malformed.
func sourceCount(b kv.Bucket, feedURL string) int64 {
	v := b.Get([]byte(feedURL))
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// SourceArticleCounts returns the number of articles stored from each
// source, by the source's configured feed URL (Article.Source.FeedURL).
// Counters are kept by SaveArticles in the transaction that stores the
// articles, so reading them costs one small bucket walk, not a scan of the
// articles. Safe for concurrent use.
func (s *Store) SourceArticleCounts(ctx context.Context) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]int{}
	err := s.db.View(ctx, func(tx kv.Tx) error {
		b := tx.Bucket([]byte(bucketSourceCounts))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			out[string(k)] = int(sourceCount(b, string(k)))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("count articles per source: %w", err)
	}
	return out, nil
}
