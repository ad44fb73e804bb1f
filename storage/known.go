package storage

import (
	"context"
	"fmt"

	"github.com/tributary/tributary/kv"
)

// KnownItems returns the IDs of ids that the store already knows: stored
// articles, items merged into a story (aliases) and items of deleted
// stories. Any other ID would be stored as new, or as a first copy of a
// story. One read transaction serves the whole call. Safe for concurrent
// use.
func (s *Store) KnownItems(ctx context.Context, ids []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	known := make(map[string]bool)
	err := s.db.View(ctx, func(tx kv.Tx) error {
		arts := tx.Bucket([]byte(bucketArticles))
		for _, id := range ids {
			if arts.Get([]byte(id)) != nil || lookup(tx, bucketAliases, []byte(id)) != "" || tombstoned(tx, id) {
				known[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up %d item ids: %w", len(ids), err)
	}
	return known, nil
}
