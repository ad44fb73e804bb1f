package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tributary/tributary/storage"
)

// damagedSources is how many generated feeds fill the store that the
// damaged-database tests break.
const damagedSources = 150

// storeFixture fetches damagedSources generated feeds into a new store
// with the real binary, compacts it (so that every page is in use) and
// returns the config path, the database path and the file's bytes.
func storeFixture(t *testing.T) (cfg, addr, db string, raw []byte) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= damagedSources {
			http.NotFound(w, r)
			return
		}
		body, ct := generatedFeed(n, srv.URL)
		w.Header().Set("Content-Type", ct)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	addr = freeAddr(t)
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\ndata_dir: %s\nschedule: \"@every 1h\"\nretention:\n  max_age: 87600h\nfetch:\n  host_interval: 0s\nfeeds:\n",
		addr, filepath.Join(dir, "data"))
	for n := range damagedSources {
		fmt.Fprintf(&b, "  - url: %s/feed/%d\n    categories: [%s]\n", srv.URL, n, []string{"World", "Tech"}[n%2])
	}
	cfg = filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, b.String())
	for _, args := range [][]string{{"fetch", "-config", cfg}, {"compact", "-config", cfg}} {
		if r := tributary(t, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	db = filepath.Join(dir, "data", dbFile)
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, addr, db, raw
}

// bbolt page header flags (go.etcd.io/bbolt/internal/common).
const (
	branchPage = 0x01
	leafPage   = 0x02
)

// pagesOf lists the ids of the pages of raw (a bbolt file) with the given
// flags, below the high-water mark of its first meta page.
func pagesOf(raw []byte, flags uint16) []int {
	size := int(binary.NativeEndian.Uint32(raw[16+8:]))
	high := int(binary.NativeEndian.Uint64(raw[16+40:]))
	var ids []int
	for id := 2; id < high && (id+1)*size <= len(raw); id++ {
		p := raw[id*size:]
		if binary.NativeEndian.Uint64(p) == uint64(id) && binary.NativeEndian.Uint16(p[8:]) == flags {
			ids = append(ids, id)
		}
	}
	return ids
}

// damages are ways a disk or a careless hand breaks a database file.
var damages = []struct {
	name   string
	damage func(raw []byte) []byte
}{
	{"truncated to half", func(raw []byte) []byte { return raw[:len(raw)/2] }},
	{"meta pages flipped", func(raw []byte) []byte {
		size := int(binary.NativeEndian.Uint32(raw[16+8:]))
		for _, off := range []int{16 + 20, size + 16 + 20} {
			raw[off] ^= 0xff
		}
		return raw
	}},
	{"branch pages garbled", func(raw []byte) []byte { return garble(raw, pagesOf(raw, branchPage), 2) }},
	{"leaf pages garbled", func(raw []byte) []byte { return garble(raw, pagesOf(raw, leafPage), 7) }},
	{"page zeroed", func(raw []byte) []byte {
		size := int(binary.NativeEndian.Uint32(raw[16+8:]))
		id := pagesOf(raw, branchPage)[0]
		clear(raw[id*size : (id+1)*size])
		return raw
	}},
}

// garble flips the element headers of every step-th page of ids.
func garble(raw []byte, ids []int, step int) []byte {
	size := int(binary.NativeEndian.Uint32(raw[16+8:]))
	for i := 0; i < len(ids); i += step {
		for off := 16; off < 64; off++ {
			raw[ids[i]*size+off] ^= 0xa5
		}
	}
	return raw
}

// TestDamagedDatabaseFailsCleanly runs every command that opens the
// database on damaged copies of a real store: each exits 1 with the
// "database damaged" message and none crashes.
func TestDamagedDatabaseFailsCleanly(t *testing.T) {
	cfg, _, db, raw := storeFixture(t)
	out := filepath.Join(t.TempDir(), "backup.db")
	commands := [][]string{
		{"check", "-db", "-config", cfg},
		{"stats", "-config", cfg},
		{"fetch", "-config", cfg},
		{"backup", "-config", cfg, out},
		{"compact", "-config", cfg},
		{"serve", "-config", cfg},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			for _, args := range commands {
				writeFile(t, db, string(d.damage(append([]byte(nil), raw...))))
				r := tributary(t, args...)
				if r.code != 1 || !strings.HasPrefix(r.stderr, "database damaged: "+db+": ") ||
					!strings.HasSuffix(r.stderr, "; restore a backup (tributary backup) or salvage it (tributary salvage)\n") {
					t.Errorf("%s: exit %d, want 1 and the damage message\nstderr: %s", args[0], r.code, r.stderr)
				}
				for _, crash := range []string{"panic", "SIGSEGV", "SIGBUS", "goroutine "} {
					if strings.Contains(r.stderr, crash) {
						t.Errorf("%s: stderr shows a crash (%q):\n%s", args[0], crash, r.stderr)
					}
				}
			}
		})
	}
}

// storedCount is the number of articles in the database file at path.
func storedCount(t *testing.T, path string) int {
	t.Helper()
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	arts, err := s.Latest(t.Context(), storage.AllSlug, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return len(arts)
}

// articlePrefix begins every stored article (its JSON encoding).
var articlePrefix = []byte(`{"id":"`)

// truncateMidArticles cuts raw (a compacted bbolt file) just after the
// middle one of its leaf pages that hold articles, and counts the articles
// on the leaf pages it keeps whole. bbolt lays a compacted file out in an
// order that changes from run to run, so a cut at a fixed offset may keep
// most articles or none.
func truncateMidArticles(raw []byte) (cut []byte, kept int) {
	size := int(binary.NativeEndian.Uint32(raw[16+8:]))
	end := func(id int) int {
		return min((id+1+int(binary.NativeEndian.Uint32(raw[id*size+12:])))*size, len(raw))
	}
	var pages []int
	for _, id := range pagesOf(raw, leafPage) {
		if bytes.Contains(raw[id*size:end(id)], articlePrefix) {
			pages = append(pages, id)
		}
	}
	mid := pages[len(pages)/2]
	for _, id := range pages {
		if end(id) <= end(mid) {
			kept += bytes.Count(raw[id*size:end(id)], articlePrefix)
		}
	}
	return raw[:end(mid)], kept
}

// TestSalvageTruncatedDatabase salvages a truncated store with the real
// binary: every article on a kept page comes back, the new file passes
// check -db and the daemon serves it; salvage refuses to overwrite its
// output and to run beside the daemon.
func TestSalvageTruncatedDatabase(t *testing.T) {
	cfg, addr, db, raw := storeFixture(t)
	total := storedCount(t, db)
	cut, kept := truncateMidArticles(raw)
	writeFile(t, db, string(cut))
	out := filepath.Join(t.TempDir(), "salvaged.db")
	r := tributary(t, "salvage", "-config", cfg, out)
	if r.code != 0 || !strings.Contains(r.stdout, "; check ok") || !strings.Contains(r.stdout, "lost: ") {
		t.Fatalf("salvage: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	t.Logf("salvage of a store of %d articles truncated after its middle page of articles (%d articles on the kept pages):\n%s", total, kept, r.stdout)
	got := storedCount(t, out)
	if kept < total/5 || got < kept || !strings.Contains(r.stdout, fmt.Sprintf("%s: %d articles", out, got)) {
		t.Errorf("salvaged %d of %d articles, want every one of the %d on the kept pages, as reported", got, total, kept)
	}
	if r := tributary(t, "salvage", "-config", cfg, out); r.code != 1 || !strings.Contains(r.stderr, "file already exists") {
		t.Errorf("salvage over its own output: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.Rename(out, db); err != nil {
		t.Fatal(err)
	}
	if r := tributary(t, "check", "-db", "-config", cfg); r.code != 0 {
		t.Fatalf("check -db of the salvaged file: exit %d\n%s", r.code, r.stderr)
	}
	d := startServe(t, cfg, addr)
	code, body := get(t, "http://"+addr+"/feeds/all.atom?limit=200")
	if n := strings.Count(body, "<entry>"); code != http.StatusOK || n != min(got, 200) {
		t.Errorf("GET /feeds/all.atom of the salvaged store: %d with %d entries, want %d", code, n, min(got, 200))
	}
	if r := tributary(t, "salvage", "-config", cfg, filepath.Join(t.TempDir(), "again.db")); r.code != 1 ||
		!strings.Contains(r.stderr, "stop the daemon before salvaging") {
		t.Errorf("salvage beside the daemon: exit %d\n%s", r.code, r.stderr)
	}
	if code, _ := d.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("serve after SIGINT: exit %d\n%s", code, d.stderr.String())
	}
}

var (
	verifyFixtureOnce sync.Once
	verifyFixture     []byte
)

// FuzzVerifyDB damages a real store at an offset with a byte mask (or
// truncates it there) and runs the parent side of the database check:
// the child may die, the parent never does; and when the child passes
// the file, opening and checking it in this process does not crash.
func FuzzVerifyDB(f *testing.F) {
	for _, seed := range []struct {
		off      uint32
		mask     byte
		truncate bool
	}{
		{16 + 20, 0xff, false},     // meta page 0
		{4096*3 + 10, 0x7f, false}, // a page's element count
		{4096*5 + 20, 0xa5, false}, // an element's offset
		{4096 * 20, 0, true},
		{4096*9 + 8, 0x03, false}, // a page's type
		{4096*12 + 100, 0x20, false},
	} {
		f.Add(seed.off, seed.mask, seed.truncate)
	}
	f.Fuzz(func(t *testing.T, off uint32, mask byte, truncate bool) {
		verifyFixtureOnce.Do(func() { _, _, _, verifyFixture = storeFixture(t) })
		raw := append([]byte(nil), verifyFixture...)
		at := int(off) % len(raw)
		if truncate {
			raw = raw[:at]
		} else {
			for i := at; i < min(at+32, len(raw)); i++ {
				raw[i] ^= mask
			}
		}
		path := filepath.Join(t.TempDir(), dbFile)
		writeFile(t, path, string(raw))
		err := verifyDB(t.Context(), binPath, path)
		if _, ok := errors.AsType[damagedError](err); ok {
			return
		}
		if err != nil {
			t.Fatalf("verifyDB: %v", err)
		}
		s, err := storage.Open(path, storage.Options{})
		if err != nil {
			return // refused cleanly, e.g. a value that is not a schema version
		}
		_ = s.Check(t.Context())
		_, _ = s.Latest(t.Context(), storage.AllSlug, 1<<20)
		_, _ = s.SourceStates(t.Context())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestServeSurvivesDamageUnderIt truncates the database file under a
// running daemon, as a failing disk would: requests that read the lost
// pages fail with 500, and the daemon keeps running.
func TestServeSurvivesDamageUnderIt(t *testing.T) {
	cfg, addr, db, raw := storeFixture(t)
	d := startServe(t, cfg, addr)
	if err := os.Truncate(db, int64(len(raw)/4)); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, slug := range []string{"all", "world", "tech"} {
		resp, err := http.Get("http://" + addr + "/feeds/" + slug + ".atom?limit=200")
		if err != nil {
			t.Fatalf("GET %s.atom: %v\nserve's log:\n%s", slug, err, d.stderr.String())
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusInternalServerError {
			failed++
		}
	}
	if failed == 0 {
		t.Errorf("no request failed after the file lost three quarters of its pages")
	}
	select {
	case err := <-d.done:
		t.Fatalf("serve died (%v):\n%s", err, d.stderr.String())
	default:
	}
	if !strings.Contains(d.stderr.String(), "request failed with a panic") {
		t.Errorf("serve logged no failed request:\n%s", d.stderr.String())
	}
	if code, _ := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve after SIGTERM: exit %d\n%s", code, d.stderr.String())
	}
}
