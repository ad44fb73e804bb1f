package pgkv_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
)

// backends are the databases the benchmarks compare: bbolt opened as
// storage opens it (each commit syncs the file), bbolt without the sync,
// and PostgreSQL on the test server, which runs with fsync off: compare
// it with bolt-nosync for the work, with bolt for what a user waits for.
var backends = []struct {
	name string
	open func(b *testing.B) kv.DB
}{
	{"bolt", func(b *testing.B) kv.DB { return openBolt(b, false) }},
	{"bolt-nosync", func(b *testing.B) kv.DB { return openBolt(b, true) }},
	{"pg", func(b *testing.B) kv.DB { return openURL(b, pgtest.NewDatabase(b)) }},
}

// openBolt opens a new bbolt file with storage's options.
func openBolt(b *testing.B, noSync bool) kv.DB {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "kv.db"), 0o600,
		&bolt.Options{FreelistType: bolt.FreelistMapType, NoFreelistSync: true, NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return boltkv.New(db)
}

// randomKey is a 16-byte key from rnd, like the hashes of storage's
// indexes: writes land all over the key space.
func randomKey(rnd *rand.Rand) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, rnd.Uint64()), rnd.Uint64())
}

// fill puts n keys k%08d with 256-byte values in bucket "b", in one write.
func fill(b *testing.B, db kv.DB, n int) {
	b.Helper()
	v := make([]byte, 256)
	if err := db.Update(b.Context(), func(tx kv.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := bk.Put(fmt.Appendf(nil, "k%08d", i), v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	// The planner reads a large bucket by its index once the table has
	// statistics, which autovacuum gathers within a minute of a bulk load.
	if pg, ok := db.(*pgkv.DB); ok {
		if _, err := pg.Pool().Exec(b.Context(), "ANALYZE kv"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut writes transactions of 1,000 random keys with 256-byte
// values each into a growing bucket; ns/key is the cost of one key.
func BenchmarkPut(b *testing.B) {
	const perTx = 1000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			rnd := rand.New(rand.NewPCG(1, 2))
			v := make([]byte, 256)
			keys := 0
			for b.Loop() {
				if err := db.Update(b.Context(), func(tx kv.Tx) error {
					bk, err := tx.CreateBucketIfNotExists([]byte("b"))
					if err != nil {
						return err
					}
					for range perTx {
						if err := bk.Put(randomKey(rnd), v); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				keys += perTx
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
		})
	}
}

// BenchmarkGet reads 100 keys of a 10,000-key bucket in each read
// transaction; ns/get is the cost of one Get.
func BenchmarkGet(b *testing.B) {
	const n, perTx = 10000, 100
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			fill(b, db, n)
			rnd := rand.New(rand.NewPCG(1, 2))
			gets := 0
			for b.Loop() {
				if err := db.View(b.Context(), func(tx kv.Tx) error {
					bk := tx.Bucket([]byte("b"))
					for range perTx {
						if bk.Get(fmt.Appendf(nil, "k%08d", rnd.IntN(n))) == nil {
							b.Fatal("a stored key is missing")
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				gets += perTx
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(gets), "ns/get")
		})
	}
}

// BenchmarkCursorScan walks all keys of a 10,000-key bucket in one read
// transaction; ns/key is the cost of one step.
func BenchmarkCursorScan(b *testing.B) {
	const n = 10000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			fill(b, db, n)
			keys := 0
			for b.Loop() {
				if err := db.View(b.Context(), func(tx kv.Tx) error {
					c := tx.Bucket([]byte("b")).Cursor()
					for k, _ := c.First(); k != nil; k, _ = c.Next() {
						keys++
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			if keys%n != 0 {
				b.Fatalf("scans saw %d keys, not a multiple of %d", keys, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
		})
	}
}

// BenchmarkIngest writes articles as storage's first ingest does, 100 to a
// write transaction: per article, a Get of its identity in an index (a
// miss), its 2 KB record under a growing key, its index entry, and 15
// sketch keys spread over the key space; ns/article is the cost of one.
func BenchmarkIngest(b *testing.B) {
	const perTx, sketch = 100, 15
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			rnd := rand.New(rand.NewPCG(1, 2))
			record := make([]byte, 2048)
			seq := uint64(0)
			for b.Loop() {
				if err := db.Update(b.Context(), func(tx kv.Tx) error {
					return ingest(tx, rnd, record, &seq, perTx, sketch)
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seq), "ns/article")
		})
	}
}

// ingest stores n articles (see BenchmarkIngest).
func ingest(tx kv.Tx, rnd *rand.Rand, record []byte, seq *uint64, n, sketch int) error {
	var bks [3]kv.Bucket
	for i, name := range []string{"articles", "ids", "sketch"} {
		bk, err := tx.CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return err
		}
		bks[i] = bk
	}
	articles, ids, sk := bks[0], bks[1], bks[2]
	articles.AppendHint()
	for range n {
		id := randomKey(rnd)
		if ids.Get(id) != nil {
			continue
		}
		*seq++
		key := binary.BigEndian.AppendUint64(nil, *seq)
		if err := articles.Put(key, record); err != nil {
			return err
		}
		if err := ids.Put(id, key); err != nil {
			return err
		}
		for range sketch {
			if err := sk.Put(randomKey(rnd)[:12], key); err != nil {
				return err
			}
		}
	}
	return nil
}
