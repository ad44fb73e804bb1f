package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/tributary/tributary/config"
)

// errHelp means -h was given and usage was printed: exit 0.
var errHelp = errors.New("help requested")

// newFlagSet returns a FlagSet for command name whose -h prints a usage
// line, the summary and the flags to stdout.
func newFlagSet(name, argsUsage, summary string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: tributary %s %s\n\n%s\n\nFlags:\n", name, argsUsage, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping -h to errHelp and other mistakes to a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return errHelp
	case err != nil:
		return usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	return nil
}

// configFlag registers -config with its documented default.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", defaultConfigPath(), "config `FILE`; $TRIBUTARY_CONFIG sets the default")
}

func defaultConfigPath() string {
	if p := os.Getenv("TRIBUTARY_CONFIG"); p != "" {
		return p
	}
	return "tributary.yaml"
}

// logLevelFlag registers -log-level with the default def.
func logLevelFlag(fs *flag.FlagSet, def slog.Level) *slog.Level {
	lvl := new(slog.Level)
	fs.TextVar(lvl, "log-level", def, "log `LEVEL`: debug, info, warn or error")
	return lvl
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// configLogger returns the logger the config's log settings ask for, and
// the variable holding its level (a reload may change it). A -log-level
// given on the command line (override) wins over log.level.
func configLogger(w io.Writer, l config.Log, override bool, level slog.Level) (*slog.Logger, *slog.LevelVar) {
	lvl := new(slog.LevelVar)
	lvl.Set(l.Level)
	if override {
		lvl.Set(level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if l.Format == config.LogFormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), lvl
	}
	return slog.New(slog.NewTextHandler(w, opts)), lvl
}
