package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tributary/tributary/config"
)

func runMigrate(ctx context.Context, args []string, stdout, _ io.Writer) (err error) {
	fs := newFlagSet("migrate", "[-config FILE]",
		"Apply the schema migrations the PostgreSQL database of the database key lacks,\n"+
			"in order, each in a transaction, and print those applied (or that there was\n"+
			"nothing to do). serve applies them at start too; migrate lets an operator do\n"+
			"it first, and see what changes. Instances starting together apply each once\n"+
			"(an advisory lock). A bbolt file needs no migrate: tributary upgrades it when\n"+
			"it opens it.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("migrate: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Database == "" {
		return errors.New("migrate: no database in the config: the bbolt file in data_dir is upgraded when opened")
	}
	db, err := openDatabase(ctx, cfg, false, nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	name := config.RedactURL(cfg.Database)
	applied, err := db.Migrate(ctx)
	for _, m := range applied {
		fmt.Fprintf(stdout, "%s: applied %04d_%s\n", name, m.Version, m.Name)
	}
	if err != nil {
		return oneLine(fmt.Errorf("migrate %s: %w", name, err))
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s: nothing to do, every migration is applied\n", name)
	}
	return nil
}
