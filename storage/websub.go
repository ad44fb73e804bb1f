package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/tributary/tributary/kv"
)

// bucketWebSub holds the WebSub records, one nested bucket per kind.
const bucketWebSub = "websub"

// PutWebSub stores the record val under key in the WebSub records of kind
// (such as the subscriptions of a hub, or those of a subscriber),
// replacing any earlier one. The records are opaque to the store. Safe for
// concurrent use.
func (s *Store) PutWebSub(ctx context.Context, kind, key string, val []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if kind == "" || key == "" {
		return errors.New("put websub record: empty kind or key")
	}
	err := s.db.Update(ctx, func(tx kv.Tx) error {
		top, err := tx.CreateBucketIfNotExists([]byte(bucketWebSub))
		if err != nil {
			return err
		}
		b, err := top.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), val)
	})
	if err != nil {
		return fmt.Errorf("put websub %s record %s: %w", kind, key, err)
	}
	return nil
}

// DeleteWebSub removes the record under key from the WebSub records of
// kind; a missing record is not an error. Safe for concurrent use.
func (s *Store) DeleteWebSub(ctx context.Context, kind, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(ctx, func(tx kv.Tx) error {
		b := webSubBucket(tx, kind)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("delete websub %s record %s: %w", kind, key, err)
	}
	return nil
}

// WebSubRecords returns a copy of every WebSub record of kind by key,
// empty when none was stored. Safe for concurrent use.
func (s *Store) WebSubRecords(ctx context.Context, kind string) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	err := s.db.View(ctx, func(tx kv.Tx) error {
		b := webSubBucket(tx, kind)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read websub %s records: %w", kind, err)
	}
	return out, nil
}

// WebSubRecord returns a copy of the WebSub record key of kind, nil when
// there is none. Safe for concurrent use.
func (s *Store) WebSubRecord(ctx context.Context, kind, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []byte
	err := s.db.View(ctx, func(tx kv.Tx) error {
		if b := webSubBucket(tx, kind); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = append([]byte(nil), v...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read websub %s record %s: %w", kind, key, err)
	}
	return out, nil
}

// webSubBucket returns the bucket of the WebSub records of kind, nil when
// none was ever stored.
func webSubBucket(tx kv.Tx, kind string) kv.Bucket {
	top := tx.Bucket([]byte(bucketWebSub))
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(kind))
}
