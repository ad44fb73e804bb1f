package kvcopy_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/kvcopy"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// openPostgres opens a new empty database of the test server, closed at
// cleanup.
func openPostgres(t testing.TB) kv.DB {
	t.Helper()
	db, err := pgkv.Open(t.Context(), pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestCopyAcrossBackends copies nested buckets, empty ones and binary keys
// from bbolt to PostgreSQL, back, and between two PostgreSQL databases, in
// small transactions: each copy sums like its source, and the round trip
// gives back the bbolt file's keys exactly.
func TestCopyAcrossBackends(t *testing.T) {
	entries := append(append(many(25, 40, "articles"), many(7, 3, "index", "world")...),
		entry{path: []string{"index"}, key: "empty"},
		entry{path: []string{"index", "world", "deeper"}, key: "\x00\xff binary", value: []byte{}},
		entry{path: []string{"meta"}, key: "schema", value: []byte("2")},
		entry{key: "lonely"},
	)
	want := kvcopy.Stats{Buckets: 7, Keys: 34, Bytes: 25*47 + 7*10 + 9 + 6 + 1}
	dir := t.TempDir()
	bolt := openBolt(t, dir, "src.db")
	fill(t, bolt, entries)
	pg, pg2, back := openPostgres(t), openPostgres(t), openBolt(t, dir, "back.db")
	for _, step := range []struct {
		name     string
		dst, src kv.DB
	}{
		{"bbolt to PostgreSQL", pg, bolt},
		{"PostgreSQL to PostgreSQL", pg2, pg},
		{"PostgreSQL to bbolt", back, pg2},
	} {
		t.Run(step.name, func(t *testing.T) {
			got, err := kvcopy.Copy(t.Context(), step.dst, step.src, kvcopy.Options{BatchKeys: 10})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if d := diffDBs(t, step.src, step.dst); len(d) > 0 {
				t.Errorf("copy differs from its source: %q", d)
			}
		})
	}
	if d := diffDBs(t, bolt, back); len(d) > 0 {
		t.Errorf("the round trip differs from the bbolt file: %q", d)
	}
	if _, err := kvcopy.Copy(t.Context(), pg, bolt, kvcopy.Options{}); !errors.Is(err, kvcopy.ErrNotEmpty) {
		t.Errorf("a second copy into the same PostgreSQL database: %v, want ErrNotEmpty", err)
	}
}

// BenchmarkCopyPostgres is BenchmarkCopy to and from PostgreSQL: the same
// 50,000 keys of 500 bytes copied from a bbolt file into a new database of
// the test server, and from a filled database into a new bbolt file, in
// the default batches, then compared as copy-db does.
func BenchmarkCopyPostgres(b *testing.B) {
	dir := b.TempDir()
	bolt := openBolt(b, dir, "src.db")
	for i := range 10 {
		fill(b, bolt, many(5000, 500, "articles", fmt.Sprintf("part%d", i)))
	}
	filled := openPostgres(b)
	if _, err := kvcopy.Copy(b.Context(), filled, bolt, kvcopy.Options{}); err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, c := range []struct {
		name string
		src  kv.DB
		dst  func() kv.DB
	}{
		{"bbolt-to-postgres", bolt, func() kv.DB { return openPostgres(b) }},
		{"postgres-to-bbolt", filled, func() kv.DB { n++; return openBolt(b, dir, fmt.Sprintf("dst%d.db", n)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				copyAndCompare(b, c.dst(), c.src)
			}
			b.ReportMetric(float64(50_000*b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// copyAndCompare copies src into dst and fails b unless both sum alike.
func copyAndCompare(b *testing.B, dst, src kv.DB) {
	b.Helper()
	stats, err := kvcopy.Copy(b.Context(), dst, src, kvcopy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sa, err := kvcopy.Sum(b.Context(), src)
	if err != nil {
		b.Fatal(err)
	}
	sb, err := kvcopy.Sum(b.Context(), dst)
	if err != nil {
		b.Fatal(err)
	}
	if d := kvcopy.Diff(sa, sb); len(d) > 0 || stats.Keys != 50_000 {
		b.Fatalf("copy of %d keys differs: %q", stats.Keys, d)
	}
}
