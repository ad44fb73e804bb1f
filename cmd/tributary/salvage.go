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

func runSalvage(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("salvage", "[-config FILE] OUT",
		"Copy what can be read of a damaged database into a new database OUT: every\n"+
			"readable article (its indexes rebuilt), source state, tombstone and alias.\n"+
			"The file is read page by page, so no damage can crash it. Prints what was\n"+
			"recovered and what was lost; exit 0 when OUT was written, 1 when nothing\n"+
			"could be read. OUT must not exist. Offline only: it refuses while the\n"+
			"daemon runs. Then stop, move OUT to data_dir/tributary.db, and start.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"salvage: want exactly one argument, the output file"}
	}
	out := fs.Arg(0)
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Database != "" {
		return fmt.Errorf("salvage: the database is PostgreSQL (%s), which keeps its own integrity: salvage reads a damaged bbolt file; restore a pg_dump instead", config.RedactURL(cfg.Database))
	}
	rep, err := storage.Salvage(ctx, filepath.Join(cfg.DataDir, dbFile), out)
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("%w: stop the daemon before salvaging", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d articles (%d from pages outside the intact tree), %d sources, %d tombstones, %d aliases recovered; check ok\n",
		out, rep.Articles, rep.Loose, rep.Sources, rep.Tombstones, rep.Aliases)
	if rep.LostCount == 0 {
		fmt.Fprintln(stdout, "nothing lost: every page of the file was read")
		return nil
	}
	fmt.Fprintf(stdout, "lost: %d unreadable pages, subtrees or records, among them:\n", rep.LostCount)
	for _, l := range rep.Lost {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	return nil
}
