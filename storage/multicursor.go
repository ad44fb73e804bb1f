package storage

import (
	"bytes"

	"github.com/tributary/tributary/kv"
)

// multiCursor walks the union of several index buckets whose keys share
// one order (the time or the coverage indexes of several categories) as
// one sequence without duplicates: an article filed in two of them has the
// same key in both. A walk goes one way from where it was placed (last and
// below go backwards with prev, first and seek forwards with next); the
// keys are only valid inside the transaction.
type multiCursor struct {
	subs []kv.Cursor
	keys [][]byte // each sub's position; nil when it ran out
	cur  []byte
}

// newMultiCursor returns a multiCursor over the buckets.
func newMultiCursor(buckets []kv.Bucket) *multiCursor {
	m := &multiCursor{keys: make([][]byte, len(buckets))}
	for _, b := range buckets {
		m.subs = append(m.subs, b.Cursor())
	}
	return m
}

// pick sets the current key to the largest (backwards) or the smallest
// (forwards) of the subs' positions and returns it; nil when all ran out.
func (m *multiCursor) pick(backwards bool) []byte {
	m.cur = nil
	for _, k := range m.keys {
		if k == nil {
			continue
		}
		if c := bytes.Compare(k, m.cur); m.cur == nil || (backwards && c > 0) || (!backwards && c < 0) {
			m.cur = k
		}
	}
	return m.cur
}

// last places the walk on the largest key, backwards.
func (m *multiCursor) last() []byte {
	for i, c := range m.subs {
		m.keys[i], _ = c.Last()
	}
	return m.pick(true)
}

// first places the walk on the smallest key, forwards.
func (m *multiCursor) first() []byte {
	for i, c := range m.subs {
		m.keys[i], _ = c.First()
	}
	return m.pick(false)
}

// seek places the walk on the smallest key at or above k, forwards.
func (m *multiCursor) seek(k []byte) []byte {
	for i, c := range m.subs {
		m.keys[i], _ = c.Seek(k)
	}
	return m.pick(false)
}

// below places the walk on the largest key strictly below k, backwards.
func (m *multiCursor) below(k []byte) []byte {
	for i, c := range m.subs {
		at, _ := c.Seek(k)
		if at == nil {
			m.keys[i], _ = c.Last()
		} else {
			m.keys[i], _ = c.Prev()
		}
	}
	return m.pick(true)
}

// prev steps a backward walk to the next smaller key.
func (m *multiCursor) prev() []byte {
	return m.step(true)
}

// next steps a forward walk to the next larger key.
func (m *multiCursor) next() []byte {
	return m.step(false)
}

// step moves every sub placed on the current key one step and picks the
// new current key.
func (m *multiCursor) step(backwards bool) []byte {
	cur := m.cur
	for i, k := range m.keys {
		if k == nil || !bytes.Equal(k, cur) {
			continue
		}
		if backwards {
			m.keys[i], _ = m.subs[i].Prev()
		} else {
			m.keys[i], _ = m.subs[i].Next()
		}
	}
	return m.pick(backwards)
}
