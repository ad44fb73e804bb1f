package pgkv

import (
	"bytes"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tributary/tributary/kv"
)

var _ kv.Prefetcher = (*bucket)(nil)

// PrefetchKeys implements kv.Prefetcher: the keys the transaction knows
// nothing of yet are read in one query per flushRows of them, and cached
// for Get as a lookup would cache them.
func (b *bucket) PrefetchKeys(keys [][]byte) {
	t := b.t
	if t.hidden(b.path) {
		return
	}
	var ask [][]byte
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if _, ok := b.known(k); ok || len(k) == 0 || seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		ask = append(ask, k)
	}
	for start := 0; start < len(ask); start += flushRows {
		part := ask[start:min(start+flushRows, len(ask))]
		for _, k := range part {
			t.cache[string(childPath(b.path, k))] = read{}
		}
		rows, _ := t.ptx.Query(t.ctx, "SELECT kv.key, kv.value FROM unnest($2::bytea[]) AS k(key) JOIN kv ON kv.bucket = $1 AND kv.key = k.key", b.path, part)
		err := forRows(rows, func(r row) {
			t.cache[string(childPath(b.path, r.key))] = read{value: r.value, kind: rowKind(r)}
		})
		if err != nil {
			panic(queryError(fmt.Sprintf("prefetch %d keys of bucket %s", len(part), quote(b.path)), err))
		}
	}
}

// PrefetchSeeks implements kv.Prefetcher: what cursors find from each of
// seeks on is read in one query per flushRows seeks, each as the page a
// cursor's Seek to its From would read first.
func (b *bucket) PrefetchSeeks(seeks []kv.Range, n int) {
	t := b.t
	if t.hidden(b.path) {
		return
	}
	var ask []kv.Range
	for _, r := range seeks {
		k := string(childPath(b.path, r.From))
		if _, ok := t.seeks[k]; !ok {
			t.seeks[k] = nil // asked already
			ask = append(ask, r)
		}
	}
	for start := 0; start < len(ask); start += flushRows {
		part := ask[start:min(start+flushRows, len(ask))]
		from, to := make([][]byte, len(part)), make([][]byte, len(part))
		for i, r := range part {
			from[i], to[i] = r.From, r.To
			switch {
			case to[i] == nil:
				to[i] = pastEveryKey
			case bytes.Compare(to[i], r.From) < 0:
				to[i] = r.From // an empty range: the first key from r.From on
			}
		}
		pages := b.readSeeks(from, to, n)
		for i, r := range part {
			t.seeks[string(childPath(b.path, r.From))] = seekPage(r, pages[i], n)
		}
	}
}

// pastEveryKey sorts after every key a bucket can hold (at most maxKey
// bytes): the upper bound of a seek without one, so that both bounds of
// every seek are conditions of its index scan.
var pastEveryKey = bytes.Repeat([]byte{0xff}, maxKey+1)

// readSeeks returns, for each i, the first n rows in [from[i], to[i]) and
// the first row at or after to[i].
func (b *bucket) readSeeks(from, to [][]byte, n int) [][]row {
	t := b.t
	// The limits are written out, as in cursor.query: each part of a
	// seek is then an index scan of a few rows.
	rows, _ := t.ptx.Query(t.ctx, fmt.Sprintf(`SELECT s.i, r.key, r.value
		FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS s(lo, hi, i),
		LATERAL (
			(SELECT key, value FROM kv WHERE bucket = $1 AND key >= s.lo AND key < s.hi ORDER BY key LIMIT %d)
			UNION ALL
			(SELECT key, value FROM kv WHERE bucket = $1 AND key >= s.hi ORDER BY key LIMIT 1)
		) AS r
		ORDER BY s.i, r.key`, n), b.path, from, to)
	pages := make([][]row, len(from))
	var (
		i int64
		r row
	)
	_, err := pgx.ForEachRow(rows, []any{&i, &r.key, &r.value}, func() error {
		pages[i-1] = append(pages[i-1], r)
		return nil
	})
	if err != nil {
		panic(queryError(fmt.Sprintf("prefetch %d seeks of bucket %s", len(from), quote(b.path)), err))
	}
	return pages
}

// seekPage returns the page of the rows readSeeks read for the seek r: a
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
