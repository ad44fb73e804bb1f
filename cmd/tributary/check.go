package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tributary/tributary/config"
)

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "[-config FILE] [-db]",
		"Validate the config file. Every problem is printed as FILE:LINE: path: message;\n"+
			"the exit status is 1 when there is any. With -db, also check the database:\n"+
			"bbolt's pages and the store's invariants (indexes agree with the articles);\n"+
			"while the daemon runs, it checks on the daemon's behalf. With database set, the\n"+
			"store's invariants in PostgreSQL, also while instances run.", stdout)
	configPath := configFlag(fs)
	db := fs.Bool("db", false, "also check the database (in data_dir, or database)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("check: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errReported
	}
	fmt.Fprintf(stdout, "%s: ok (%d feeds, %d categories)\n", cfg.Path, len(cfg.Feeds), len(configuredCategories(cfg)))
	if !*db {
		return nil
	}
	if err := checkDB(ctx, cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return errReported
	}
	fmt.Fprintf(stdout, "%s: ok\n", storeName(cfg))
	return nil
}

// checkDB checks the database of cfg: the bbolt file in data_dir through
// the daemon when one runs, else the PostgreSQL database directly, which
// the daemons do not lock.
func checkDB(ctx context.Context, cfg *config.Config) error {
	if cfg.Database != "" {
		s, err := openCheckedStore(ctx, cfg)
		if err != nil {
			return err
		}
		return errors.Join(s.Check(ctx), s.Close())
	}
	dir := cfg.DataDir
	resp, err := adminGet(ctx, dir, "/check")
	if err == nil {
		resp.Body.Close()
		return nil
	}
	if !errors.Is(err, errNoDaemon) {
		return err
	}
	s, err := openDB(ctx, filepath.Join(dir, dbFile))
	if err != nil {
		return err
	}
	return errors.Join(s.Check(ctx), s.Close())
}
