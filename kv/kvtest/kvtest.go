// Package kvtest is the conformance suite of package kv's backends: Run
// checks a backend against the whole contract of kv.DB, the same tests
// for every backend, so that storage behaves alike on each.
package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
)

// Open opens a new empty database for one test, closed by the test's
// cleanup; reopen closes db and opens it again, on the same data.
type Open func(t *testing.T) (db kv.DB, reopen func() kv.DB)

// Run runs the suite on the databases open opens.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"Cursor", testCursor},
		{"CursorDelete", testCursorDelete},
		{"NestedBuckets", testNestedBuckets},
		{"BucketErrors", testBucketErrors},
		{"DeleteBucket", testDeleteBucket},
		{"OwnWrites", testOwnWrites},
		{"Rollback", testRollback},
		{"Panic", testPanic},
		{"Snapshot", testSnapshot},
		{"ID", testID},
		{"Reopen", testReopen},
		{"LargeValues", testLargeValues},
		{"ManyKeys", testManyKeys},
		{"BinaryKeys", testBinaryKeys},
		{"ReadOnly", testReadOnly},
		{"Model", testModel},
		{"Prefetch", testPrefetch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// pair is a key and its value; a nil value is a nested bucket.
type pair struct{ K, V []byte }

func update(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.View(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// bucket returns the top-level bucket name, created if needed.
func bucket(tx kv.Tx, name string) kv.Bucket {
	b, err := tx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		panic(err)
	}
	return b
}

// putAll puts key=value pairs in the bucket b of a new write transaction.
func putAll(t *testing.T, db kv.DB, name string, kvs ...string) {
	t.Helper()
	update(t, db, func(tx kv.Tx) error {
		b := bucket(tx, name)
		for i := 0; i < len(kvs); i += 2 {
			if err := b.Put([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
}

// forward lists c's keys from First.
func forward(c kv.Cursor) []pair {
	var out []pair
	for k, v := c.First(); k != nil; k, v = c.Next() {
		out = append(out, pair{bytes.Clone(k), bytes.Clone(v)})
	}
	return out
}

// backward lists c's keys from Last, in reverse order.
func backward(c kv.Cursor) []pair {
	var out []pair
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		out = append(out, pair{bytes.Clone(k), bytes.Clone(v)})
	}
	return out
}

func pairs(kvs ...string) []pair {
	var out []pair
	for i := 0; i < len(kvs); i += 2 {
		out = append(out, pair{[]byte(kvs[i]), []byte(kvs[i+1])})
	}
	return out
}

func testGetPutDelete(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "a", "1", "b", "2", "e", "")
	// A nil value is stored as an empty one, never taken for a bucket.
	update(t, db, func(tx kv.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("n"), nil) })
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if err := b.Put([]byte("b"), []byte("two")); err != nil {
			return err
		}
		if err := b.Delete([]byte("a")); err != nil {
			return err
		}
		return b.Delete([]byte("never"))
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		for _, tc := range []struct {
			key  string
			want []byte
		}{{"a", nil}, {"b", []byte("two")}, {"e", []byte{}}, {"n", []byte{}}, {"zz", nil}} {
			got := b.Get([]byte(tc.key))
			if !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("Get(%q) = %q (nil %v), want %q", tc.key, got, got == nil, tc.want)
			}
		}
		if diff := cmp.Diff(pairs("b", "two", "e", "", "n", ""), forward(b.Cursor())); diff != "" {
			t.Errorf("cursor (-want +got):\n%s", diff)
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				t.Errorf("the cursor shows the empty value of %q as nil, a bucket's", k)
			}
		}
		if tx.Bucket([]byte("none")) != nil {
			t.Error(`Bucket("none") is not nil`)
		}
		return nil
	})
}

func testCursor(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "b", "2", "d", "4", "f", "6")
	putAll(t, db, "empty")
	view(t, db, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("b")).Cursor()
		steps := []struct {
			name string
			move func() ([]byte, []byte)
			want string // "" for nil
		}{
			{"First", c.First, "b"},
			{"Prev before first", c.Prev, ""},
			{"Last", c.Last, "f"},
			{"Next past last", c.Next, ""},
			{"Next again", c.Next, ""},
			{"Seek exact", func() ([]byte, []byte) { return c.Seek([]byte("d")) }, "d"},
			{"Next", c.Next, "f"},
			{"Prev", c.Prev, "d"},
			{"Prev", c.Prev, "b"},
			{"Seek between", func() ([]byte, []byte) { return c.Seek([]byte("c")) }, "d"},
			{"Seek before all", func() ([]byte, []byte) { return c.Seek([]byte("a")) }, "b"},
			{"Seek past the end", func() ([]byte, []byte) { return c.Seek([]byte("g")) }, ""},
			{"Prev after seek past the end", c.Prev, "f"},
		}
		for _, s := range steps {
			k, v := s.move()
			if string(k) != s.want || (k == nil) != (s.want == "") {
				t.Errorf("%s: key %q, want %q", s.name, k, s.want)
			}
			if k != nil && string(v) != string(k[0]-'a'+'1') {
				t.Errorf("%s: value %q of key %q", s.name, v, k)
			}
		}
		if got := backward(c); !cmp.Equal(got, pairs("f", "6", "d", "4", "b", "2")) {
			t.Errorf("backward = %q", got)
		}
		e := tx.Bucket([]byte("empty")).Cursor()
		for name, move := range map[string]func() ([]byte, []byte){"First": e.First, "Last": e.Last, "Seek": func() ([]byte, []byte) { return e.Seek([]byte("a")) }} {
			if k, v := move(); k != nil || v != nil {
				t.Errorf("empty bucket: %s = %q, %q", name, k, v)
			}
		}
		return nil
	})
}

func testCursorDelete(t *testing.T, open Open) {
	db, _ := open(t)
	var kvs []string
	for i := range 600 {
		kvs = append(kvs, fmt.Sprintf("k%04d", i), fmt.Sprint(i))
	}
	putAll(t, db, "b", kvs...)
	update(t, db, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("b")).Cursor()
		n := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if n%3 != 0 {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			n++
		}
		if n != 600 {
			t.Errorf("the loop saw %d keys, want 600", n)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		got := forward(tx.Bucket([]byte("b")).Cursor())
		var want []pair
		for i := 0; i < 600; i += 3 {
			want = append(want, pair{[]byte(fmt.Sprintf("k%04d", i)), []byte(fmt.Sprint(i))})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after deleting two keys in three (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testNestedBuckets(t *testing.T, open Open) {
	db, _ := open(t)
	update(t, db, func(tx kv.Tx) error {
		b := bucket(tx, "top")
		if err := b.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		n, err := b.CreateBucket([]byte("m"))
		if err != nil {
			return err
		}
		if err := n.Put([]byte("inner"), []byte("x")); err != nil {
			return err
		}
		_, err = n.CreateBucket([]byte("deep"))
		if err != nil {
			return err
		}
		_ = bucket(tx, "other")
		return b.Put([]byte("z"), []byte("26"))
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("top"))
		want := []pair{{[]byte("a"), []byte("1")}, {[]byte("m"), nil}, {[]byte("z"), []byte("26")}}
		if diff := cmp.Diff(want, forward(b.Cursor())); diff != "" {
			t.Errorf("cursor (-want +got):\n%s", diff)
		}
		var got []pair
		if err := b.ForEach(func(k, v []byte) error {
			got = append(got, pair{bytes.Clone(k), bytes.Clone(v)})
			return nil
		}); err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ForEach (-want +got):\n%s", diff)
		}
		if v := b.Get([]byte("m")); v != nil {
			t.Errorf("Get of a nested bucket's name = %q, want nil", v)
		}
		n := b.Bucket([]byte("m"))
		if n == nil || string(n.Get([]byte("inner"))) != "x" || n.Bucket([]byte("deep")) == nil {
			t.Error("nested bucket m lost its key or bucket")
		}
		if b.Bucket([]byte("a")) != nil {
			t.Error("Bucket of a key holding a value is not nil")
		}
		if diff := cmp.Diff([]pair{{[]byte("other"), nil}, {[]byte("top"), nil}}, forward(tx.Cursor())); diff != "" {
			t.Errorf("top-level cursor (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testBucketErrors(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "v", "1")
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if _, err := b.CreateBucket([]byte("n")); err != nil {
			return err
		}
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"CreateBucket of an existing top-level bucket", second(tx.CreateBucket([]byte("b"))), kv.ErrBucketExists},
			{"CreateBucket of an existing nested bucket", second(b.CreateBucket([]byte("n"))), kv.ErrBucketExists},
			{"CreateBucketIfNotExists of an existing bucket", second(b.CreateBucketIfNotExists([]byte("n"))), nil},
			{"CreateBucket over a value", second(b.CreateBucket([]byte("v"))), kv.ErrIncompatibleValue},
			{"DeleteBucket of no bucket", tx.DeleteBucket([]byte("none")), kv.ErrBucketNotFound},
			{"nested DeleteBucket of no bucket", b.DeleteBucket([]byte("none")), kv.ErrBucketNotFound},
			{"DeleteBucket of a value", b.DeleteBucket([]byte("v")), kv.ErrIncompatibleValue},
			{"Put over a bucket", b.Put([]byte("n"), []byte("x")), kv.ErrIncompatibleValue},
			{"Put of a 64 KiB key", b.Put(make([]byte, 64<<10), []byte("x")), kv.ErrKeyTooLarge},
		} {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
			}
		}
		return nil
	})
}

func second(_ kv.Bucket, err error) error { return err }

func testDeleteBucket(t *testing.T, open Open) {
	db, _ := open(t)
	update(t, db, func(tx kv.Tx) error {
		b := bucket(tx, "b")
		n, _ := b.CreateBucket([]byte("n"))
		_ = n.Put([]byte("k"), []byte("v"))
		d, _ := n.CreateBucket([]byte("deep"))
		_ = d.Put([]byte("k"), []byte("deep"))
		// A sibling whose name the deleted one prefixes keeps its keys.
		s, _ := b.CreateBucket([]byte("n2"))
		return s.Put([]byte("k"), []byte("sibling"))
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if err := b.DeleteBucket([]byte("n")); err != nil {
			return err
		}
		if b.Bucket([]byte("n")) != nil {
			t.Error("the deleted bucket shows in its transaction")
		}
		// Created again at once, it is empty.
		n, err := b.CreateBucket([]byte("n"))
		if err != nil {
			return err
		}
		if k, _ := n.Cursor().First(); k != nil || n.Bucket([]byte("deep")) != nil {
			t.Errorf("the bucket created again holds %q", k)
		}
		return n.Put([]byte("new"), []byte("1"))
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if diff := cmp.Diff(pairs("new", "1"), forward(b.Bucket([]byte("n")).Cursor())); diff != "" {
			t.Errorf("bucket n (-want +got):\n%s", diff)
		}
		if got := string(b.Bucket([]byte("n2")).Get([]byte("k"))); got != "sibling" {
			t.Errorf("sibling n2 holds %q", got)
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error { return tx.DeleteBucket([]byte("b")) })
	view(t, db, func(tx kv.Tx) error {
		if k, _ := tx.Cursor().First(); k != nil {
			t.Errorf("top-level bucket %q left after deleting b", k)
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := bucket(tx, "b")
		if k, _ := b.Cursor().First(); k != nil {
			t.Errorf("b created again holds %q", k)
		}
		return nil
	})
}

func testOwnWrites(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "a", "1", "c", "3", "e", "5")
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		_ = b.Put([]byte("b"), []byte("2"))
		_ = b.Put([]byte("c"), []byte("three"))
		_ = b.Delete([]byte("e"))
		_ = b.Put([]byte("f"), []byte("6"))
		if got := string(b.Get([]byte("c"))); got != "three" {
			t.Errorf("Get(c) = %q after Put", got)
		}
		if got := b.Get([]byte("e")); got != nil {
			t.Errorf("Get(e) = %q after Delete", got)
		}
		want := pairs("a", "1", "b", "2", "c", "three", "f", "6")
		if diff := cmp.Diff(want, forward(b.Cursor())); diff != "" {
			t.Errorf("cursor (-want +got):\n%s", diff)
		}
		slices.Reverse(want)
		if diff := cmp.Diff(want, backward(b.Cursor())); diff != "" {
			t.Errorf("backward cursor (-want +got):\n%s", diff)
		}
		if k, _ := b.Cursor().Seek([]byte("d")); string(k) != "f" {
			t.Errorf("Seek(d) = %q, want f", k)
		}
		return nil
	})
}

func testRollback(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "a", "1")
	errFail := errors.New("fail")
	err := db.Update(t.Context(), func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		_ = b.Put([]byte("a"), []byte("changed"))
		_ = b.Put([]byte("new"), []byte("x"))
		_, _ = b.CreateBucket([]byte("n"))
		_ = bucket(tx, "b2")
		return errFail
	})
	if !errors.Is(err, errFail) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	view(t, db, func(tx kv.Tx) error {
		if diff := cmp.Diff(pairs("a", "1"), forward(tx.Bucket([]byte("b")).Cursor())); diff != "" {
			t.Errorf("after rollback (-want +got):\n%s", diff)
		}
		if tx.Bucket([]byte("b2")) != nil {
			t.Error("a bucket created by a rolled back transaction exists")
		}
		return nil
	})
}

// testPanic panics in a write transaction: the panic reaches the caller,
// the writes are discarded and the next write transaction runs.
func testPanic(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "a", "1")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = db.Update(t.Context(), func(tx kv.Tx) error {
			_ = tx.Bucket([]byte("b")).Put([]byte("a"), []byte("changed"))
			panic("boom")
		})
	}()
	putAll(t, db, "b", "c", "3")
	view(t, db, func(tx kv.Tx) error {
		if diff := cmp.Diff(pairs("a", "1", "c", "3"), forward(tx.Bucket([]byte("b")).Cursor())); diff != "" {
			t.Errorf("after a panic (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testSnapshot(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "a", "1", "b", "2")
	var id uint64
	view(t, db, func(tx kv.Tx) error { id = tx.ID(); return nil })
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		before := string(b.Get([]byte("a")))
		var wg sync.WaitGroup
		wg.Go(func() {
			putAll(t, db, "b", "a", "changed", "c", "3")
		})
		wg.Wait()
		if got := string(b.Get([]byte("a"))); got != before {
			t.Errorf("Get(a) = %q in a view after a concurrent commit, was %q", got, before)
		}
		if diff := cmp.Diff(pairs("a", "1", "b", "2"), forward(b.Cursor())); diff != "" {
			t.Errorf("view after a concurrent commit (-want +got):\n%s", diff)
		}
		if tx.ID() != id {
			t.Errorf("ID %d in a view after a concurrent commit, want its snapshot's %d", tx.ID(), id)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := string(tx.Bucket([]byte("b")).Get([]byte("a"))); got != "changed" {
			t.Errorf("a later view sees a = %q", got)
		}
		return nil
	})
}

func testID(t *testing.T, open Open) {
	db, _ := open(t)
	id := func() uint64 {
		var id uint64
		view(t, db, func(tx kv.Tx) error { id = tx.ID(); return nil })
		return id
	}
	start := id()
	var wid uint64
	update(t, db, func(tx kv.Tx) error { wid = tx.ID(); return nil })
	if wid != start+1 {
		t.Errorf("write transaction ID %d, want %d", wid, start+1)
	}
	if got := id(); got != start+1 {
		t.Errorf("ID after one commit %d, want %d", got, start+1)
	}
	_ = db.Update(t.Context(), func(tx kv.Tx) error { return errors.New("rollback") })
	if got := id(); got != start+1 {
		t.Errorf("ID after a rollback %d, want %d", got, start+1)
	}
	putAll(t, db, "b", "k", "v")
	if got := id(); got != start+2 {
		t.Errorf("ID after two commits %d, want %d", got, start+2)
	}
}

func testReopen(t *testing.T, open Open) {
	db, reopen := open(t)
	putAll(t, db, "b", "k", "v")
	update(t, db, func(tx kv.Tx) error {
		n, err := tx.Bucket([]byte("b")).CreateBucket([]byte("n"))
		if err != nil {
			return err
		}
		return n.Put([]byte("deep"), []byte("d"))
	})
	var id uint64
	view(t, db, func(tx kv.Tx) error { id = tx.ID(); return nil })
	db = reopen()
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if b == nil || string(b.Get([]byte("k"))) != "v" || string(b.Bucket([]byte("n")).Get([]byte("deep"))) != "d" {
			t.Error("keys lost across close and reopen")
		}
		if tx.ID() != id {
			t.Errorf("ID %d after reopen, was %d", tx.ID(), id)
		}
		return nil
	})
}

func testLargeValues(t *testing.T, open Open) {
	db, _ := open(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	update(t, db, func(tx kv.Tx) error { return bucket(tx, "b").Put([]byte("big"), big) })
	view(t, db, func(tx kv.Tx) error {
		if !bytes.Equal(tx.Bucket([]byte("b")).Get([]byte("big")), big) {
			t.Error("a 4 MiB value came back changed")
		}
		return nil
	})
}

// testManyKeys writes more keys in one transaction than a backend is
// likely to send or read at once, and reads them back both ways.
func testManyKeys(t *testing.T, open Open) {
	db, _ := open(t)
	const n = 12000
	key := func(i int) []byte { return fmt.Appendf(nil, "k%06d", i) }
	update(t, db, func(tx kv.Tx) error {
		b := bucket(tx, "b")
		for i := range n {
			if err := b.Put(key(i), key(i)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("b")).Cursor()
		i := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, key(i)) || !bytes.Equal(v, key(i)) {
				t.Fatalf("key %d is %q=%q", i, k, v)
			}
			i++
		}
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			i--
			if !bytes.Equal(k, key(i)) {
				t.Fatalf("backward: key %d is %q", i, k)
			}
		}
		if i != 0 {
			t.Errorf("backward walk ended %d keys short", i)
		}
		return nil
	})
}

func testBinaryKeys(t *testing.T, open Open) {
	db, _ := open(t)
	keys := [][]byte{{0x00}, {0x00, 0x00}, {0x00, 0xff}, {0x01}, {0x7f}, {0x80}, {0xff}, {0xff, 0x00}, {0xff, 0xff}}
	update(t, db, func(tx kv.Tx) error {
		b, _ := tx.CreateBucket([]byte{0xff, 0x00})
		for _, k := range slices.Backward(keys) {
			if err := b.Put(k, k); err != nil {
				return err
			}
		}
		// Bucket names with 0x00 and 0xff nest without mixing.
		for _, name := range [][]byte{{0x00}, {0x00, 0x01}, {0xff}} {
			n, err := b.CreateBucket(append([]byte{'n'}, name...))
			if err != nil {
				return err
			}
			if err := n.Put([]byte("k"), name); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte{0xff, 0x00})
		var want []pair
		for _, k := range keys {
			want = append(want, pair{k, k})
		}
		for _, name := range [][]byte{{0x00}, {0x00, 0x01}, {0xff}} {
			want = append(want, pair{append([]byte{'n'}, name...), nil})
		}
		slices.SortFunc(want, func(a, b pair) int { return bytes.Compare(a.K, b.K) })
		if diff := cmp.Diff(want, forward(b.Cursor())); diff != "" {
			t.Errorf("keys in byte order (-want +got):\n%s", diff)
		}
		for _, name := range [][]byte{{0x00}, {0x00, 0x01}, {0xff}} {
			if got := b.Bucket(append([]byte{'n'}, name...)).Get([]byte("k")); !bytes.Equal(got, name) {
				t.Errorf("bucket n%q holds %q", name, got)
			}
		}
		return nil
	})
}

func testReadOnly(t *testing.T, open Open) {
	db, _ := open(t)
	putAll(t, db, "b", "k", "v")
	view(t, db, func(tx kv.Tx) error {
		if tx.Writable() {
			t.Error("a view is writable")
		}
		b := tx.Bucket([]byte("b"))
		for name, err := range map[string]error{
			"Put":          b.Put([]byte("k"), []byte("x")),
			"Delete":       b.Delete([]byte("k")),
			"CreateBucket": second(tx.CreateBucket([]byte("c"))),
			"DeleteBucket": tx.DeleteBucket([]byte("b")),
		} {
			if !errors.Is(err, kv.ErrTxNotWritable) {
				t.Errorf("%s in a view: %v, want ErrTxNotWritable", name, err)
			}
		}
		return nil
	})
}

// testModel runs random writes, committed or rolled back, against a
// sorted map, and checks Get, both directions of the cursor and Seek
// against it, inside the write transactions and after.
func testModel(t *testing.T, open Open) {
	db, _ := open(t)
	rnd := rand.New(rand.NewPCG(14, 14))
	model := map[string]string{}
	key := func() []byte {
		k := make([]byte, 1+rnd.IntN(4))
		for i := range k {
			k[i] = []byte{0x00, 0x01, 'a', 'b', 0xfe, 0xff}[rnd.IntN(6)]
		}
		return k
	}
	check := func(ctx string, b kv.Bucket, m map[string]string) {
		t.Helper()
		var want []pair
		for k, v := range m {
			want = append(want, pair{[]byte(k), []byte(v)})
		}
		slices.SortFunc(want, func(a, b pair) int { return bytes.Compare(a.K, b.K) })
		if diff := cmp.Diff(want, forward(b.Cursor()), cmp.Comparer(bytes.Equal)); diff != "" {
			t.Fatalf("%s: forward (-want +got):\n%s", ctx, diff)
		}
		slices.Reverse(want)
		if diff := cmp.Diff(want, backward(b.Cursor()), cmp.Comparer(bytes.Equal)); diff != "" {
			t.Fatalf("%s: backward (-want +got):\n%s", ctx, diff)
		}
		slices.Reverse(want)
		walk(t, ctx, rnd, b.Cursor(), want, key)
		for range 20 {
			k := key()
			i, _ := slices.BinarySearchFunc(want, k, func(p pair, k []byte) int { return bytes.Compare(p.K, k) })
			got, _ := b.Cursor().Seek(k)
			if i == len(want) && got != nil || i < len(want) && !bytes.Equal(got, want[i].K) {
				t.Fatalf("%s: Seek(%q) = %q", ctx, k, got)
			}
			if v, ok := m[string(k)]; string(b.Get(k)) != v || ok != (b.Get(k) != nil) {
				t.Fatalf("%s: Get(%q) = %q, want %q", ctx, k, b.Get(k), v)
			}
		}
	}
	for round := range 30 {
		commit := rnd.IntN(4) != 0
		next := maps.Clone(model)
		err := db.Update(t.Context(), func(tx kv.Tx) error {
			b := bucket(tx, "m")
			for range rnd.IntN(300) {
				k := key()
				if rnd.IntN(3) == 0 {
					delete(next, string(k))
					if err := b.Delete(k); err != nil {
						return err
					}
					continue
				}
				v := fmt.Sprint(rnd.Uint32())
				next[string(k)] = v
				if err := b.Put(k, []byte(v)); err != nil {
					return err
				}
			}
			// Deleting during a walk: every third key the cursor is on.
			if rnd.IntN(3) == 0 {
				c := b.Cursor()
				i := 0
				for k, _ := c.First(); k != nil; k, _ = c.Next() {
					if i%3 == 0 {
						delete(next, string(k))
						if err := c.Delete(); err != nil {
							return err
						}
					}
					i++
				}
			}
			check(fmt.Sprintf("round %d, in the write", round), b, next)
			if !commit {
				return errRollback
			}
			return nil
		})
		if commit && err != nil || !commit && !errors.Is(err, errRollback) {
			t.Fatalf("round %d: %v", round, err)
		}
		if commit {
			model = next
		}
		view(t, db, func(tx kv.Tx) error {
			check(fmt.Sprintf("round %d, after", round), tx.Bucket([]byte("m")), model)
			return nil
		})
	}
}

var errRollback = errors.New("rollback")

// walk moves one cursor over want's keys in runs of Next and Prev of
// random lengths, changing direction and seeking between runs, and checks
// every key it lands on. Where a run falls off an end, it starts again
// from that end (what a cursor does past an end differs by backend).
func walk(t *testing.T, ctx string, rnd *rand.Rand, c kv.Cursor, want []pair, key func() []byte) {
	t.Helper()
	expect := func(move string, got []byte, i int) bool {
		t.Helper()
		if i < 0 || i >= len(want) {
			if got != nil {
				t.Fatalf("%s: walk: %s landed on %q past the end", ctx, move, got)
			}
			return false
		}
		if !bytes.Equal(got, want[i].K) {
			t.Fatalf("%s: walk: %s landed on %q, want %q", ctx, move, got, want[i].K)
		}
		return true
	}
	k, _ := c.First()
	i := 0
	expect("First", k, i)
	for range 12 {
		switch rnd.IntN(3) {
		case 0:
			for range rnd.IntN(2 * len(want)) {
				k, _ = c.Next()
				if i++; !expect("Next", k, i) {
					k, _ = c.Last()
					i = len(want) - 1
					expect("Last", k, i)
					break
				}
			}
		case 1:
			for range rnd.IntN(2 * len(want)) {
				k, _ = c.Prev()
				if i--; !expect("Prev", k, i) {
					k, _ = c.First()
					i = 0
					expect("First", k, i)
					break
				}
			}
		default:
			s := key()
			i, _ = slices.BinarySearchFunc(want, s, func(p pair, k []byte) int { return bytes.Compare(p.K, k) })
			k, _ = c.Seek(s)
			if !expect("Seek", k, i) {
				k, _ = c.Last()
				i = len(want) - 1
				expect("Last", k, i)
			}
		}
	}
}

// testPrefetch checks that what kv.PrefetchKeys and kv.PrefetchSeeks read
// answers Get and cursor moves as the database would, with the
// transaction's writes before and after the prefetch over it, in write
// transactions and views alike; on a backend that is no kv.Prefetcher
// they do nothing and the test checks the plain reads.
func testPrefetch(t *testing.T, open Open) {
	db, _ := open(t)
	rnd := rand.New(rand.NewPCG(7, 11))
	key := func() []byte {
		return []byte{byte('a' + rnd.IntN(4)), byte('a' + rnd.IntN(4)), byte('a' + rnd.IntN(4))}
	}
	model := map[string][]byte{} // nil value: a nested bucket
	update(t, db, func(tx kv.Tx) error {
		b := bucket(tx, "p")
		for range 40 {
			k := key()
			if _, ok := model[string(k)]; ok {
				continue
			}
			if rnd.IntN(8) == 0 {
				model[string(k)] = nil
				return second(b.CreateBucket(k))
			}
			v := fmt.Appendf(nil, "v%d", rnd.IntN(100))
			model[string(k)] = v
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	// write changes model and b alike: puts and deletes of values.
	write := func(b kv.Bucket) {
		for range 10 {
			k := key()
			if v, ok := model[string(k)]; ok && v == nil {
				continue
			}
			if rnd.IntN(3) == 0 {
				delete(model, string(k))
				if err := b.Delete(k); err != nil {
					t.Fatal(err)
				}
				continue
			}
			v := fmt.Appendf(nil, "w%d", rnd.IntN(100))
			model[string(k)] = v
			if err := b.Put(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(b kv.Bucket, writable bool) {
		if writable {
			write(b)
		}
		var keys [][]byte
		var seeks []kv.Range
		for range 20 {
			keys = append(keys, key())
			r := kv.Range{From: key()}
			if rnd.IntN(4) > 0 {
				r.To = key()
			}
			seeks = append(seeks, r)
		}
		n := 1 + rnd.IntN(4)
		// Keys first, or seeks first: a backend may read queued keys with
		// the seeks, or at the next Get.
		if rnd.IntN(2) == 0 {
			kv.PrefetchKeys(b, keys)
			kv.PrefetchSeeks(b, seeks, n)
		} else {
			kv.PrefetchSeeks(b, seeks, n)
			kv.PrefetchKeys(b, keys)
		}
		if writable {
			write(b)
		}
		sorted := slices.Sorted(maps.Keys(model))
		for _, k := range keys {
			if got, want := b.Get(k), model[string(k)]; !bytes.Equal(got, want) {
				t.Errorf("Get(%s) = %q after a prefetch, want %q", k, got, want)
			}
		}
		for _, r := range seeks {
			var want []pair
			i, _ := slices.BinarySearch(sorted, string(r.From))
			for ; i < len(sorted) && len(want) < n+2; i++ {
				want = append(want, pair{[]byte(sorted[i]), model[sorted[i]]})
			}
			var got []pair
			c := b.Cursor()
			for k, v := c.Seek(r.From); k != nil && len(got) < n+2; k, v = c.Next() {
				got = append(got, pair{bytes.Clone(k), bytes.Clone(v)})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Seek(%s) and Next after a prefetch of %d from it to %q (-want +got):\n%s", r.From, n, r.To, diff)
			}
		}
	}
	for range 8 {
		update(t, db, func(tx kv.Tx) error { check(tx.Bucket([]byte("p")), true); return nil })
		view(t, db, func(tx kv.Tx) error { check(tx.Bucket([]byte("p")), false); return nil })
	}
}
