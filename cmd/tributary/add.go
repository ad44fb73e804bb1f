package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
)

func runAdd(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("add", "[-config FILE] [-category NAME]... [-title TITLE] URL",
		"Probe URL (it must parse as a feed; a web page is resolved to the feed its\n"+
			"autodiscovery links advertise), show its title and item count, then append it\n"+
			"to the end of the config's feeds, leaving the rest of the file as it was.\n"+
			"A running daemon picks it up on reload (systemctl reload tributary, or SIGHUP).", stdout)
	configPath := configFlag(fs)
	var cats stringList
	fs.Var(&cats, "category", "file the source's articles in category `NAME` (repeatable)")
	title := fs.String("title", "", "title override for the source")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"add: want exactly one argument, the feed URL"}
	}
	fc, err := fetchSettings(*configPath)
	if err != nil {
		return err
	}
	probed, err := fetcher.Probe(ctx, nil, fc, fs.Arg(0))
	if err != nil {
		return err
	}
	if probed.Discovered {
		fmt.Fprintf(stdout, "%s is a web page; it advertises the feed %s\n", fs.Arg(0), probed.URL)
	}
	fmt.Fprintf(stdout, "%s: %q, %d items\n", probed.URL, probed.Title, probed.Items)
	_, err = config.AppendFeeds(*configPath, []config.NewFeed{{URL: probed.URL, Title: *title, Categories: cats}})
	if errors.Is(err, config.ErrDuplicateFeed) {
		return fmt.Errorf("%s is already a source in %s", probed.URL, *configPath)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added to %s\n", *configPath)
	return nil
}

// fetchSettings returns the fetch settings of the config at path, or the
// defaults when the file does not exist yet.
func fetchSettings(path string) (config.Fetch, error) {
	cfg, err := config.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		cfg, err = config.Parse(path, nil)
	}
	if err != nil {
		return config.Fetch{}, err
	}
	return cfg.Fetch, nil
}
