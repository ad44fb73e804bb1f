package main

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func TestHealthy(t *testing.T) {
	tests := []struct {
		name      string
		tickAgo   time.Duration
		passAgo   time.Duration // 0: no pass running
		closed    bool
		wantError string
	}{
		{name: "fresh tick, idle", tickAgo: time.Second},
		{name: "fresh tick, pass running a while", tickAgo: time.Second, passAgo: 90 * time.Second},
		{name: "scheduler stalled", tickAgo: 3 * time.Minute, wantError: "scheduler idle since"},
		{name: "pass stuck", tickAgo: time.Second, passAgo: 10 * time.Minute, wantError: "fetch pass running for 10m0s"},
		{name: "store closed", tickAgo: time.Second, closed: true, wantError: "store does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := storage.Open(filepath.Join(t.TempDir(), dbFile), storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.closed {
				store.Close()
			} else {
				t.Cleanup(func() { store.Close() })
			}
			// Two feeds at 30s: a pass may take 3×30s + one tick before it counts as stuck.
			cfg := &config.Config{Fetch: config.Fetch{Timeout: 30 * time.Second}, Feeds: make([]config.Feed, 2)}
			s := &service{store: store, log: slog.New(slog.DiscardHandler)}
			s.gen.Store(&generation{cfg: cfg})
			s.lastTick.Store(time.Now().Add(-tt.tickAgo).UnixNano())
			if tt.passAgo > 0 {
				s.passStart.Store(time.Now().Add(-tt.passAgo).UnixNano())
			}
			err = s.healthy(t.Context())
			switch {
			case tt.wantError == "" && err != nil:
				t.Fatalf("healthy: %v", err)
			case tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)):
				t.Fatalf("healthy: %v, want %q", err, tt.wantError)
			}
		})
	}
}
