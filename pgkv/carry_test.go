package pgkv_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/pgtest"
)

// carryAfter reads keys of bucket b in a read transaction of db and
// returns what it carries.
func carryAfter(t *testing.T, db kv.DB, keys ...string) kv.Carried {
	t.Helper()
	var c kv.Carried
	err := db.View(t.Context(), func(tx kv.Tx) error {
		for _, k := range keys {
			tx.Bucket([]byte("b")).Get([]byte(k))
		}
		c = kv.Carry(tx)
		return nil
	})
	if err != nil || c == nil {
		t.Fatalf("carry: %v, %v", c, err)
	}
	return c
}

// getAdopting returns the values of keys of bucket b in a write
// transaction of db that adopts c first ("" for none).
func getAdopting(t *testing.T, db kv.DB, c kv.Carried, keys ...string) []string {
	t.Helper()
	var out []string
	err := db.Update(t.Context(), func(tx kv.Tx) error {
		kv.Adopt(tx, c)
		for _, k := range keys {
			out = append(out, string(tx.Bucket([]byte("b")).Get([]byte(k))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// putAll writes kvs (key, value, …; an empty value deletes) to bucket b.
func putAll(t *testing.T, db kv.DB, kvs ...string) {
	t.Helper()
	err := db.Update(context.Background(), func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		for i := 0; i < len(kvs); i += 2 {
			if kvs[i+1] == "" {
				err = b.Delete([]byte(kvs[i]))
			} else {
				err = b.Put([]byte(kvs[i]), []byte(kvs[i+1]))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAdoptSeesEveryCommitSince carries a read transaction's reads to a
// write transaction after writes of the same DB and of another one (an
// other instance): every key a commit since changed is read again, and
// the others come from the carried reads. A row changed behind pgkv's
// back, without a commit of a generation, shows which Gets the carried
// reads answered.
func TestAdoptSeesEveryCommitSince(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db, other := openURL(t, url), openURL(t, url)
	putAll(t, db, "kept", "v1", "changed", "v1", "deleted", "v1")
	srv, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	behindTheBack := func() {
		t.Helper()
		if err := srv.Exec(t.Context(), dbName(t, url), `UPDATE kv SET value = 'behind' WHERE key = 'kept'`); err != nil {
			t.Fatal(err)
		}
	}

	c := carryAfter(t, db, "kept", "changed", "deleted", "absent")
	putAll(t, db, "changed", "v2", "deleted", "", "absent", "v2")
	behindTheBack()
	got := getAdopting(t, db, c, "kept", "changed", "deleted", "absent")
	if want := []string{"v1", "v2", "", "v2"}; !slices.Equal(got, want) {
		t.Errorf("after this DB's commits: %q, want %q (kept from the carried reads)", got, want)
	}

	c = carryAfter(t, db, "kept")
	putAll(t, other, "unrelated", "v3")
	got = getAdopting(t, db, c, "kept")
	if want := []string{"behind"}; !slices.Equal(got, want) {
		t.Errorf("after another DB's commit: %q, want %q (read again: what it changed is unknown)", got, want)
	}
}

// TestAdoptTellsBucketsApart carries reads of a key named alike in two
// buckets over a commit that changed it in one of them: the other's is
// taken from the carried reads (a row changed behind pgkv's back shows
// it), the changed one is read again.
func TestAdoptTellsBucketsApart(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := openURL(t, url)
	put := func(bucket, value string) {
		t.Helper()
		err := db.Update(t.Context(), func(tx kv.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte(value))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("a", "a1")
	put("b", "b1")
	var c kv.Carried
	err := db.View(t.Context(), func(tx kv.Tx) error {
		tx.Bucket([]byte("a")).Get([]byte("k"))
		tx.Bucket([]byte("b")).Get([]byte("k"))
		c = kv.Carry(tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	put("b", "b2")
	srv, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Exec(t.Context(), dbName(t, url), `UPDATE kv SET value = 'behind' WHERE key = 'k'`); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = db.Update(t.Context(), func(tx kv.Tx) error {
		kv.Adopt(tx, c)
		for _, name := range []string{"a", "b"} {
			got = append(got, string(tx.Bucket([]byte(name)).Get([]byte("k"))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "behind"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q (a's carried, b's read again)", got, want)
	}
}
