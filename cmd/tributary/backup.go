package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func runBackup(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("backup", "[-config FILE] OUT",
		"Write a consistent copy of the database to OUT, atomically (a temporary file\n"+
			"next to OUT, synced, then renamed), and verify that it opens and passes the\n"+
			"database check. Works while the daemon runs: the copy then comes from the\n"+
			"daemon over its admin socket in data_dir. With database set (PostgreSQL) it\n"+
			"refuses: use pg_dump -Fc.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"backup: want exactly one argument, the output file"}
	}
	out := fs.Arg(0)
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Database != "" {
		return fmt.Errorf("backup: the database is PostgreSQL (%s): back it up with pg_dump -Fc, see docs/operations.md", config.RedactURL(cfg.Database))
	}
	via := "daemon"
	err = storage.WriteFileAtomic(out, 0o600, func(w io.Writer) error {
		resp, err := adminGet(ctx, cfg.DataDir, "/backup")
		if err == nil {
			defer resp.Body.Close()
			_, err = io.Copy(w, resp.Body)
			return err
		}
		if !errors.Is(err, errNoDaemon) {
			return err
		}
		via = "file"
		s, err := openDB(ctx, filepath.Join(cfg.DataDir, dbFile))
		if err != nil {
			return err
		}
		_, err = s.WriteTo(ctx, w)
		return errors.Join(err, s.Close())
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	b, err := storage.Open(out, storage.Options{})
	if err != nil {
		return fmt.Errorf("backup %s does not open: %w", out, err)
	}
	size, _ := b.Size()
	if err := errors.Join(b.Check(ctx), b.Close()); err != nil {
		return fmt.Errorf("backup %s fails its check: %w", out, err)
	}
	fmt.Fprintf(stdout, "%s: %d bytes from the %s, check ok\n", out, size, via)
	return nil
}
