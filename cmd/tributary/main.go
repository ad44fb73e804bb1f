// Command tributary is a self-hosted RSS/Atom aggregator: it fetches the
// feeds listed in its config file on a schedule, files their articles by
// category in an embedded database and serves one merged feed per category.
//
// Usage:
//
//	tributary serve [-config FILE]            run the daemon
//	tributary fetch [-config FILE] [-feed URL] fetch every source now, print a summary
//	tributary check [-config FILE] [-db]      validate the config file (and database)
//	tributary add [-config FILE] [-category NAME]... URL
//	tributary import-opml [-config FILE] OPML
//	tributary export-opml [-config FILE]
//	tributary backup [-config FILE] OUT       consistent copy of the database
//	tributary stats [-config FILE]            category counts and source health
//	tributary compact [-config FILE]          offline compaction of the database
//	tributary migrate [-config FILE]          apply PostgreSQL schema migrations
//	tributary copy-db -from URL|PATH -to URL|PATH  copy a database into an empty one
//	tributary salvage [-config FILE] OUT      copy what can be read of a damaged database
//	tributary test-rules [-config FILE] URL   show what the rules make of a feed
//	tributary url [-config FILE] SLUG         subscribe URLs of a category or view
//
// Run "tributary CMD -h" for the flags of a command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, forTerminal(os.Stderr)))
}

// usageError marks a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errReported marks a failure whose details were already printed.
var errReported = errors.New("reported")

// exitCode prints err (unless already reported) and maps it to 0, 1 or 2
// (or the code of an exitStatus). A damaged database is reported in the
// words of damagedError alone, whatever the command wrapped it in.
func exitCode(err error, stderr io.Writer) int {
	if d, ok := errors.AsType[damagedError](err); ok {
		fmt.Fprintln(stderr, d)
		return 1
	}
	if s, ok := errors.AsType[exitStatus](err); ok {
		return s.code
	}
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "tributary: %v\nRun 'tributary -h' for usage.\n", err)
		return 2
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errReported):
		return 1
	default:
		fmt.Fprintf(stderr, "tributary: %v\n", err)
		return 1
	}
}

// command is one subcommand.
type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "[-config FILE]", "run the daemon: fetch on schedule and serve the merged feeds", runServe},
		{"fetch", "[-config FILE] [-feed URL]...", "fetch every source (or the given ones) now and print a summary", runFetch},
		{"check", "[-config FILE] [-db]", "validate the config file (and with -db the database); print every problem, exit 1", runCheck},
		{"add", "[-config FILE] [-category NAME]... URL", "probe a feed (or a page advertising one) and append it to the config", runAdd},
		{"import-opml", "[-config FILE] OPML", "append the sources of an OPML file to the config; folders become categories", runImportOPML},
		{"export-opml", "[-config FILE]", "print the sources as OPML 2.0; categories become folders", runExportOPML},
		{"backup", "[-config FILE] OUT", "write a consistent, verified copy of the database (also while serve runs)", runBackup},
		{"stats", "[-config FILE]", "per-category counts and per-source health (also while serve runs)", runStats},
		{"compact", "[-config FILE]", "rewrite the database without free pages (only while serve is stopped)", runCompact},
		{"migrate", "[-config FILE]", "apply the PostgreSQL schema migrations the database lacks and print them", runMigrate},
		{"copy-db", "-from URL|PATH -to URL|PATH", "copy one database into another, empty one, then compare and check the copy (offline)", runCopyDB},
		{"salvage", "[-config FILE] OUT", "copy what can be read of a damaged database into a new file OUT; report what was lost", runSalvage},
		{"test-rules", "[-config FILE] URL", "fetch a feed once and print per item its categories and which rule kept or dropped it", runTestRules},
		{"url", "[-config FILE] SLUG", "print the subscribe URLs of a category or view (with its key when private)", runURL},
	}
}

// run dispatches args to a subcommand. It is main without the process:
// tests call it directly. Everything but the document export-opml prints
// goes through forTerminal.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	stderr = forTerminal(stderr)
	if len(args) == 0 || args[0] != "export-opml" {
		stdout = forTerminal(stdout)
	}
	if len(args) == 0 {
		printUsage(stderr)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return nil
	}
	if args[0] == verifyCommand {
		return runVerifyFile(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `tributary: a self-hosted RSS/Atom aggregator.

It fetches the feeds listed in its config file on a schedule, files their
articles by category in an embedded database, and serves one merged feed per
category over HTTP.

Usage:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  tributary %s %s\n        %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprint(w, `
The config file defaults to $TRIBUTARY_CONFIG, then ./tributary.yaml.
Run 'tributary COMMAND -h' for the flags of a command.
Exit status: 0 ok, 1 error, 2 usage error.
`)
}
