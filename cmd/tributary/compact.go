package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func runCompact(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("compact", "[-config FILE]",
		"Rewrite the database without its free pages, to give disk space back after\n"+
			"a large prune. Offline only: it refuses while the daemon runs. With database\n"+
			"set, it runs VACUUM (ANALYZE) on tributary's tables instead, online.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("compact: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Database != "" {
		return vacuum(ctx, cfg, stdout)
	}
	path := filepath.Join(cfg.DataDir, dbFile)
	if err := verifyFromSelf(ctx, path); err != nil {
		return err
	}
	res, err := storage.Compact(path, storage.Options{})
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("%w: stop the daemon before compacting", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d → %d bytes\n", path, res.Before, res.After)
	return nil
}

// vacuum is compact on PostgreSQL: VACUUM (ANALYZE) of tributary's
// tables, which instances may keep using meanwhile.
func vacuum(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	db, err := openDatabase(ctx, cfg, true, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	err = db.Vacuum(ctx)
	if err = errors.Join(err, db.Close()); err != nil {
		return fmt.Errorf("compact %s: %w", config.RedactURL(cfg.Database), err)
	}
	fmt.Fprintf(stdout, "%s: VACUUM (ANALYZE) done in %s\n", config.RedactURL(cfg.Database), time.Since(start).Round(time.Millisecond))
	return nil
}
