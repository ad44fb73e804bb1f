package pgkv_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/pgkv"
)

// An instance opens the shared database (migrating it if needed), writes
// in one serialised transaction, and hears the commits of every instance.
func ExampleOpen() {
	ctx := context.Background()
	// The password comes from a file (database_password_file), not the URL.
	pw, err := os.ReadFile("/etc/tributary/database-password")
	if err != nil {
		fmt.Println(err)
		return
	}
	db, err := pgkv.Open(ctx, "postgres://tributary@db.example/tributary?sslmode=verify-full",
		pgkv.Options{Password: strings.TrimSpace(string(pw))})
	if err != nil {
		fmt.Println(err) // without the password
		return
	}
	defer db.Close()
	err = db.Update(ctx, func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("sources"))
		if err != nil {
			return err
		}
		return b.Put([]byte("https://example.org/feed"), []byte("{}"))
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for gen := range db.Changes(ctx) {
		fmt.Println("database at generation", gen)
	}
}
