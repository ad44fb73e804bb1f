package kvcopy_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
	"github.com/tributary/tributary/kv/kvcopy"
	"github.com/tributary/tributary/storage"
)

// openBolt opens (creating) the bbolt file name in dir as a kv.DB, closed
// at cleanup.
func openBolt(t testing.TB, dir, name string) *boltkv.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, name), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	k := boltkv.New(db)
	t.Cleanup(func() { _ = k.Close() })
	return k
}

// entry is one key of a test database: a value at a bucket path, or, with
// a nil value, an (empty) bucket at path+key.
type entry struct {
	path  []string
	key   string
	value []byte
}

// fill writes entries into db in one transaction.
func fill(t testing.TB, db kv.DB, entries []entry) {
	t.Helper()
	err := db.Update(context.Background(), func(tx kv.Tx) error {
		for _, e := range entries {
			var b kv.Bucket
			var err error
			for i, name := range append(append([]string{}, e.path...), e.key)[:len(e.path)+boolInt(e.value == nil)] {
				if i == 0 {
					b, err = tx.CreateBucketIfNotExists([]byte(name))
				} else {
					b, err = b.CreateBucketIfNotExists([]byte(name))
				}
				if err != nil {
					return err
				}
			}
			if e.value != nil {
				if err := b.Put([]byte(e.key), e.value); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// many returns n keys of bucket path with values of size bytes.
func many(n, size int, path ...string) []entry {
	out := make([]entry, n)
	for i := range out {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(i + j)
		}
		out[i] = entry{path: path, key: fmt.Sprintf("k%06d", i), value: v}
	}
	return out
}

func TestCopy(t *testing.T) {
	nested := append(append(many(25, 10, "articles"), many(7, 3, "index", "world")...),
		entry{path: []string{"index"}, key: "empty"}, // an empty nested bucket
		entry{path: []string{"index", "world", "deeper"}, key: "\x00\xff binary", value: []byte{}},
		entry{path: []string{"meta"}, key: "schema", value: []byte("2")},
		entry{key: "lonely"}, // an empty top-level bucket
	)
	tests := []struct {
		name        string
		entries     []entry
		batch       int
		want        kvcopy.Stats
		wantBatches int
	}{
		{"empty database", nil, 0, kvcopy.Stats{}, 0},
		{"one bucket", many(3, 5, "a"), 0, kvcopy.Stats{Buckets: 1, Keys: 3, Bytes: 3 * (7 + 5)}, 1},
		{"nested, one transaction", nested, 0, kvcopy.Stats{Buckets: 7, Keys: 34, Bytes: 25*17 + 7*10 + 9 + 6 + 1}, 1},
		{"nested, batches of 10", nested, 10, kvcopy.Stats{Buckets: 7, Keys: 34, Bytes: 25*17 + 7*10 + 9 + 6 + 1}, 5},
		{"nested, batches of 1", nested, 1, kvcopy.Stats{Buckets: 7, Keys: 34, Bytes: 25*17 + 7*10 + 9 + 6 + 1}, 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := openBolt(t, dir, "src.db"), openBolt(t, dir, "dst.db")
			fill(t, src, tt.entries)
			var progress []kvcopy.Stats
			got, err := kvcopy.Copy(t.Context(), dst, src, kvcopy.Options{
				BatchKeys: tt.batch,
				Progress:  func(s kvcopy.Stats) { progress = append(progress, s) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if len(progress) != tt.wantBatches || (len(progress) > 0 && progress[len(progress)-1] != got) {
				t.Errorf("progress reports %v, want %d ending with the totals", progress, tt.wantBatches)
			}
			if d := diffDBs(t, src, dst); len(d) > 0 {
				t.Errorf("copy differs from its source: %q", d)
			}
			err = dst.Bolt().View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					return err
				}
				return nil
			})
			if err != nil {
				t.Errorf("bbolt check of the copy: %v", err)
			}
		})
	}
}

// diffDBs returns kvcopy.Diff of the sums of a and b.
func diffDBs(t *testing.T, a, b kv.DB) []string {
	t.Helper()
	sa, err := kvcopy.Sum(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := kvcopy.Sum(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	return kvcopy.Diff(sa, sb)
}

func TestCopyRefusesNonEmptyDestination(t *testing.T) {
	dir := t.TempDir()
	src, dst := openBolt(t, dir, "src.db"), openBolt(t, dir, "dst.db")
	fill(t, src, many(3, 1, "a"))
	fill(t, dst, []entry{{path: []string{"meta"}, key: "schema", value: []byte("2")}})
	before, err := kvcopy.Sum(t.Context(), dst)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kvcopy.Copy(t.Context(), dst, src, kvcopy.Options{})
	if !errors.Is(err, kvcopy.ErrNotEmpty) || err.Error() != `copy: destination database is not empty (it holds the bucket "meta")` {
		t.Fatalf("Copy into a non-empty database: %v, want ErrNotEmpty naming the bucket", err)
	}
	after, err := kvcopy.Sum(t.Context(), dst)
	if err != nil {
		t.Fatal(err)
	}
	if d := kvcopy.Diff(before, after); len(d) > 0 {
		t.Errorf("the refused destination changed: %q", d)
	}
}

func TestDiff(t *testing.T) {
	base := []entry{
		{path: []string{"a"}, key: "k1", value: []byte("v1")},
		{path: []string{"a"}, key: "k2", value: []byte("v2")},
		{path: []string{"a", "sub"}, key: "k", value: []byte("v")},
		{path: []string{"b"}, key: "k", value: []byte("v")},
	}
	tests := []struct {
		name  string
		other []entry
		want  []string
	}{
		{"same", base, nil},
		{"value changed", []entry{base[0], {path: []string{"a"}, key: "k2", value: []byte("v3")}, base[2], base[3]},
			[]string{"bucket a: same counts (2 keys), different keys or values"}},
		{"key moved into the value", []entry{base[0], {path: []string{"a"}, key: "k", value: []byte("2v2")}, base[2], base[3]},
			[]string{"bucket a: same counts (2 keys), different keys or values"}},
		{"key missing", []entry{base[0], base[2], base[3]},
			[]string{"bucket a: 2 keys and 1 buckets in the source, 1 and 1 in the destination"}},
		{"bucket missing, another extra", []entry{base[0], base[1], base[2], {path: []string{"c"}, key: "k", value: []byte("v")}},
			[]string{"bucket b: only in the source", "bucket c: only in the destination"}},
		{"nested bucket missing", []entry{base[0], base[1], base[3]},
			[]string{"bucket a: 2 keys and 1 buckets in the source, 2 and 0 in the destination", "bucket a/sub: only in the source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := openBolt(t, dir, "a.db"), openBolt(t, dir, "b.db")
			fill(t, a, base)
			fill(t, b, tt.other)
			if diff := cmp.Diff(tt.want, diffDBs(t, a, b)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCopyTributaryStore copies a real store, articles and their indexes,
// in small transactions: the copy opens as a store, passes its
// consistency check and serves the same categories.
func TestCopyTributaryStore(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store, err := storage.Open(filepath.Join(dir, "src.db"), storage.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	var arts []storage.Article
	for i := range 120 {
		at := clock.Add(-time.Duration(i) * time.Minute)
		cat := storage.Category{Slug: []string{"world", "science"}[i%2], Name: []string{"World", "Science"}[i%2]}
		arts = append(arts, storage.Article{
			ID: fmt.Sprintf("%032x", i+1), GUID: fmt.Sprintf("https://src.example/%d", i),
			Title: fmt.Sprintf("Story %d about things number %d", i, i*7919), Link: fmt.Sprintf("https://src.example/%d", i),
			Published: at, Updated: at, FirstSeen: at, Content: fmt.Sprintf("<p>Text %d</p>", i),
			Categories: []storage.Category{cat},
			Source:     storage.Source{FeedURL: "https://src.example/feed", ID: "https://src.example/feed", Title: "Source"},
		})
	}
	if _, err := store.SaveArticles(t.Context(), arts); err != nil {
		t.Fatal(err)
	}
	want, err := store.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	src, dst := openBolt(t, dir, "src.db"), openBolt(t, dir, "dst.db")
	if _, err := kvcopy.Copy(t.Context(), dst, src, kvcopy.Options{BatchKeys: 50}); err != nil {
		t.Fatal(err)
	}
	if d := diffDBs(t, src, dst); len(d) > 0 {
		t.Errorf("copy differs from its source: %q", d)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	copied, err := storage.Open(filepath.Join(dir, "dst.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	if err := copied.Check(t.Context()); err != nil {
		t.Errorf("check of the copy: %v", err)
	}
	got, err := copied.Categories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("categories of the copy (-source +copy):\n%s", diff)
	}
}

// FuzzCopy builds a database from the fuzzer's bytes (each record: a
// bucket path depth, names, a key and a value) and checks that its copy,
// in batches of the fuzzer's size, sums the same.
func FuzzCopy(f *testing.F) {
	f.Add([]byte("\x01a\x00k\x00v"), uint8(1))
	f.Add([]byte("\x02meta\x00sub\x00schema\x002\x00\x01articles\x00\xff\xfe\x00"), uint8(0))
	f.Add([]byte("\x03a\x00b\x00c\x00\x00\x00\x01a\x00k\x00value"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, batch uint8) {
		entries := decodeEntries(data)
		dir := t.TempDir()
		src, dst := openBolt(t, dir, "src.db"), openBolt(t, dir, "dst.db")
		fill(t, src, entries)
		if _, err := kvcopy.Copy(t.Context(), dst, src, kvcopy.Options{BatchKeys: int(batch)}); err != nil {
			t.Fatal(err)
		}
		if d := diffDBs(t, src, dst); len(d) > 0 {
			t.Fatalf("copy differs from its source: %q", d)
		}
	})
}

// decodeEntries reads records of a depth byte (1 to 3) followed by that
// many NUL-terminated bucket names, a key and a value; names and keys are
// never empty. A record that does not fit is dropped.
func decodeEntries(data []byte) []entry {
	var out []entry
	for len(data) > 0 {
		depth := int(data[0]%3) + 1
		data = data[1:]
		var fields []string
		for range depth + 2 {
			i := 0
			for i < len(data) && data[i] != 0 {
				i++
			}
			fields = append(fields, string(data[:i]))
			data = data[min(i+1, len(data)):]
		}
		e := entry{path: fields[:depth], key: fields[depth], value: []byte(fields[depth+1])}
		if !validEntry(e, out) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// validEntry reports whether e can be written after prev: no empty name,
// and no name used both as a key and as a bucket.
func validEntry(e entry, prev []entry) bool {
	if e.key == "" {
		return false
	}
	for _, n := range e.path {
		if n == "" {
			return false
		}
	}
	for _, p := range prev {
		if clash(p, e) || clash(e, p) {
			return false
		}
	}
	return true
}

// clash reports whether a's key sits where b has a bucket.
func clash(a, b entry) bool {
	if len(a.path) >= len(b.path) {
		return false
	}
	for i := range a.path {
		if a.path[i] != b.path[i] {
			return false
		}
	}
	return a.key == b.path[len(a.path)]
}

// BenchmarkCopy copies a bbolt file of 50,000 keys of 500 bytes in two
// buckets (articles-sized values, about 25 MB) into a new bbolt file in
// the default batches, and compares both as copy-db does.
func BenchmarkCopy(b *testing.B) {
	dir := b.TempDir()
	src := openBolt(b, dir, "src.db")
	for i := range 10 {
		fill(b, src, many(5000, 500, "articles", fmt.Sprintf("part%d", i)))
	}
	n := 0
	for b.Loop() {
		n++
		copyAndCompare(b, openBolt(b, dir, fmt.Sprintf("dst%d.db", n)), src)
	}
	b.ReportMetric(float64(50_000*n)/b.Elapsed().Seconds(), "keys/s")
}
