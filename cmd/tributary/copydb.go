package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
	"github.com/tributary/tributary/kv/kvcopy"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/storage"
)

// copyProgressEvery is how often copy-db reports its progress on stderr.
const copyProgressEvery = 2 * time.Second

func runCopyDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("copy-db", "-from URL|PATH -to URL|PATH",
		"Copy every bucket and key of one database into another, empty one, in\n"+
			"transactions of -batch keys, then compare both key by key and check the\n"+
			"copy as a store; exit 1 on any difference. URL is a postgres:// URL (the\n"+
			"password from $PGPASSWORD); PATH is a bbolt file, or a data_dir holding\n"+
			"tributary.db (a missing destination file is created).\n"+
			"Offline only: stop the daemons using either database first.", stdout)
	from := fs.String("from", "", "source database: postgres:// `URL`, bbolt file or data_dir")
	to := fs.String("to", "", "destination database, empty or missing: postgres:// `URL`, bbolt file or data_dir")
	batch := fs.Int("batch", kvcopy.DefaultBatchKeys, "keys written per destination transaction")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("copy-db: unexpected argument %q", fs.Arg(0))}
	case *from == "" || *to == "":
		return usageError{"copy-db: -from and -to are required"}
	case *batch < 1:
		return usageError{"copy-db: -batch must be at least 1"}
	}
	src, err := resolveEndpoint(*from)
	if err != nil {
		return err
	}
	dst, err := resolveEndpoint(*to)
	if err != nil {
		return err
	}
	if src.same(dst) {
		return fmt.Errorf("copy-db: -from and -to are the same database %s", src)
	}
	return copyDB(ctx, src, dst, *batch, stdout, stderr)
}

// endpoint is one side of copy-db: a bbolt file (path) or a PostgreSQL
// database (url).
type endpoint struct{ path, url string }

// String names e for messages: the path, or the URL without its user and
// password.
func (e endpoint) String() string {
	if e.url != "" {
		return config.RedactURL(e.url)
	}
	return e.path
}

// same reports whether e and o are one database.
func (e endpoint) same(o endpoint) bool {
	if e.url != "" || o.url != "" {
		return e.url == o.url
	}
	a, errA := os.Stat(e.path)
	b, errB := os.Stat(o.path)
	if errA != nil || errB != nil {
		return filepath.Clean(e.path) == filepath.Clean(o.path)
	}
	return os.SameFile(a, b)
}

// resolveEndpoint reads a -from or -to argument: a postgres:// or
// postgresql:// URL, else a bbolt file, a directory standing for its
// tributary.db.
func resolveEndpoint(arg string) (endpoint, error) {
	if scheme, _, ok := strings.Cut(arg, "://"); ok {
		if !strings.EqualFold(scheme, "postgres") && !strings.EqualFold(scheme, "postgresql") {
			return endpoint{}, usageError{fmt.Sprintf("copy-db: %s:// is not a database: want a postgres:// URL, a bbolt file or a data_dir", scheme)}
		}
		return endpoint{url: arg}, nil
	}
	if info, err := os.Stat(arg); err == nil && info.IsDir() {
		return endpoint{path: filepath.Join(arg, dbFile)}, nil
	}
	return endpoint{path: arg}, nil
}

// openPostgres opens the PostgreSQL database of e; the password comes
// from the URL's environment ($PGPASSWORD, ~/.pgpass).
func openPostgres(ctx context.Context, e endpoint, side string) (kv.DB, error) {
	db, err := pgkv.Open(ctx, e.url, pgkv.Options{})
	if err != nil {
		return nil, fmt.Errorf("copy-db: %s: %w", side, oneLine(err))
	}
	return db, nil
}

// openSource opens the database to copy from; a bbolt file read-only,
// after checking in a child process that reading it does not crash.
func openSource(ctx context.Context, e endpoint) (kv.DB, error) {
	if e.url != "" {
		return openPostgres(ctx, e, "source")
	}
	if _, err := os.Stat(e.path); err != nil {
		return nil, fmt.Errorf("copy-db: source: %w", err)
	}
	if err := verifyFromSelf(ctx, e.path); err != nil {
		return nil, err
	}
	db, err := boltkv.Open(e.path, boltkv.OpenOptions{ReadOnly: true})
	if errors.Is(err, boltkv.ErrLocked) {
		return nil, fmt.Errorf("copy-db: source: %w: stop the daemon first", err)
	}
	if err != nil {
		return nil, fmt.Errorf("copy-db: source: %w", err)
	}
	return db, nil
}

// openDestination opens (creating a bbolt file) the database to copy
// into; created reports whether copy-db made the file, to remove it if
// the copy fails.
func openDestination(ctx context.Context, e endpoint) (db kv.DB, created bool, err error) {
	if e.url != "" {
		db, err := openPostgres(ctx, e, "destination")
		return db, false, err
	}
	_, statErr := os.Stat(e.path)
	created = errors.Is(statErr, fs.ErrNotExist)
	b, err := boltkv.Open(e.path, boltkv.OpenOptions{})
	if errors.Is(err, boltkv.ErrLocked) {
		return nil, false, fmt.Errorf("copy-db: destination: %w: stop the daemon first", err)
	}
	if err != nil {
		return nil, false, fmt.Errorf("copy-db: destination: %w", err)
	}
	return b, created, nil
}

// copyDB copies src into dst, compares them and checks the copy.
func copyDB(ctx context.Context, src, dst endpoint, batch int, stdout, stderr io.Writer) error {
	from, err := openSource(ctx, src)
	if err != nil {
		return err
	}
	defer from.Close()
	to, created, err := openDestination(ctx, dst)
	if err != nil {
		return err
	}
	if err := copyAndCompare(ctx, from, to, src, dst, batch, stdout, stderr); err != nil {
		err = errors.Join(err, to.Close())
		if created {
			_ = os.Remove(dst.path) // a partial copy is of no use
		}
		return err
	}
	return checkCopy(ctx, to, stdout)
}

// copyAndCompare copies from into to, reporting progress on stderr and a
// summary on stdout, then compares them.
func copyAndCompare(ctx context.Context, from, to kv.DB, src, dst endpoint, batch int, stdout, stderr io.Writer) error {
	start := time.Now()
	last := start
	stats, err := kvcopy.Copy(ctx, to, from, kvcopy.Options{
		BatchKeys: batch,
		Progress: func(s kvcopy.Stats) {
			if time.Since(last) >= copyProgressEvery {
				last = time.Now()
				fmt.Fprintf(stderr, "copy-db: %d buckets, %d keys, %d bytes so far (%s)\n",
					s.Buckets, s.Keys, s.Bytes, time.Since(start).Round(time.Millisecond))
			}
		},
	})
	if err != nil {
		return fmt.Errorf("copy-db %s to %s: %w", src, dst, err)
	}
	if stats.Buckets == 0 {
		return fmt.Errorf("copy-db: the source %s is empty, not a tributary database", src)
	}
	fmt.Fprintf(stdout, "copied %s to %s: %d buckets, %d keys, %d bytes in %s\n",
		src, dst, stats.Buckets, stats.Keys, stats.Bytes, time.Since(start).Round(time.Millisecond))
	return compareDBs(ctx, from, to, stdout)
}

// compareDBs re-reads both databases and compares them bucket by bucket
// (number of keys and a hash of them), printing each difference.
func compareDBs(ctx context.Context, src, dst kv.DB, stdout io.Writer) error {
	a, err := kvcopy.Sum(ctx, src)
	if err != nil {
		return fmt.Errorf("copy-db: re-read the source: %w", err)
	}
	b, err := kvcopy.Sum(ctx, dst)
	if err != nil {
		return fmt.Errorf("copy-db: re-read the destination: %w", err)
	}
	diffs := kvcopy.Diff(a, b)
	for _, d := range diffs {
		fmt.Fprintf(stdout, "difference: %s\n", d)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("copy-db: the copy differs from its source in %d buckets", len(diffs))
	}
	fmt.Fprintf(stdout, "compare: %d buckets identical\n", len(a))
	return nil
}

// checkCopy runs the store's consistency check on the copy db, which must
// open as a tributary store, and closes db.
func checkCopy(ctx context.Context, db kv.DB, stdout io.Writer) error {
	s, err := storage.New(db, storage.Options{})
	if err != nil {
		return errors.Join(fmt.Errorf("copy-db: the copy does not open as a store: %w", err), db.Close())
	}
	if err := errors.Join(s.Check(ctx), s.Close()); err != nil {
		return fmt.Errorf("copy-db: the copy fails the database check: %w", err)
	}
	fmt.Fprintln(stdout, "check: ok")
	return nil
}
