package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/storage"
)

// adminSocket is the name of the daemon's admin socket in data_dir. Only
// the daemon's user may connect: the socket file has mode 0600.
const adminSocket = "tributary.sock"

// errNoDaemon means no daemon answers on the admin socket: the caller may
// open the database file itself.
var errNoDaemon = errors.New("no daemon running")

// listenAdmin listens on the admin socket in dir. The caller holds the
// database lock, so a socket file left there is stale and is removed.
func listenAdmin(dir string) (net.Listener, error) {
	path := filepath.Join(dir, adminSocket)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict admin socket: %w", err)
	}
	return ln, nil
}

// adminHandler serves the admin API on the socket: GET /backup streams a
// consistent copy of the database, GET /stats answers the status.Report of
// the sources that sources returns (those of the config in force), and GET
// /check runs the consistency check.
func adminHandler(store *storage.Store, sources func() []status.Source, webSub func() *status.WebSub, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := store.WriteTo(r.Context(), w); err != nil {
			// Headers are gone: the client sees a short body and a
			// backup that fails its check.
			log.Warn("admin backup failed", slog.Any("error", err))
		}
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		rep, err := status.Collect(r.Context(), store, sources(), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rep.WebSub = webSub()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rep)
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		if err := store.Check(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// adminGet sends GET path to the daemon's admin socket in dir. It returns
// an error wrapping errNoDaemon when nothing listens there.
func adminGet(ctx context.Context, dir, path string) (*http.Response, error) {
	sock := filepath.Join(dir, adminSocket)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		ResponseHeaderTimeout: 10 * time.Minute, // a check of a big file takes a while
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://tributary"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("admin socket %s: %w", sock, errNoDaemon)
		}
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return nil, fmt.Errorf("daemon answered %s: %s", resp.Status, body)
	}
	return resp, nil
}
