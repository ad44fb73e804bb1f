package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// adminTestService returns the public routes of a service over a real
// store, with the config parsed from src, and the service.
func adminTestService(t *testing.T, src string) (http.Handler, *service) {
	t.Helper()
	store, err := storage.Open(filepath.Join(t.TempDir(), dbFile), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	s := &service{store: store, log: log}
	s.metrics = newMetrics(func() (*storage.Store, *config.Config) { return store, s.gen.Load().cfg }, log)
	s.gen.Store(newTestGeneration(t, s, src))
	return s.routes(), s
}

// newTestGeneration parses src with data_dir in a temporary directory and
// builds its generation.
func newTestGeneration(t *testing.T, s *service, src string) *generation {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte("data_dir: "+t.TempDir()+"\n"+src))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.newGeneration(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAdminAllow(t *testing.T) {
	tests := []struct {
		name, config, remote, path, forwarded string
		want                                  int
	}{
		{"loopback reads status", "", "127.0.0.1:40000", "/status", "", 200},
		{"loopback reads metrics", "", "127.0.0.1:40000", "/metrics", "", 200},
		{"other loopback address", "", "127.5.6.7:40000", "/metrics", "", 200},
		{"IPv6 loopback", "", "[::1]:40000", "/status", "", 200},
		{"IPv4-mapped loopback", "", "[::ffff:127.0.0.1]:40000", "/status", "", 200},
		{"remote client, status", "", "203.0.113.9:40000", "/status", "", 403},
		{"remote client, metrics", "", "203.0.113.9:40000", "/metrics", "", 403},
		{"remote IPv6 client", "", "[2001:db8::9]:40000", "/metrics", "", 403},
		{"forged X-Forwarded-For", "", "203.0.113.9:40000", "/status", "127.0.0.1", 403},
		{"unparsable address", "", "somewhere", "/status", "", 403},
		{"remote client still reads feeds", "", "203.0.113.9:40000", "/feeds/all.atom", "", 200},
		{"remote client still reads healthz", "", "203.0.113.9:40000", "/", "", 200},
		{"allowed network", "http: {admin_allow: [192.0.2.0/24, '2001:db8::1']}\n", "192.0.2.77:40000", "/metrics", "", 200},
		{"allowed address", "http: {admin_allow: [192.0.2.0/24, '2001:db8::1']}\n", "[2001:db8::1]:40000", "/status", "", 200},
		{"loopback not listed", "http: {admin_allow: [192.0.2.0/24]}\n", "127.0.0.1:40000", "/status", "", 403},
		{"empty list allows no one", "http: {admin_allow: []}\n", "127.0.0.1:40000", "/metrics", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := adminTestService(t, tt.config)
			req := httptest.NewRequest("GET", tt.path, nil)
			req.RemoteAddr = tt.remote
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("GET %s from %s: status %d, want %d\n%s", tt.path, tt.remote, rec.Code, tt.want, rec.Body)
			}
		})
	}
}

func TestAdminAllowFollowsReload(t *testing.T) {
	h, s := adminTestService(t, "")
	get := func(path string) int {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = "192.0.2.5:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if a, b := get("/metrics"), get("/status"); a != 403 || b != 403 {
		t.Fatalf("before the reload: %d, %d, want 403", a, b)
	}
	s.gen.Store(newTestGeneration(t, s, "http: {admin_allow: [192.0.2.0/24]}\n"))
	if a, b := get("/metrics"), get("/status"); a != 200 || b != 200 {
		t.Errorf("after the reload: %d, %d, want 200", a, b)
	}
}

// FuzzClientAllowed checks clientAllowed on any remote address against
// the loopback networks: it never panics, and allows only addresses that
// parse as a loopback IP and port.
func FuzzClientAllowed(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:80", "[::1]:80", "[::ffff:127.0.0.1]:1", "[fe80::1%eth0]:80", "192.0.2.1:80",
		"127.0.0.1", ":80", "[::1]", "localhost:80", "[::ffff:7f00:1]:9", "",
	} {
		f.Add(s)
	}
	nets := config.DefaultAdminAllow()
	f.Fuzz(func(t *testing.T, remote string) {
		if !clientAllowed(remote, nets) {
			return
		}
		ap, err := netip.ParseAddrPort(remote)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("clientAllowed(%q) = true for a client that is not on loopback", remote)
		}
	})
}
