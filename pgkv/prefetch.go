package pgkv

import (
	"bytes"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tributary/tributary/kv"
)

var _ kv.Prefetcher = (*bucket)(nil)

// PrefetchKeys implements kv.Prefetcher: the keys the transaction knows
// nothing of yet are queued, and the queue is read in one round trip (one
// query per bucket and flushRows keys) when the transaction next needs
// the database for a lookup or a PrefetchSeeks, so that prefetches of
// several buckets cost one round trip together.
func (b *bucket) PrefetchKeys(keys [][]byte) {
	t := b.t
	if t.hidden(b.path) {
		return
	}
	s := t.state(b.path)
	var p pending
	for _, k := range keys {
		if _, ok := t.known(b.path, k); ok || len(k) == 0 || s.queued[string(k)] {
			continue
		}
		if s.queued == nil {
			s.queued = map[string]bool{}
		}
		ks := string(k)
		s.queued[ks] = true
		p.keys, p.strs = append(p.keys, k), append(p.strs, ks)
	}
	if len(p.keys) > 0 {
		p.path = b.path
		t.pending = append(t.pending, p)
	}
}

// queuePending queues the reads of the pending prefetches in q; their
// rows go to the cache.
func (t *tx) queuePending(q *pgx.Batch) {
	for _, p := range t.pending {
		s := t.state(p.path)
		for _, k := range p.strs {
			s.reads[k] = read{} // absent unless a row comes
		}
		s.queued = nil
		for start := 0; start < len(p.keys); start += flushRows {
			end := min(start+flushRows, len(p.keys))
			strs := p.strs[start:end]
			// A LATERAL with a LIMIT, which the planner cannot turn into
			// a join: one index probe a key, never a scan of the bucket
			// joined by hash, which a join of keys and rows becomes.
			// A row names its key by its place in the array, which the
			// cache has as a string already.
			q.Queue(`SELECT k.i, r.value FROM unnest($2::bytea[]) WITH ORDINALITY AS k(key, i),
				LATERAL (SELECT value FROM kv WHERE bucket = $1 AND key = k.key LIMIT 1) AS r`,
				p.path, p.keys[start:end]).Query(func(rows pgx.Rows) error {
				var (
					i int64
					v []byte
				)
				_, err := pgx.ForEachRow(rows, []any{&i, &v}, func() error {
					s.reads[strs[i-1]] = read{value: v, kind: rowKind(row{value: v})}
					return nil
				})
				return err
			})
		}
	}
	t.pending = nil
}

// sendPending reads the pending prefetches, if any.
func (t *tx) sendPending() {
	if len(t.pending) == 0 {
		return
	}
	var q pgx.Batch
	n := len(t.pending)
	t.queuePending(&q)
	if err := t.ptx.SendBatch(t.ctx, &q).Close(); err != nil {
		panic(queryError(fmt.Sprintf("prefetch the keys of %d buckets", n), err))
	}
}

// PrefetchSeeks implements kv.Prefetcher: what cursors find from each of
// seeks on is read in one round trip, with the pending PrefetchKeys (one
// query per flushRows seeks), each seek as the page a cursor's Seek to
// its From would read first.
func (b *bucket) PrefetchSeeks(seeks []kv.Range, n int) {
	t := b.t
	if t.hidden(b.path) {
		return
	}
	s := t.state(b.path)
	if s.seeks == nil {
		s.seeks = map[string]*page{}
	}
	var ask []kv.Range
	for _, r := range seeks {
		if _, ok := s.seeks[string(r.From)]; !ok {
			s.seeks[string(r.From)] = nil // asked already
			ask = append(ask, r)
		}
	}
	if len(ask) == 0 {
		return
	}
	var q pgx.Batch
	t.queuePending(&q)
	for start := 0; start < len(ask); start += flushRows {
		b.queueSeeks(&q, ask[start:min(start+flushRows, len(ask))], n)
	}
	if err := t.ptx.SendBatch(t.ctx, &q).Close(); err != nil {
		panic(queryError(fmt.Sprintf("prefetch %d seeks of bucket %s", len(ask), quote(b.path)), err))
	}
}

// pastEveryKey sorts after every key a bucket can hold (at most maxKey
// bytes): the upper bound of a seek without one, so that both bounds of
// every seek are conditions of its index scan.
var pastEveryKey = bytes.Repeat([]byte{0xff}, maxKey+1)

// queueSeeks queues in q the read of the seeks: for each, the first n
// rows of its range and the first row at or after its end, made a page of
// the transaction's seeks.
func (b *bucket) queueSeeks(q *pgx.Batch, seeks []kv.Range, n int) {
	from, to := make([][]byte, len(seeks)), make([][]byte, len(seeks))
	for i, r := range seeks {
		from[i], to[i] = r.From, r.To
		switch {
		case to[i] == nil:
			to[i] = pastEveryKey
		case bytes.Compare(to[i], r.From) < 0:
			to[i] = r.From // an empty range: the first key from r.From on
		}
	}
	// The limits are written out, as in cursor.query: each part of a
	// seek is then an index scan of a few rows.
	q.Queue(fmt.Sprintf(`SELECT s.i, r.key, r.value
		FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS s(lo, hi, i),
		LATERAL (
			(SELECT key, value FROM kv WHERE bucket = $1 AND key >= s.lo AND key < s.hi ORDER BY key LIMIT %d)
			UNION ALL
			(SELECT key, value FROM kv WHERE bucket = $1 AND key >= s.hi ORDER BY key LIMIT 1)
		) AS r
		ORDER BY s.i, r.key`, n), b.path, from, to).Query(func(rows pgx.Rows) error {
		pages := make([][]row, len(seeks))
		var (
			i int64
			r row
		)
		_, err := pgx.ForEachRow(rows, []any{&i, &r.key, &r.value}, func() error {
			pages[i-1] = append(pages[i-1], r)
			return nil
		})
		s := b.t.state(b.path)
		for i, r := range seeks {
			s.seeks[string(r.From)] = seekPage(r, pages[i], n)
		}
		return err
	})
}

// seekPage returns the page of the rows queueSeeks read for the seek r: a
// run of the bucket's keys from r.From on.
func seekPage(r kv.Range, rows []row, n int) *page {
	in := 0
	for in < len(rows) && (r.To == nil || bytes.Compare(rows[in].key, r.To) < 0) {
		in++
	}
	p := &page{read: true, lo: r.From, loIncl: true}
	switch {
	case in == n:
		// The range holds more keys than were read: the page ends at
		// the last one read.
		p.rows, p.hi = rows[:n], rows[n-1].key
	case in < len(rows):
		// The first key past the range ends the page.
		p.rows, p.hi = rows, rows[len(rows)-1].key
	default:
		// Every key from r.From on was read.
		p.rows, p.hiInf = rows, true
	}
	return p
}

// forRows calls fn with every row of rows (key, value) and returns the
// query's error.
func forRows(rows pgx.Rows, fn func(row)) error {
	var r row
	_, err := pgx.ForEachRow(rows, []any{&r.key, &r.value}, func() error {
		fn(r)
		return nil
	})
	return err
}
