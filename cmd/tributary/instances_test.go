package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/pgtest"
)

// farmSources and farmCategories size the farm of the multi-instance
// tests: sources /feed/0 … /feed/11, source i in category ci%3.
const (
	farmSources    = 12
	farmCategories = 3
)

// farm serves farmSources RSS feeds on loopback, two items each at first,
// and records every request per path. A held path answers only once
// release is closed (or its client is gone).
type farm struct {
	srv     *httptest.Server
	mu      sync.Mutex
	hits    map[string]int
	extra   map[int]int // items added to a source
	held    map[string]bool
	release chan struct{}
}

func newFarm(t *testing.T, held ...int) *farm {
	t.Helper()
	f := &farm{hits: map[string]int{}, extra: map[int]int{}, held: map[string]bool{}, release: make(chan struct{})}
	for _, i := range held {
		f.held[farmPath(i)] = true
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func farmPath(i int) string { return fmt.Sprintf("/feed/%d", i) }

func (f *farm) serve(w http.ResponseWriter, r *http.Request) {
	var i int
	if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &i); err != nil || i < 0 || i >= farmSources {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.hits[r.URL.Path]++
	held, n := f.held[r.URL.Path], 2+f.extra[i]
	f.mu.Unlock()
	if held {
		select {
		case <-f.release:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	_, _ = w.Write(farmFeed(i, n))
}

// count returns the requests for source i so far.
func (f *farm) count(i int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[farmPath(i)]
}

// add makes source i serve one more item.
func (f *farm) add(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extra[i]++
}

// farmTitle is the title of item j of source i, unique in the farm.
func farmTitle(i, j int) string { return fmt.Sprintf("Farm story %d-%d", i, j) }

// farmFeed is the RSS document of source i with n items, each with text
// of its own (no two items are near-duplicates).
func farmFeed(i, n int) []byte {
	words := []string{"harbour", "ledger", "quartz", "meadow", "turbine", "saffron", "glacier", "verdict",
		"orchard", "cobalt", "lantern", "ferry", "thistle", "bazaar", "canyon", "mosaic", "pylon", "walrus"}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Farm %d</title><link>http://farm.example/%d</link><description>farm</description>`, i, i)
	for j := range n {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(j)))
		text := make([]string, 40)
		for k := range text {
			text[k] = words[rng.IntN(len(words))]
		}
		fmt.Fprintf(&b, `<item><title>%s</title><link>http://farm.example/%d/%d</link><guid>http://farm.example/%d/%d</guid><pubDate>%s</pubDate><description>%s</description></item>`,
			farmTitle(i, j), i, j, i, j, time.Date(2025, 3, 1+j, i, 0, 0, 0, time.UTC).Format(time.RFC1123Z), strings.Join(text, " "))
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

// instance is one serve process of a multi-instance test.
type instance struct {
	*daemon
	addr, cfg string
}

// instanceConfig writes the config of one instance on dbURL serving the
// farm: its own listen address and data_dir, the base_url all share.
func instanceConfig(t *testing.T, f *farm, dbURL string) (cfg, addr string) {
	t.Helper()
	dir := t.TempDir()
	addr = freeAddr(t)
	var b strings.Builder
	fmt.Fprintf(&b, `title: Farm
listen: %s
base_url: http://news.example
data_dir: %s
database: %s
schedule: "@every 1h"
retention:
  max_age: 87600h
log:
  level: debug
fetch:
  concurrency: 8
  per_host: 8
  host_interval: 0s
feeds:
`, addr, filepath.Join(dir, "data"), dbURL)
	for i := range farmSources {
		fmt.Fprintf(&b, "  - url: %s%s\n    categories: [C%d]\n", f.srv.URL, farmPath(i), i%farmCategories)
	}
	cfg = filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, b.String())
	return cfg, addr
}

// startInstances starts n serve processes on dbURL at once, with the
// environment env added, and waits until each is healthy.
func startInstances(t *testing.T, f *farm, dbURL string, n int, env ...string) []*instance {
	t.Helper()
	ins := make([]*instance, n)
	for k := range ins {
		cfg, addr := instanceConfig(t, f, dbURL)
		ins[k] = &instance{daemon: launchServe(t, binPath, cfg, env...), addr: addr, cfg: cfg}
	}
	for _, in := range ins {
		waitFor(t, 30*time.Second, "instance "+in.addr+" healthy", func() bool {
			select {
			case err := <-in.done:
				t.Fatalf("serve exited early (%v):\n%s", err, in.stderr.String())
			default:
			}
			resp, err := http.Get("http://" + in.addr + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	return ins
}

// passes counts the fetch passes the instance has finished.
func (in *instance) passes() int {
	return strings.Count(in.stderr.String(), `msg="fetch pass finished"`)
}

// waitPasses waits until every instance has finished a pass after the call
// (after since passes, when since is given, one count per instance).
func waitPasses(t *testing.T, ins []*instance, since ...int) {
	t.Helper()
	before := since
	if before == nil {
		before = make([]int, len(ins))
		for k, in := range ins {
			before[k] = in.passes()
		}
	}
	for k, in := range ins {
		waitFor(t, 30*time.Second, "a pass of "+in.addr, func() bool { return in.passes() > before[k] })
	}
}

// raw is one answer read without decoding its body.
type raw struct {
	status     int
	etag, body string
}

// noDecode is a client that leaves gzip bodies as they are sent.
var noDecode = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func getRaw(t *testing.T, url, encoding string) raw {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := noDecode.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw{resp.StatusCode, resp.Header.Get("ETag"), string(body)}
}

// farmDocuments are the paths of every category in every format.
func farmDocuments() []string {
	var paths []string
	for c := range farmCategories {
		for _, ext := range []string{".atom", ".rss", ".json"} {
			paths = append(paths, fmt.Sprintf("/feeds/c%d%s", c, ext))
		}
	}
	return paths
}

// checkSameDocuments checks that every instance answers every document,
// plain and gzipped, with the bytes and ETag of the first, and that the
// Atom documents hold every farm item of their category exactly once
// (sources items each).
func checkSameDocuments(t *testing.T, ins []*instance, items func(i int) int) {
	t.Helper()
	for _, path := range farmDocuments() {
		for _, enc := range []string{"identity", "gzip"} {
			want := getRaw(t, "http://"+ins[0].addr+path, enc)
			if want.status != http.StatusOK || want.etag == "" {
				t.Fatalf("%s (%s) from %s: %d, ETag %q", path, enc, ins[0].addr, want.status, want.etag)
			}
			for _, in := range ins[1:] {
				if got := getRaw(t, "http://"+in.addr+path, enc); got != want {
					t.Errorf("%s (%s): %s answers %d, ETag %s, %d bytes; %s answers %d, ETag %s, %d bytes",
						path, enc, in.addr, got.status, got.etag, len(got.body), ins[0].addr, want.status, want.etag, len(want.body))
				}
			}
		}
	}
	for c := range farmCategories {
		body := getRaw(t, fmt.Sprintf("http://%s/feeds/c%d.atom", ins[len(ins)-1].addr, c), "identity").body
		for i := c; i < farmSources; i += farmCategories {
			for j := range items(i) {
				if n := strings.Count(body, `<title type="text">`+farmTitle(i, j)+"</title>"); n != 1 {
					t.Errorf("c%d.atom holds %q %d times, want once", c, farmTitle(i, j), n)
				}
			}
		}
	}
}

// TestInstancesShareOneDatabase runs two, then three serve processes of
// the real binary on one PostgreSQL database and one farm of loopback
// feeds: together their first passes fetch each source once; every
// instance serves every document with the same bytes and ETag; and an
// article stored by another process (fetch -feed) is served by every
// instance within 5 s.
func TestInstancesShareOneDatabase(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			f := newFarm(t)
			ins := startInstances(t, f, pgtest.NewDatabase(t), n)
			waitFor(t, 30*time.Second, "every source fetched", func() bool {
				for i := range farmSources {
					if f.count(i) == 0 {
						return false
					}
				}
				return true
			})
			waitPasses(t, ins, make([]int, n)...) // every first pass has ended
			for i := range farmSources {
				if c := f.count(i); c != 1 {
					t.Errorf("%s fetched %d times by %d instances, want once", farmPath(i), c, n)
				}
			}
			checkSameDocuments(t, ins, func(int) int { return 2 })

			f.add(0)
			r := tributary(t, "fetch", "-config", ins[0].cfg, "-feed", f.srv.URL+farmPath(0))
			if r.code != 0 {
				t.Fatalf("fetch -feed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			stored := time.Now()
			for _, in := range ins {
				waitFor(t, 5*time.Second-time.Since(stored), "the new story served by "+in.addr, func() bool {
					return strings.Contains(getRaw(t, "http://"+in.addr+"/feeds/c0.atom", "identity").body, farmTitle(0, 2))
				})
			}
			t.Logf("%d instances: the story stored by fetch was served by all %s after it", n, time.Since(stored).Round(time.Millisecond))
			checkSameDocuments(t, ins, func(i int) int {
				if i == 0 {
					return 3
				}
				return 2
			})
		})
	}
}

// TestInstanceKilledMidPass has one instance claim every source and hang
// on three of them, starts two more, and SIGKILLs the first: the others
// fetch its three sources once its lease (2 s here, by $TRIBUTARY_LEASE)
// has ended, each once, within the lease and a scheduler tick; what it
// stored stays, and the database passes check -db with no story stored
// twice.
func TestInstanceKilledMidPass(t *testing.T) {
	held := []int{3, 7, 11}
	f := newFarm(t, held...)
	dbURL := pgtest.NewDatabase(t)
	lease := []string{leaseEnv + "=2s"}
	first := startInstances(t, f, dbURL, 1, lease...)[0]
	waitFor(t, 30*time.Second, "the first instance's pass to reach every source", func() bool {
		for i := range farmSources {
			if f.count(i) == 0 {
				return false
			}
		}
		return true
	})
	// What the first instance fetched besides the held sources is stored
	// and its leases released (logged after both) before it dies.
	waitFor(t, 30*time.Second, "the first instance to store the sources not held", func() bool {
		return strings.Count(first.stderr.String(), `msg="source fetched"`) == farmSources-len(held)
	})
	others := startInstances(t, f, dbURL, 2, lease...)
	waitPasses(t, others, 0, 0) // they find every source leased or done

	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killed := time.Now()
	close(f.release)
	waitFor(t, 2*time.Second+fetcher.Tick+10*time.Second, "the killed instance's sources fetched again", func() bool {
		for _, i := range held {
			if f.count(i) < 2 {
				return false
			}
		}
		return true
	})
	t.Logf("the killed instance's sources were fetched again %s after SIGKILL", time.Since(killed).Round(time.Millisecond))
	waitPasses(t, others)
	for i := range farmSources {
		want := 1
		for _, h := range held {
			if i == h {
				want = 2 // the killed instance's request, then one other's
			}
		}
		if c := f.count(i); c != want {
			t.Errorf("%s requested %d times, want %d", farmPath(i), c, want)
		}
	}
	if r := tributary(t, "check", "-db", "-config", others[0].cfg); r.code != 0 {
		t.Fatalf("check -db: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkSameDocuments(t, others, func(int) int { return 2 })
}
