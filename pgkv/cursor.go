package pgkv

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/google/btree"
	"github.com/jackc/pgx/v5"

	"github.com/tributary/tributary/kv"
)

// A cursor reads firstPage rows with its first query, and twice as many
// with each next one, up to maxPage: a walk over a large bucket costs few
// round trips, a lookup of a few keys reads few rows.
const (
	firstPage = 256
	maxPage   = 2048
)

// row is one key of a bucket read from the database; value is nil for a
// nested bucket.
type row struct{ key, value []byte }

// page is the rows of a bucket a cursor read last, and the range of keys
// they cover: every key of the bucket in that range is in rows.
type page struct {
	rows []row // in key order
	read bool  // false until the first query
	// lo and hi bound the range: lo is in it with loIncl (an empty lo
	// with loIncl is no bound), the keys up to hi are (every key with
	// hiInf); whether hi itself is does not matter, as the rows end the
	// range when they fill a page and hi is their last key.
	lo, hi []byte
	loIncl bool
	hiInf  bool
}

// after returns the first row past k (at or past k with incl) if the page
// answers that; ok is false when the database must be asked.
func (p *page) after(k []byte, incl bool) (r row, found, ok bool) {
	if !p.read {
		return row{}, false, false
	}
	if c := bytes.Compare(k, p.lo); c < 0 || (c == 0 && incl && !p.loIncl) {
		return row{}, false, false
	}
	i := sort.Search(len(p.rows), func(i int) bool {
		c := bytes.Compare(p.rows[i].key, k)
		return c > 0 || (c == 0 && incl)
	})
	if i < len(p.rows) {
		return p.rows[i], true, true
	}
	return row{}, false, p.hiInf
}

// before returns the last row before k (before every key with inf) if the
// page answers that; ok is false when the database must be asked.
func (p *page) before(k []byte, inf bool) (r row, found, ok bool) {
	if !p.read || (inf && !p.hiInf) || (!inf && !p.hiInf && bytes.Compare(k, p.hi) > 0) {
		return row{}, false, false
	}
	i := sort.Search(len(p.rows), func(i int) bool { return !inf && bytes.Compare(p.rows[i].key, k) >= 0 })
	if i > 0 {
		return p.rows[i-1], true, true
	}
	return row{}, false, len(p.lo) == 0 && p.loIncl
}

// cursor is a kv.Cursor: it merges the database's keys of its bucket, read
// a page at a time, with the transaction's overlay.
type cursor struct {
	b    *bucket
	page page
	key  []byte // the key it is on
	kind kind   // what key holds
	// off is 0 on key, 1 past the last key, -1 before the first.
	off int
	// size is the number of rows the next query reads.
	size int
}

var _ kv.Cursor = (*cursor)(nil)

// First implements kv.Cursor.
func (c *cursor) First() ([]byte, []byte) { return c.forward([]byte{}, true) }

// Last implements kv.Cursor.
func (c *cursor) Last() ([]byte, []byte) { return c.backward(nil, true) }

// Seek implements kv.Cursor.
func (c *cursor) Seek(key []byte) ([]byte, []byte) { return c.forward(key, true) }

// Next implements kv.Cursor.
func (c *cursor) Next() ([]byte, []byte) {
	switch c.off {
	case 1:
		return nil, nil
	case -1:
		return c.First()
	}
	return c.forward(c.key, false)
}

// Prev implements kv.Cursor.
func (c *cursor) Prev() ([]byte, []byte) {
	switch c.off {
	case 1:
		return c.Last()
	case -1:
		return nil, nil
	}
	return c.backward(c.key, false)
}

// Delete implements kv.Cursor.
func (c *cursor) Delete() error {
	if !c.b.t.writable {
		return kv.ErrTxNotWritable
	}
	if c.off != 0 {
		return nil
	}
	if c.kind == nested {
		return kv.ErrIncompatibleValue
	}
	c.b.t.set(c.b.path, entry{key: c.key})
	return nil
}

// land puts the cursor on key and returns key and its value.
func (c *cursor) land(key, value []byte, k kind) ([]byte, []byte) {
	c.key, c.kind, c.off = key, k, 0
	return key, value
}

// overlayNext returns the overlay's first entry past k (at or past k with
// incl).
func (c *cursor) overlayNext(k []byte, incl bool) (e entry, ok bool) {
	ov := c.writes()
	if ov == nil {
		return entry{}, false
	}
	ov.AscendGreaterOrEqual(&entry{key: k}, func(x *entry) bool {
		if !incl && bytes.Equal(x.key, k) {
			return true
		}
		e, ok = *x, true
		return false
	})
	return e, ok
}

// writes returns the overlay of the cursor's bucket, nil if it has none.
func (c *cursor) writes() *btree.BTreeG[*entry] {
	if s := c.b.t.buckets[string(c.b.path)]; s != nil {
		return s.writes
	}
	return nil
}

// overlayPrev returns the overlay's last entry before k (before all with
// inf).
func (c *cursor) overlayPrev(k []byte, inf bool) (e entry, ok bool) {
	ov := c.writes()
	if ov == nil {
		return entry{}, false
	}
	if inf {
		if x, ok := ov.Max(); ok {
			return *x, true
		}
		return entry{}, false
	}
	ov.DescendLessOrEqual(&entry{key: k}, func(x *entry) bool {
		if bytes.Equal(x.key, k) {
			return true
		}
		e, ok = *x, true
		return false
	})
	return e, ok
}

// forward moves to the first key past k (at or past k with incl) that the
// transaction sees.
func (c *cursor) forward(k []byte, incl bool) ([]byte, []byte) {
	for {
		r, rok := c.dbNext(k, incl)
		e, eok := c.overlayNext(k, incl)
		switch {
		case !rok && !eok:
			c.off = 1
			return nil, nil
		case eok && (!rok || bytes.Compare(e.key, r.key) <= 0):
			if e.kind == absent {
				k, incl = e.key, false
				continue
			}
			return c.land(e.key, e.value, e.kind)
		default:
			return c.land(r.key, r.value, rowKind(r))
		}
	}
}

// backward moves to the last key before k (the last key with inf) that
// the transaction sees.
func (c *cursor) backward(k []byte, inf bool) ([]byte, []byte) {
	for {
		r, rok := c.dbPrev(k, inf)
		e, eok := c.overlayPrev(k, inf)
		switch {
		case !rok && !eok:
			c.off = -1
			return nil, nil
		case eok && (!rok || bytes.Compare(e.key, r.key) >= 0):
			if e.kind == absent {
				k, inf = e.key, false
				continue
			}
			return c.land(e.key, e.value, e.kind)
		default:
			return c.land(r.key, r.value, rowKind(r))
		}
	}
}

func rowKind(r row) kind {
	if r.value == nil {
		return nested
	}
	return value
}

// dbNext returns the database's first row past k (at or past k with incl).
func (c *cursor) dbNext(k []byte, incl bool) (row, bool) {
	if c.b.t.hidden(c.b.path) {
		return row{}, false
	}
	if r, found, ok := c.page.after(k, incl); ok {
		return r, found
	}
	if p := c.prefetched(k); p != nil && incl {
		c.page = *p
		r, found, _ := p.after(k, incl)
		return r, found
	}
	op := ">"
	if incl {
		op = ">="
	}
	full, rows := c.query("SELECT key, value FROM kv WHERE bucket = $1 AND key "+op+" $2 ORDER BY key LIMIT %d", k)
	c.page = page{rows: rows, read: true, lo: k, loIncl: incl}
	if full {
		c.page.hi = rows[len(rows)-1].key
	} else {
		c.page.hiInf = true
	}
	if len(rows) == 0 {
		return row{}, false
	}
	return rows[0], true
}

// prefetched returns the page PrefetchSeeks read for a seek to k, nil if
// none.
func (c *cursor) prefetched(k []byte) *page {
	if s := c.b.t.buckets[string(c.b.path)]; s != nil {
		return s.seeks[string(k)]
	}
	return nil
}

// dbPrev returns the database's last row before k (the last row with inf).
func (c *cursor) dbPrev(k []byte, inf bool) (row, bool) {
	if c.b.t.hidden(c.b.path) {
		return row{}, false
	}
	if r, found, ok := c.page.before(k, inf); ok {
		return r, found
	}
	var (
		rows []row
		full bool
	)
	if inf {
		full, rows = c.query("SELECT key, value FROM kv WHERE bucket = $1 ORDER BY key DESC LIMIT %d")
	} else {
		full, rows = c.query("SELECT key, value FROM kv WHERE bucket = $1 AND key < $2 ORDER BY key DESC LIMIT %d", k)
	}
	slices.Reverse(rows)
	c.page = page{rows: rows, read: true, hi: k, hiInf: inf, lo: []byte{}, loIncl: true}
	if full {
		c.page.lo = rows[0].key
	}
	if len(rows) == 0 {
		return row{}, false
	}
	return rows[len(rows)-1], true
}

// query reads one page of the bucket's rows: sql's $1 is the bucket, $2
// the key k if any, its %d the page size. full reports whether the page is
// full: there may be more rows past it.
func (c *cursor) query(sql string, k ...[]byte) (full bool, _ []row) {
	t := c.b.t
	if c.size == 0 {
		c.size = firstPage
	}
	size := c.size
	c.size = min(2*c.size, maxPage)
	// The limit is written out, not a parameter: the plan PostgreSQL
	// caches for the statement is then one for a page, an index scan.
	sql = fmt.Sprintf(sql, size)
	args := []any{c.b.path}
	for _, x := range k {
		args = append(args, x)
	}
	rows, _ := t.ptx.Query(t.ctx, sql, args...)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.key, &x.value)
		return x, err
	})
	if err != nil {
		panic(queryError(fmt.Sprintf("read bucket %s", quote(c.b.path)), err))
	}
	return len(out) == size, out
}
