package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// perSourceScan bounds the work of LatestPerSource: it reads at most this
// many index entries per article asked for.
const perSourceScan = 20

// LatestPerSource is Latest with at most maxPerSource articles of any one
// source (by Source.FeedURL; a merged story counts for its first source):
// walking the index newest first, articles of a source that already has
// maxPerSource are skipped, so that one chatty source cannot swamp a
// category. maxPerSource <= 0 means no cap (Latest). The work is bounded:
// at most perSourceScan × limit index entries are read, so a category
// swamped beyond that gives fewer than limit articles. Safe for concurrent
// use; the articles are copies the caller owns.
func (s *Store) LatestPerSource(ctx context.Context, slug string, limit, maxPerSource int) ([]Article, error) {
	if maxPerSource <= 0 {
		return s.Latest(ctx, slug, limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []Article{}
	if limit <= 0 {
		return out, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte(bucketIndex)).Bucket([]byte(slug))
		if idx == nil {
			return nil
		}
		arts := tx.Bucket([]byte(bucketArticles))
		perSource := make(map[string]int)
		c := idx.Cursor()
		read := 0
		for k, _ := c.Last(); k != nil && len(out) < limit && read < perSourceScan*limit; k, _ = c.Prev() {
			read++
			_, id, err := splitIndexKey(k)
			if err != nil {
				return err
			}
			a, found, err := getArticle(arts, id)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("index entry %s: no such article", id)
			}
			if perSource[a.Source.FeedURL] >= maxPerSource {
				continue
			}
			perSource[a.Source.FeedURL]++
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("latest %d of category %s, %d per source: %w", limit, slug, maxPerSource, err)
	}
	return out, nil
}
