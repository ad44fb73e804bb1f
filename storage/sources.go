package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tributary/tributary/kv"
)

// SourceState returns the stored state of the source feedURL, and false
// when none was stored. Safe for concurrent use.
func (s *Store) SourceState(ctx context.Context, feedURL string) (SourceState, bool, error) {
	if err := ctx.Err(); err != nil {
		return SourceState{}, false, err
	}
	var st SourceState
	var found bool
	err := s.db.View(ctx, func(tx kv.Tx) error {
		raw := tx.Bucket([]byte(bucketSources)).Get([]byte(feedURL))
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, &st)
	})
	if err != nil {
		return SourceState{}, false, fmt.Errorf("get source state %s: %w", feedURL, err)
	}
	return st, found, nil
}

// PutSourceState stores st under st.FeedURL, replacing any earlier state.
// Concurrent calls may be committed together in one transaction (group
// commit); each call returns once its state is durable. st.FeedURL must
// not be empty. Safe for concurrent use.
func (s *Store) PutSourceState(ctx context.Context, st SourceState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st.FeedURL == "" {
		return errors.New("put source state: empty feed URL")
	}
	val, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("put source state %s: %w", st.FeedURL, err)
	}
	// Concurrent fetches share one commit (and one fsync). The function
	// may run more than once, which a Put tolerates.
	err = s.writes.update(func(tx kv.Tx) error {
		return tx.Bucket([]byte(bucketSources)).Put([]byte(st.FeedURL), val)
	})
	if err != nil {
		return fmt.Errorf("put source state %s: %w", st.FeedURL, err)
	}
	return nil
}

// SourceStates lists every stored source state, sorted by FeedURL. Safe
// for concurrent use.
func (s *Store) SourceStates(ctx context.Context) ([]SourceState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []SourceState
	err := s.db.View(ctx, func(tx kv.Tx) error {
		return tx.Bucket([]byte(bucketSources)).ForEach(func(k, v []byte) error {
			var st SourceState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("decode source state %s: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list source states: %w", err)
	}
	return out, nil
}
