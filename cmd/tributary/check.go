package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tributary/tributary/config"
)

func runCheck(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "[-config FILE]",
		"Validate the config file. Every problem is printed as FILE:LINE: path: message;\nthe exit status is 1 when there is any.", stdout)
	configPath := configFlag(fs)
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
	return nil
}
