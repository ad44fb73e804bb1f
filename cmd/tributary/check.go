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
			"while the daemon runs, it checks on the daemon's behalf.", stdout)
	configPath := configFlag(fs)
	db := fs.Bool("db", false, "also check the database in data_dir")
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
	path := filepath.Join(cfg.DataDir, dbFile)
	if err := checkDB(ctx, cfg.DataDir); err != nil {
		fmt.Fprintln(stderr, err)
		return errReported
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return nil
}

// checkDB checks the database in dir, through the daemon when one runs.
func checkDB(ctx context.Context, dir string) error {
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
