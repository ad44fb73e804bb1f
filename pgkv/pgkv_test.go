package pgkv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/kvtest"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
)

// openEnv, set in the environment of the test binary, makes it open the
// database at its URL and exit, as an instance starting (see
// TestMigrateConcurrent).
const openEnv = "PGKV_TEST_OPEN"

func TestMain(m *testing.M) {
	if url := os.Getenv(openEnv); url != "" {
		if err := openOnce(context.Background(), url); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// openURL opens the database at url, closed by t's cleanup.
func openURL(t testing.TB, url string) *pgkv.DB {
	t.Helper()
	db, err := pgkv.Open(context.Background(), url, pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// open opens a new database of the test server.
func open(t *testing.T) (kv.DB, func() kv.DB) {
	url := pgtest.NewDatabase(t)
	db := openURL(t, url)
	return db, func() kv.DB {
		_ = db.Close()
		return openURL(t, url)
	}
}

func TestConformance(t *testing.T) { kvtest.Run(t, open) }

// openOnce opens the database at url, writes once and closes it.
func openOnce(ctx context.Context, url string) error {
	db, err := pgkv.Open(ctx, url, pgkv.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(ctx, func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("b"))
		return err
	})
}

// TestMigrateConcurrent opens one empty database from several pools, or
// processes, at once, as instances starting together: all open, and each
// migration is applied once.
func TestMigrateConcurrent(t *testing.T) {
	const n = 6
	tests := []struct {
		name string
		open func(t *testing.T, url string) error
	}{
		{"goroutines", func(t *testing.T, url string) error { return openOnce(t.Context(), url) }},
		{"processes", func(t *testing.T, url string) error {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), openEnv+"="+url)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := pgtest.NewDatabase(t)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					if err := tc.open(t, url); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			s, err := pgtest.Shared()
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Query(t.Context(), dbName(t, url), "SELECT version, name FROM schema_migrations ORDER BY version")
			if err != nil {
				t.Fatal(err)
			}
			if want := "1|kv\n2|leases\n3|lz4"; got != want {
				t.Errorf("schema_migrations holds %q, want %q, each once", got, want)
			}
			db := openURL(t, url)
			applied, err := db.Migrate(t.Context())
			if err != nil || len(applied) != 0 {
				t.Errorf("Migrate on a migrated database applied %v, %v", applied, err)
			}
		})
	}
}

// dbName is the database name of a pgtest URL.
func dbName(t *testing.T, u string) string {
	t.Helper()
	p, err := neturl.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(p.Path, "/")
}

// TestTwoInstancesSerialiseWrites runs read-modify-write increments of
// one counter from two DBs (two pools, as two instances) at once: the
// count ends exact, as no two write transactions overlap, and each write
// has the generation after the one before.
func TestTwoInstancesSerialiseWrites(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*pgkv.DB{openURL(t, url), openURL(t, url)}
	const workers, rounds = 4, 25
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids []uint64
	)
	for w := range workers {
		db := dbs[w%len(dbs)]
		wg.Go(func() {
			for range rounds {
				err := db.Update(t.Context(), func(tx kv.Tx) error {
					b, err := tx.CreateBucketIfNotExists([]byte("c"))
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(b.Get([]byte("n"))))
					mu.Lock()
					ids = append(ids, tx.ID())
					mu.Unlock()
					return b.Put([]byte("n"), []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Every write had its own generation, one after the other.
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("write generations %d then %d", ids[i-1], ids[i])
		}
	}
	if err := dbs[1].View(t.Context(), func(tx kv.Tx) error {
		if got := string(tx.Bucket([]byte("c")).Get([]byte("n"))); got != strconv.Itoa(workers*rounds) {
			t.Errorf("counter %s after %d increments", got, workers*rounds)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestChanges sees a commit of another DB on the same database through
// Changes, with that commit's generation.
func TestChanges(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	ch := a.Changes(ctx)
	var start uint64
	if err := a.View(ctx, func(tx kv.Tx) error { start = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	// The first generation is the current one, once the listener is in.
	if g := <-ch; g != start {
		t.Fatalf("first generation %d, want the current %d", g, start)
	}
	var committed uint64
	if err := b.Update(ctx, func(tx kv.Tx) error {
		committed = tx.ID()
		_, err := tx.CreateBucket([]byte("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if g := <-ch; g != committed {
		t.Errorf("Changes sent %d, want the other DB's commit %d", g, committed)
	}
	cancel()
	for range ch {
	}
}

// TestChangesReconnect ends the listener's connection from the server:
// Changes connects again and sends the generation committed meanwhile.
func TestChangesReconnect(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := openURL(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := db.Changes(ctx)
	<-ch // listening
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'tributary-listen' AND datname = current_database()`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminated %d listeners, %v", n, err)
	}
	var committed uint64
	if err := db.Update(ctx, func(tx kv.Tx) error {
		committed = tx.ID()
		_, err := tx.CreateBucket([]byte("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Under load the listener may reconnect before the commit, and send
	// the generation before it first.
	for g := range ch {
		if g == committed {
			return
		}
		if g > committed {
			t.Fatalf("after reconnecting Changes sent %d, past the commit %d", g, committed)
		}
	}
}

// TestCloseEndsChanges closes a DB with a listener: its channel closes.
func TestCloseEndsChanges(t *testing.T) {
	db, err := pgkv.Open(t.Context(), pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := db.Changes(t.Context())
	<-ch
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
}

// TestPutOverStoredBucket puts a value over the name of a nested bucket
// the transaction has not read: the commit fails and nothing changes.
func TestPutOverStoredBucket(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	if err := db.Update(ctx, func(tx kv.Tx) error {
		b, _ := tx.CreateBucket([]byte("b"))
		n, _ := b.CreateBucket([]byte("n"))
		return n.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	err := db.Update(ctx, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if err := b.Put([]byte("other"), []byte("1")); err != nil {
			return err
		}
		return b.Put([]byte("n"), []byte("x"))
	})
	if !errors.Is(err, kv.ErrIncompatibleValue) {
		t.Fatalf("Update = %v, want ErrIncompatibleValue", err)
	}
	if err := db.View(ctx, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if b.Get([]byte("other")) != nil || string(b.Bucket([]byte("n")).Get([]byte("k"))) != "v" {
			t.Error("the failed commit changed the database")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestQueryErrorIsReturned cancels a view's context: the Get that fails
// panics with a *kv.Error, which View returns.
func TestQueryErrorIsReturned(t *testing.T) {
	db, _ := open(t)
	if err := db.Update(t.Context(), func(tx kv.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	err := db.View(ctx, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		cancel()
		b.Get([]byte("k"))
		t.Error("Get returned after its query failed")
		return nil
	})
	var kerr *kv.Error
	if !errors.As(err, &kerr) || !errors.Is(err, context.Canceled) {
		t.Errorf("View = %v, want a *kv.Error of context.Canceled", err)
	}
}

// TestOpenErrorHidesPassword fails to open databases with a password in
// the URL, its query or the options: no error shows the password.
func TestOpenErrorHidesPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	tests := []struct {
		name, url, password string
	}{
		{"nothing listening", "postgres://tributary:s3cret-pw@" + addr + "/feeds?sslmode=disable&connect_timeout=5", ""},
		{"password in the query", "postgres://tributary@" + addr + "/feeds?sslmode=disable&password=s3cret-pw", ""},
		{"password in the options", "postgres://tributary@" + addr + "/feeds?sslmode=disable", "s3cret-pw"},
		{"a URL pgx cannot parse", "postgres://tributary:s3cret-pw@127.0.0.1:port/feeds", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pgkv.Open(t.Context(), tc.url, pgkv.Options{Password: tc.password})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), "tributary") {
				t.Errorf("the error does not name the user: %v", err)
			}
		})
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("tributary", "pw", "db.example:5432", "feeds", "sslmode=require")
	f.Add("u", "p@ss:w/rd", "[::1]:5432", "x", "password=inquery")
	f.Add("", "", "localhost", "", "")
	f.Fuzz(func(t *testing.T, user, pass, host, path, query string) {
		const mark = "SECRETMARK"
		if strings.Contains(user+host+path+query, mark) {
			return
		}
		u := neturl.URL{Scheme: "postgres", User: neturl.UserPassword(user, mark+pass), Host: host, Path: "/" + path, RawQuery: query}
		got := pgkv.Redact(u.String())
		if strings.Contains(got, mark) || strings.Contains(got, neturl.QueryEscape(mark)) {
			t.Errorf("Redact(%q) = %q shows the password", u.String(), got)
		}
		if v, err := neturl.ParseQuery(query); err == nil && v.Get("password") != "" && strings.Contains(got, "password="+neturl.QueryEscape(v.Get("password"))) && v.Get("password") != "xxxxx" {
			t.Errorf("Redact(%q) = %q shows the query's password", u.String(), got)
		}
	})
}

// FuzzKeys stores the keys a fuzzed input splits into (at 0x2c) as keys
// and as nested bucket names, and reads them back: byte order, Get, and
// each nested bucket holding its own name, whatever bytes they hold.
func FuzzKeys(f *testing.F) {
	f.Add([]byte("a,b,c"))
	f.Add([]byte{0x00, ',', 0x00, 0x00, ',', 0xff, ',', 0xff, 0x00, ',', 0x01, 0x00})
	f.Add([]byte{0xff, 0xff, ',', 0xff, ',', 0x80, ',', 0x7f})
	db := openURL(f, pgtest.NewDatabase(f))
	var round atomic.Int64
	f.Fuzz(func(t *testing.T, in []byte) {
		set := map[string]bool{}
		for k := range bytes.SplitSeq(in, []byte(",")) {
			if len(k) > 2000 {
				return // past the key limit, tested by TestKeyLimit
			}
			if len(k) > 0 {
				set[string(k)] = true
			}
		}
		keys := slices.Sorted(maps.Keys(set))
		top := []byte(strconv.FormatInt(round.Add(1), 10))
		err := db.Update(t.Context(), func(tx kv.Tx) error {
			b, err := tx.CreateBucket(top)
			if err != nil {
				return err
			}
			vals, err := b.CreateBucket([]byte("v"))
			if err != nil {
				return err
			}
			nest, err := b.CreateBucket([]byte("n"))
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := vals.Put([]byte(k), []byte(k)); err != nil {
					return err
				}
				n, err := nest.CreateBucket([]byte(k))
				if err != nil {
					return err
				}
				if err := n.Put([]byte("k"), []byte(k)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.View(t.Context(), func(tx kv.Tx) error {
			b := tx.Bucket(top)
			var got []string
			c := b.Bucket([]byte("v")).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if !bytes.Equal(k, v) {
					t.Errorf("key %q holds %q", k, v)
				}
				got = append(got, string(k))
			}
			if !slices.Equal(got, keys) {
				t.Errorf("keys in order %q, want %q", got, keys)
			}
			nest := b.Bucket([]byte("n"))
			for _, k := range keys {
				if v := b.Bucket([]byte("v")).Get([]byte(k)); string(v) != k {
					t.Errorf("Get(%q) = %q", k, v)
				}
				if v := nest.Bucket([]byte(k)).Get([]byte("k")); string(v) != k {
					t.Errorf("nested bucket %q holds %q", k, v)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestKeyLimit puts keys about PostgreSQL's index row limit: up to the
// limit they are stored, past it Put fails at once, not the commit.
func TestKeyLimit(t *testing.T) {
	db, _ := open(t)
	random := func(n int) []byte {
		b := make([]byte, n)
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var long []byte
	err := db.Update(t.Context(), func(tx kv.Tx) error {
		b, err := tx.CreateBucket([]byte("b")) // path: 2 bytes
		if err != nil {
			return err
		}
		long = random(2598)
		if err := b.Put(long, []byte("v")); err != nil {
			return err
		}
		if err := b.Put(random(2599), []byte("v")); !errors.Is(err, kv.ErrKeyTooLarge) {
			t.Errorf("Put of a key past the limit: %v, want ErrKeyTooLarge", err)
		}
		if _, err := b.CreateBucket(random(2599)); !errors.Is(err, kv.ErrKeyTooLarge) {
			t.Errorf("CreateBucket of a name past the limit: %v, want ErrKeyTooLarge", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(t.Context(), func(tx kv.Tx) error {
		if string(tx.Bucket([]byte("b")).Get(long)) != "v" {
			t.Error("the longest key was not stored")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPrefetchTellsBucketsApart prefetches keys named alike in two
// buckets, one with a nested bucket, in a view and in a write transaction
// that wrote some of them and deleted and made again one bucket: every Get
// answers as the database with the transaction's writes over it.
func TestPrefetchTellsBucketsApart(t *testing.T) {
	db := openURL(t, pgtest.NewDatabase(t))
	err := db.Update(t.Context(), func(tx kv.Tx) error {
		a, err := tx.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		if _, err := a.CreateBucket([]byte("n")); err != nil {
			return err
		}
		return errors.Join(a.Put([]byte("k1"), []byte("a1")), a.Put([]byte("k2"), []byte("a2")), b.Put([]byte("k1"), []byte("b1")))
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := [][]byte{[]byte("k1"), []byte("k2"), []byte("k3"), []byte("n")}
	// gets prefetches keys in buckets a and b of tx, then reads them:
	// values, "" for none, "bucket" for a nested bucket.
	gets := func(tx kv.Tx) map[string][]string {
		out := map[string][]string{}
		for _, name := range []string{"a", "b"} {
			kv.PrefetchKeys(tx.Bucket([]byte(name)), keys)
		}
		for _, name := range []string{"a", "b"} {
			b := tx.Bucket([]byte(name))
			for _, k := range keys {
				v := string(b.Get(k))
				if b.Bucket(k) != nil {
					v = "bucket"
				}
				out[name] = append(out[name], v)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		write func(tx kv.Tx) error
		want  map[string][]string
	}{
		{"view", nil, map[string][]string{"a": {"a1", "a2", "", "bucket"}, "b": {"b1", "", "", ""}}},
		{"puts", func(tx kv.Tx) error {
			return errors.Join(tx.Bucket([]byte("b")).Put([]byte("k2"), []byte("b2")), tx.Bucket([]byte("a")).Delete([]byte("k1")))
		}, map[string][]string{"a": {"", "a2", "", "bucket"}, "b": {"b1", "b2", "", ""}}},
		{"bucket made again", func(tx kv.Tx) error {
			if err := tx.DeleteBucket([]byte("b")); err != nil {
				return err
			}
			b, err := tx.CreateBucket([]byte("b"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k3"), []byte("b3"))
		}, map[string][]string{"a": {"a1", "a2", "", "bucket"}, "b": {"", "", "b3", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got map[string][]string
			run := db.View
			if tc.write != nil {
				run = db.Update
			}
			err := run(t.Context(), func(tx kv.Tx) error {
				if tc.write != nil {
					if err := tc.write(tx); err != nil {
						return err
					}
				}
				got = gets(tx)
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Gets (-want +got):\n%s", diff)
			}
		})
	}
}

// errRollback ends a transaction of a test without committing it.
var errRollback = errors.New("roll back")
