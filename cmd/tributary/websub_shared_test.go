package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary/tributary/pgtest"
)

// sharedWebSubConfig writes the config of one instance on dbURL at its own
// address, with base_url base, the WebSub settings websub and the sources
// feeds (YAML list items).
func sharedWebSubConfig(t *testing.T, dbURL, base, websub, feeds string) (cfg, addr string) {
	t.Helper()
	dir := t.TempDir()
	addr = freeAddr(t)
	if base == "" {
		base = "http://news.example"
	}
	cfg = filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf(`listen: %s
base_url: %s
data_dir: %s
database: %s
schedule: "@every 1h"
retention:
  max_age: 87600h
log:
  level: debug
fetch:
  host_interval: 0s
  allow_private_redirects: true # the hubs and callbacks are on loopback
websub:
%sfeeds:
%s`, addr, base, filepath.Join(dir, "data"), dbURL, websub, feeds))
	return cfg, addr
}

// leaderOf waits for one of ins to log that it leads and returns its index.
func leaderOf(t *testing.T, ins []*daemon) int {
	t.Helper()
	leader := -1
	waitFor(t, 10*time.Second, "a leader", func() bool {
		for k, d := range ins {
			if strings.Count(d.stderr.String(), `msg="leadership gained"`) > strings.Count(d.stderr.String(), `msg="leadership lost"`) {
				leader = k
				return true
			}
		}
		return false
	})
	return leader
}

// TestWebSubSharedHub runs the built-in hub on two instances of one
// database: a reader subscribes through the first; a story stored by a
// fetch with the second's config reaches it once, within seconds, from
// the instance that leads; once the leader is killed, the other instance
// delivers the next story.
func TestWebSubSharedHub(t *testing.T) {
	f := newFarm(t)
	dbURL := pgtest.NewDatabase(t)
	source := f.srv.URL + farmPath(0)
	var (
		ins         []*daemon
		cfgs, addrs []string
	)
	for range 2 {
		cfg, addr := sharedWebSubConfig(t, dbURL, "", "  hub: builtin\n", "  - url: "+source+"\n    categories: [C0]\n")
		ins, cfgs, addrs = append(ins, startServe(t, cfg, addr)), append(cfgs, cfg), append(addrs, addr)
	}
	logOnFailure(t, ins, addrs)
	waitFor(t, 30*time.Second, "the source fetched", func() bool { return f.count(0) == 1 })

	rd := newReader(t)
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"http://news.example/feeds/c0.atom"},
		"hub.callback": {rd.srv.URL + "/cb"}, "hub.secret": {rd.secret}}
	resp, err := http.PostForm("http://"+addrs[0]+"/websub", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe through the first instance: status %d", resp.StatusCode)
	}
	waitFor(t, 10*time.Second, "the subscription verified and stored by the first instance", func() bool {
		return strings.Contains(ins[0].stderr.String(), `msg="websub subscribed"`)
	})
	leader := leaderOf(t, ins)

	// deliver stores story j of the source by a fetch with the config of
	// instance k, and waits for the reader to get it, once.
	deliver := func(k, j int) {
		t.Helper()
		f.add(0)
		start := time.Now()
		if r := tributary(t, "fetch", "-config", cfgs[k], "-feed", source); r.code != 0 {
			t.Fatalf("fetch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		select {
		case body := <-rd.pushes:
			if !strings.Contains(body, farmTitle(0, j)) {
				t.Fatalf("push lacks story %s (a duplicate of an earlier one?):\n%s", farmTitle(0, j), body)
			}
			t.Logf("story %d fetched with instance %d's config and pushed %v after the fetch started", j, k, time.Since(start).Round(time.Millisecond))
		case <-time.After(5 * time.Second):
			t.Fatalf("story %d not pushed within 5s", j)
		}
	}
	deliver(1, 2)
	if err := ins[leader].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-ins[leader].done
	killed := time.Now()
	other := 1 - leader
	deliver(other, 3)
	t.Logf("the leader was SIGKILLed; the other instance delivered %v after", time.Since(killed).Round(time.Millisecond))
	if n := len(rd.pushes); n != 0 {
		t.Errorf("%d more pushes, want none: each story is delivered once", n)
	}
}

// logOnFailure shows the logs of the instances at the end of a failed
// test.
func logOnFailure(t *testing.T, ins []*daemon, addrs []string) {
	t.Cleanup(func() {
		if t.Failed() {
			for k, d := range ins {
				t.Logf("instance %s log:\n%s", addrs[k], d.stderr.String())
			}
		}
	})
}

// TestWebSubSharedSubscriber runs the subscriber on two instances of one
// database behind one balancer, which sends the source hub's verification
// and pushes to the instance that did not request the subscription: it
// verifies it from the store, takes the push, and both serve the pushed
// story.
func TestWebSubSharedSubscriber(t *testing.T) {
	src := newPushSource(t)
	src.gate = make(chan struct{})
	dbURL := pgtest.NewDatabase(t)
	var target atomic.Pointer[url.URL]
	open := make(chan struct{})
	balancer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-open
		httputil.NewSingleHostReverseProxy(target.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(balancer.Close)
	var ins []*daemon
	var addrs []string
	for range 2 {
		cfg, addr := sharedWebSubConfig(t, dbURL, balancer.URL, "  subscribe: true\n", "  - url: "+src.feedURL()+"\n    categories: [World]\n")
		ins, addrs = append(ins, startServe(t, cfg, addr)), append(addrs, addr)
	}
	logOnFailure(t, ins, addrs)
	close(src.gate) // both instances hold the subscriptions they loaded at start
	requester := -1
	waitFor(t, 30*time.Second, "a subscription requested", func() bool {
		for k, d := range ins {
			if strings.Contains(d.stderr.String(), `msg="websub subscription requested"`) {
				requester = k
				return true
			}
		}
		return false
	})
	other := 1 - requester
	target.Store(&url.URL{Scheme: "http", Host: addrs[other]})
	close(open)
	waitFor(t, 10*time.Second, "the verification answered by the other instance", func() bool {
		return strings.Contains(ins[other].stderr.String(), `msg="websub subscription verified"`) && src.hub.Stats().Subscriptions == 1
	})

	src.add("Story pushed to the other instance")
	src.hub.Changed()
	for _, addr := range addrs {
		waitFor(t, 5*time.Second, "the pushed story served by "+addr, func() bool {
			_, body := get(t, "http://"+addr+"/feeds/world.atom")
			return strings.Contains(body, "Story pushed to the other instance")
		})
	}
}
