package pgkv_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
)

// TestNoMigrate opens a new database without migrating it: Migrate then
// applies every migration, in order, once.
func TestNoMigrate(t *testing.T) {
	ctx := t.Context()
	db, err := pgkv.Open(ctx, pgtest.NewDatabase(t), pgkv.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var exists bool
	if err := db.Pool().QueryRow(ctx, "SELECT to_regclass('kv') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("Open with NoMigrate created table kv")
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range applied {
		got = append(got, m.Version)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, got); diff != "" {
		t.Errorf("first Migrate applied (-want +got):\n%s", diff)
	}
	if again, err := db.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
	}
}

// TestVacuum deletes rows and vacuums: every table of the schema is
// vacuumed and analysed, and the data stays.
func TestVacuum(t *testing.T) {
	ctx := t.Context()
	db, err := pgkv.Open(ctx, pgtest.NewDatabase(t), pgkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(ctx, func(tx kv.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		for _, k := range []string{"a", "b", "c"} {
			if err := b.Put([]byte(k), []byte(k)); err != nil {
				return err
			}
		}
		return b.Delete([]byte("b"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Vacuum(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.Pool().Query(ctx, `SELECT relname FROM pg_stat_user_tables
		WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL ORDER BY relname`)
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"host_slots", "host_turns", "kv", "kv_generation", "schema_migrations", "source_leases"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("tables vacuumed and analysed (-want +got):\n%s", diff)
	}
	var got []byte
	_ = db.View(context.Background(), func(tx kv.Tx) error {
		got = tx.Bucket([]byte("b")).Get([]byte("c"))
		return nil
	})
	if string(got) != "c" {
		t.Errorf("after Vacuum, b/c = %q; want %q", got, "c")
	}
}

// TestValuesCompressWithLZ4 checks that the migrations leave the values of
// the kv table compressed with lz4 (where the server has it, as the test
// server does), which takes a first ingest's articles in half pglz's time.
func TestValuesCompressWithLZ4(t *testing.T) {
	url := pgtest.NewDatabase(t)
	openURL(t, url)
	s, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(t.Context(), dbName(t, url), "SELECT attcompression FROM pg_attribute WHERE attrelid = 'kv'::regclass AND attname = 'value'")
	if err != nil {
		t.Fatal(err)
	}
	if got != "l" {
		t.Errorf("compression of kv.value: %q, want l (lz4)", got)
	}
}
