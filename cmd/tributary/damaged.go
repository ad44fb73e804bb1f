package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"

	"github.com/tributary/tributary/storage"
)

// verifyCommand is the hidden command that checks a database file in a
// child process (see verifyDB); it is not listed in the usage.
const verifyCommand = "verify-db-file"

// Exit codes of verifyCommand besides 0 (the file is sound): the file is
// damaged (the problem is on stdout), or it could not be checked (missing,
// unreadable or locked), which the caller's own open then reports.
const (
	verifyExitDamaged   = 1
	verifyExitUnchecked = 3
)

// damagedError is the error of every command that finds its database
// damaged; main prints it as it is.
type damagedError struct{ what string }

func (e damagedError) Error() string {
	return "database damaged: " + e.what + "; restore a backup (tributary backup) or salvage it (tributary salvage)"
}

// exitStatus ends the process with code after printing nothing.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// runVerifyFile is the child side of verifyDB: it checks args[0] with
// storage.VerifyFile, which may crash this process on a damaged file.
func runVerifyFile(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) != 1 {
		return usageError{verifyCommand + ": want exactly one argument, the database file"}
	}
	err := storage.VerifyFile(args[0])
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrDamaged):
		fmt.Fprintln(stdout, strings.TrimPrefix(err.Error(), storage.ErrDamaged.Error()+": "))
		return exitStatus{verifyExitDamaged}
	default:
		fmt.Fprintln(stdout, err)
		return exitStatus{verifyExitUnchecked}
	}
}

// verifyDB checks the database file at path in a child process running
// exe (this binary), so that a file that would crash bbolt kills the
// child, not the command. A missing or empty file passes (Open creates
// it), and so does one the child could not check (locked, unreadable):
// the caller's Open reports those. It returns a damagedError naming the
// problem when the child finds damage or dies.
func verifyDB(ctx context.Context, exe, path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && info.Size() == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	cmd := exec.CommandContext(ctx, exe, verifyCommand, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	exitErr, exited := errors.AsType[*exec.ExitError](err)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("verify %s: %w", path, context.Cause(ctx))
	case !exited:
		return fmt.Errorf("verify %s: %w", path, err)
	case exitErr.ExitCode() == verifyExitUnchecked:
		return nil
	case exitErr.ExitCode() == verifyExitDamaged:
		return damagedError{strings.TrimSpace(firstLine(stdout.String()))}
	default:
		return damagedError{fmt.Sprintf("%s: reading it crashes bbolt (%s)", path, crashReason(stderr.String(), exitErr))}
	}
}

// crashReason picks the line of a crashed child's stderr that says why it
// died (a Go panic or fatal error), without its prefix, else the child's
// exit status.
func crashReason(stderr string, exitErr *exec.ExitError) string {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		for _, prefix := range []string{"panic: ", "fatal error: "} {
			if reason, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				return strings.TrimSpace(reason)
			}
		}
	}
	return exitErr.ProcessState.String()
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// verifyFromSelf is verifyDB with this program as the child.
func verifyFromSelf(ctx context.Context, path string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("verify %s: find this program: %w", path, err)
	}
	return verifyDB(ctx, exe, path)
}

// openDB verifies the database at path in a child process, then opens it.
func openDB(ctx context.Context, path string) (*storage.Store, error) {
	if err := verifyFromSelf(ctx, path); err != nil {
		return nil, err
	}
	return storage.Open(path, storage.Options{})
}

// recoverFaults serves h with memory faults made panics (a page of a
// database file damaged under the daemon faults when bbolt reads it,
// which would otherwise kill the process), and turns a panic into a 500
// answer and an error log line: the request fails, the daemon goes on.
func recoverFaults(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("request failed with a panic; if it read the database, check it (tributary check -db)",
				slog.String("path", r.URL.Path), slog.Any("panic", v))
			http.Error(w, "internal server error", http.StatusInternalServerError)
		}()
		h.ServeHTTP(w, r)
	})
}
