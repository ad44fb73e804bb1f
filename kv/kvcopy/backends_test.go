package kvcopy_test

import (
	"errors"
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
