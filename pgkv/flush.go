package pgkv

import (
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tributary/tributary/kv"
)

// One statement of a flush carries at most flushRows rows, and no more
// than about flushBytes bytes of keys and values (PostgreSQL takes at
// most 1 GB in one parameter).
const (
	flushRows  = 5000
	flushBytes = 64 << 20
)

// chunks splits the rows 0..n-1, of sizes size(i), into spans [i, j) of at
// least one row and at most flushRows rows and flushBytes bytes.
func chunks(n int, size func(i int) int) [][2]int {
	var out [][2]int
	for i := 0; i < n; {
		j, bytes := i, 0
		for j < n && j-i < flushRows && (j == i || bytes+size(j) <= flushBytes) {
			bytes += size(j)
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// notifyChannel is the channel of the notification each write commit
// sends; its payload is the committed generation.
const notifyChannel = "tributary_kv"

// batch is what a flush sends: the rows to delete and to write, as the
// columns of unnest, and the keys of both by bucket path, in key order.
type batch struct {
	delBuckets, delKeys            [][]byte
	putBuckets, putKeys, putValues [][]byte
	keys                           map[string][][]byte
}

// collect gathers the overlay's rows.
func (t *tx) collect() batch {
	b := batch{keys: map[string][][]byte{}}
	for path, s := range t.buckets {
		if s.writes == nil || s.writes.Len() == 0 {
			continue
		}
		p := []byte(path)
		keys := make([][]byte, 0, s.writes.Len())
		s.writes.Ascend(func(e *entry) bool {
			keys = append(keys, e.key)
			if e.kind == absent || e.clear {
				b.delBuckets, b.delKeys = append(b.delBuckets, p), append(b.delKeys, e.key)
			}
			if e.kind != absent {
				b.putBuckets, b.putKeys = append(b.putBuckets, p), append(b.putKeys, e.key)
				b.putValues = append(b.putValues, e.value) // nil for a nested bucket: NULL
			}
			return true
		})
		b.keys[path] = keys
	}
	return b
}

// flush writes the transaction's changes, the new generation and its
// notification in one round trip, and returns the rows it sent: first the deleted buckets, then the
// deleted keys (never a nested bucket's), then the new rows, which may not
// replace a row of the other kind.
func (t *tx) flush() (batch, error) {
	b := t.collect()
	var q pgx.Batch
	for _, d := range t.dropped {
		q.Queue("DELETE FROM kv WHERE bucket = $1 AND key = $2", d.parent, d.name)
		if end := prefixEnd(d.path); end != nil {
			q.Queue("DELETE FROM kv WHERE bucket >= $1 AND bucket < $2", d.path, end)
		} else {
			q.Queue("DELETE FROM kv WHERE bucket >= $1", d.path)
		}
	}
	for _, c := range chunks(len(b.delKeys), func(i int) int { return len(b.delBuckets[i]) + len(b.delKeys[i]) }) {
		i, j := c[0], c[1]
		q.Queue(`DELETE FROM kv USING unnest($1::bytea[], $2::bytea[]) AS d(bucket, key)
			WHERE kv.bucket = d.bucket AND kv.key = d.key AND kv.value IS NOT NULL`,
			b.delBuckets[i:j], b.delKeys[i:j])
	}
	for _, c := range chunks(len(b.putKeys), func(i int) int { return len(b.putBuckets[i]) + len(b.putKeys[i]) + len(b.putValues[i]) }) {
		i, j := c[0], c[1]
		n := j - i
		q.Queue(`INSERT INTO kv (bucket, key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])
			ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value
			WHERE (kv.value IS NULL) = (excluded.value IS NULL)`,
			b.putBuckets[i:j], b.putKeys[i:j], b.putValues[i:j]).Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != int64(n) {
				return fmt.Errorf("put over a nested bucket or bucket over a value: %w", kv.ErrIncompatibleValue)
			}
			return nil
		})
	}
	q.Queue("UPDATE kv_generation SET generation = $1", int64(t.id))
	q.Queue("SELECT pg_notify($1, $2)", notifyChannel, strconv.FormatUint(t.id, 10))
	return b, t.ptx.SendBatch(t.ctx, &q).Close()
}

// prefixEnd returns the least byte string greater than every string that
// starts with p, or nil when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			end := append([]byte{}, p[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}
