package storage

import (
	"context"
	"fmt"

	"github.com/tributary/tributary/kv"
)

// Version returns the id of the last committed write transaction: it
// changes whenever anything in the store changes (articles saved, edited or
// removed, source states written) and stays the same otherwise, also across
// restarts. Readers use it to skip re-reading what they cached. It costs one
// empty read transaction. Safe for concurrent use.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var v uint64
	err := s.db.View(ctx, func(tx kv.Tx) error {
		v = uint64(tx.ID())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store version: %w", err)
	}
	return v, nil
}
