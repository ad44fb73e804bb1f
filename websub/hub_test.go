package websub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testTopic = "https://agg.example/feeds/world.atom"

// topics is a Render function over documents the test changes.
type topics struct {
	mu   sync.Mutex
	docs map[string]string
}

func (tp *topics) set(topic, body string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.docs[topic] = body
}

func (tp *topics) render(_ context.Context, topic string) (Document, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	body, ok := tp.docs[topic]
	if !ok {
		return Document{}, ErrUnknownTopic
	}
	return Document{Body: []byte(body), ContentType: "application/atom+xml; charset=utf-8"}, nil
}

// callback is a loopback subscriber that follows the spec: it answers
// verification by echoing hub.challenge (or what answer returns), and
// records every request.
type callback struct {
	srv *httptest.Server
	mu  sync.Mutex
	// answer returns the status and body for a verification query.
	answer func(q url.Values) (int, string)
	// pushStatus is the status of the next pushes, in order; 204 after.
	pushStatus []int
	verifies   []url.Values
	pushes     []*http.Request
	bodies     []string
	pushed     chan struct{}
}

func newCallback(t *testing.T) *callback {
	c := &callback{
		answer: func(q url.Values) (int, string) { return http.StatusOK, q.Get("hub.challenge") },
		pushed: make(chan struct{}, 16),
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if r.Method == http.MethodGet {
			c.verifies = append(c.verifies, r.URL.Query())
			code, body := c.answer(r.URL.Query())
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
			return
		}
		body, _ := io.ReadAll(r.Body)
		c.pushes = append(c.pushes, r)
		c.bodies = append(c.bodies, string(body))
		code := http.StatusNoContent
		if len(c.pushStatus) > 0 {
			code, c.pushStatus = c.pushStatus[0], c.pushStatus[1:]
		}
		w.WriteHeader(code)
		c.pushed <- struct{}{}
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *callback) url() string { return c.srv.URL + "/cb?x=1" }

func (c *callback) counts() (verifies, pushes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.verifies), len(c.pushes)
}

// hubFixture is a hub on a real store, served over loopback.
type hubFixture struct {
	hub    *Hub
	srv    *httptest.Server
	topics *topics
	clock  *clock
	path   string
}

func newHubFixture(t *testing.T, path string, clk *clock, client *http.Client) *hubFixture {
	t.Helper()
	tp := &topics{docs: map[string]string{testTopic: "<feed>v1</feed>"}}
	h, err := NewHub(t.Context(), HubOptions{
		URL: "https://agg.example/websub", Store: openStore(t, path), Render: tp.render,
		Client: client, Logger: testLogger(t), Now: clk.Now, RetryBase: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &hubFixture{hub: h, srv: srv, topics: tp, clock: clk, path: path}
}

// request posts a subscription form to the hub and returns the status.
func (f *hubFixture) request(t *testing.T, form url.Values) int {
	t.Helper()
	resp, err := http.PostForm(f.srv.URL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// subscribe posts a subscription request and runs its verification.
func (f *hubFixture) subscribe(t *testing.T, form url.Values) {
	t.Helper()
	if code := f.request(t, form); code != http.StatusAccepted {
		t.Fatalf("subscribe: status %d, want 202", code)
	}
	f.hub.verify(t.Context(), <-f.hub.requests)
}

func subscribeForm(cb, secret, lease string) url.Values {
	v := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {testTopic}, "hub.callback": {cb}}
	if secret != "" {
		v.Set("hub.secret", secret)
	}
	if lease != "" {
		v.Set("hub.lease_seconds", lease)
	}
	return v
}

// TestHubFollowsSpec walks a subscription through the spec: the request
// is accepted with 202, the intent is verified with a GET carrying mode,
// topic, challenge and lease on top of the callback's own query, a change
// of the topic is delivered signed with the topic's Content-Type and Link
// headers, and an unchanged topic is not delivered again.
func TestHubFollowsSpec(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	cb := newCallback(t)
	f.subscribe(t, subscribeForm(cb.url(), "s3cret", "86400"))

	q := cb.verifies[0]
	got := map[string]string{"x": q.Get("x"), "mode": q.Get("hub.mode"), "topic": q.Get("hub.topic"), "lease": q.Get("hub.lease_seconds")}
	want := map[string]string{"x": "1", "mode": "subscribe", "topic": testTopic, "lease": "86400"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verification query (-want +got):\n%s", diff)
	}
	if len(q.Get("hub.challenge")) < 16 {
		t.Errorf("challenge %q too short", q.Get("hub.challenge"))
	}
	if n := f.hub.Stats().Subscriptions; n != 1 {
		t.Fatalf("%d subscriptions after verification, want 1", n)
	}

	f.hub.Publish(t.Context())
	if _, pushes := cb.counts(); pushes != 0 {
		t.Fatalf("unchanged topic delivered %d times", pushes)
	}
	f.topics.set(testTopic, "<feed>v2</feed>")
	f.hub.Publish(t.Context())
	f.hub.Publish(t.Context())
	if _, pushes := cb.counts(); pushes != 1 {
		t.Fatalf("changed topic delivered %d times, want 1", pushes)
	}
	r := cb.pushes[0]
	if !Verify("s3cret", []byte(cb.bodies[0]), r.Header.Get(SignatureHeader)) || !strings.HasPrefix(r.Header.Get(SignatureHeader), "sha256=") {
		t.Errorf("signature %q does not verify", r.Header.Get(SignatureHeader))
	}
	gotHdr := []string{cb.bodies[0], r.Header.Get("Content-Type"), strings.Join(r.Header.Values("Link"), ", ")}
	wantHdr := []string{"<feed>v2</feed>", "application/atom+xml; charset=utf-8",
		`<https://agg.example/websub>; rel="hub", <` + testTopic + `>; rel="self"`}
	if diff := cmp.Diff(wantHdr, gotHdr); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
}

// TestHubBadEchoNotActivated checks that a callback that does not echo
// the challenge exactly with a 2xx gets no subscription.
func TestHubBadEchoNotActivated(t *testing.T) {
	tests := []struct {
		name   string
		answer func(q url.Values) (int, string)
	}{
		{"wrong challenge", func(url.Values) (int, string) { return http.StatusOK, "nope" }},
		{"challenge with newline", func(q url.Values) (int, string) { return http.StatusOK, q.Get("hub.challenge") + "\n" }},
		{"empty body", func(url.Values) (int, string) { return http.StatusOK, "" }},
		{"404 with challenge", func(q url.Values) (int, string) { return http.StatusNotFound, q.Get("hub.challenge") }},
		{"redirect", func(q url.Values) (int, string) { return http.StatusFound, q.Get("hub.challenge") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHubFixture(t, newStorePath(t), newClock(), nil)
			cb := newCallback(t)
			cb.answer = tt.answer
			f.subscribe(t, subscribeForm(cb.url(), "", ""))
			if v, _ := cb.counts(); v != 1 {
				t.Fatalf("%d verifications, want 1", v)
			}
			if n := f.hub.Stats().Subscriptions; n != 0 {
				t.Errorf("%d subscriptions, want 0", n)
			}
		})
	}
}

// TestHubLeaseBoundsAndExpiry checks the lease granted for a request, and
// that an expired lease is neither delivered nor kept.
func TestHubLeaseBoundsAndExpiry(t *testing.T) {
	tests := []struct{ asked, granted string }{
		{"", "864000"}, {"10", "3600"}, {"7200", "7200"}, {"999999999", "2592000"},
	}
	for _, tt := range tests {
		t.Run("asked "+tt.asked, func(t *testing.T) {
			clk := newClock()
			f := newHubFixture(t, newStorePath(t), clk, nil)
			cb := newCallback(t)
			f.subscribe(t, subscribeForm(cb.url(), "", tt.asked))
			if got := cb.verifies[0].Get("hub.lease_seconds"); got != tt.granted {
				t.Fatalf("lease %s, want %s", got, tt.granted)
			}
			f.topics.set(testTopic, "<feed>v2</feed>")
			clk.Add(time.Duration(atoi(t, tt.granted)) * time.Second)
			f.hub.Publish(t.Context())
			if _, pushes := cb.counts(); pushes != 0 {
				t.Errorf("expired subscription got %d deliveries", pushes)
			}
			f.hub.Expire(t.Context())
			if n := f.hub.Stats().Subscriptions; n != 0 {
				t.Errorf("%d subscriptions after expiry, want 0", n)
			}
		})
	}
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

// TestHubRetriesWithBackoff checks that a failed delivery is retried only
// once its backoff has passed, twice as long after each failure, and that
// a 410 ends the subscription.
func TestHubRetriesWithBackoff(t *testing.T) {
	clk := newClock()
	f := newHubFixture(t, newStorePath(t), clk, nil)
	cb := newCallback(t)
	cb.pushStatus = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusOK, http.StatusGone}
	f.subscribe(t, subscribeForm(cb.url(), "", ""))
	f.topics.set(testTopic, "<feed>v2</feed>")
	steps := []struct {
		advance time.Duration
		pushes  int
	}{
		{0, 1},                // fails: retry in 1m
		{59 * time.Second, 1}, // not yet
		{time.Second, 2},      // fails: retry in 2m
		{time.Minute, 2},      // not yet
		{time.Minute, 3},      // delivered
		{time.Hour, 3},        // nothing new
	}
	for i, s := range steps {
		clk.Add(s.advance)
		f.hub.Publish(t.Context())
		if _, pushes := cb.counts(); pushes != s.pushes {
			t.Fatalf("step %d: %d deliveries, want %d", i, pushes, s.pushes)
		}
	}
	f.topics.set(testTopic, "<feed>v3</feed>")
	f.hub.Publish(t.Context())
	if n := f.hub.Stats().Subscriptions; n != 0 {
		t.Errorf("%d subscriptions after a 410, want 0", n)
	}
}

// TestHubSurvivesRestart reopens the store with a new hub and delivers a
// change to the subscription made before.
func TestHubSurvivesRestart(t *testing.T) {
	path, clk := newStorePath(t), newClock()
	cb := newCallback(t)
	t.Run("subscribe", func(t *testing.T) {
		f := newHubFixture(t, path, clk, nil)
		f.subscribe(t, subscribeForm(cb.url(), "k", ""))
	})
	f := newHubFixture(t, path, clk, nil)
	if n := f.hub.Stats().Subscriptions; n != 1 {
		t.Fatalf("%d subscriptions after restart, want 1", n)
	}
	f.topics.set(testTopic, "<feed>v2</feed>")
	f.hub.Publish(t.Context())
	if _, pushes := cb.counts(); pushes != 1 || !Verify("k", []byte(cb.bodies[0]), cb.pushes[0].Header.Get(SignatureHeader)) {
		t.Errorf("after restart: %d signed deliveries, want 1", pushes)
	}
}

// TestHubUnsubscribe verifies an unsubscription and stops deliveries.
func TestHubUnsubscribe(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	cb := newCallback(t)
	f.subscribe(t, subscribeForm(cb.url(), "", ""))
	form := subscribeForm(cb.url(), "", "")
	form.Set("hub.mode", "unsubscribe")
	f.subscribe(t, form)
	if got := cb.verifies[1].Get("hub.mode"); got != "unsubscribe" {
		t.Errorf("verification mode %q", got)
	}
	if n := f.hub.Stats().Subscriptions; n != 0 {
		t.Errorf("%d subscriptions after unsubscribe, want 0", n)
	}
}

// TestHubDeniesUnknownTopic sends hub.mode=denied for a topic that is not
// a feed of the hub, and verifies nothing.
func TestHubDeniesUnknownTopic(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	cb := newCallback(t)
	form := subscribeForm(cb.url(), "", "")
	form.Set("hub.topic", "https://elsewhere.example/feed")
	f.subscribe(t, form)
	if len(cb.verifies) != 1 || cb.verifies[0].Get("hub.mode") != "denied" || cb.verifies[0].Get("hub.challenge") != "" {
		t.Fatalf("callback got %v, want one denial", cb.verifies)
	}
	if n := f.hub.Stats().Subscriptions; n != 0 {
		t.Errorf("%d subscriptions, want 0", n)
	}
}

// TestHubBoundsSubscriptions denies a new subscription beyond
// MaxSubscriptions, but renews an existing one.
func TestHubBoundsSubscriptions(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	f.hub.opts.MaxSubscriptions = 1
	first, second := newCallback(t), newCallback(t)
	f.subscribe(t, subscribeForm(first.url(), "", ""))
	f.subscribe(t, subscribeForm(second.url(), "", ""))
	f.subscribe(t, subscribeForm(first.url(), "", "7200"))
	if got := second.verifies[0].Get("hub.mode"); got != "denied" {
		t.Errorf("second subscriber got mode %q, want denied", got)
	}
	if got := first.verifies[1].Get("hub.lease_seconds"); got != "7200" || f.hub.Stats().Subscriptions != 1 {
		t.Errorf("renewal: lease %q, %d subscriptions", got, f.hub.Stats().Subscriptions)
	}
}

// TestHubDropsGoneTopic removes the subscriptions to a feed that is no
// longer served.
func TestHubDropsGoneTopic(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	cb := newCallback(t)
	f.subscribe(t, subscribeForm(cb.url(), "", ""))
	f.topics.mu.Lock()
	delete(f.topics.docs, testTopic)
	f.topics.mu.Unlock()
	f.hub.Publish(t.Context())
	if n := f.hub.Stats().Subscriptions; n != 0 {
		t.Errorf("%d subscriptions to a gone topic, want 0", n)
	}
}

// TestHubRefusesPrivateCallback checks that a callback at a private
// address is never contacted when private addresses are refused.
func TestHubRefusesPrivateCallback(t *testing.T) {
	all := func(netip.Addr) bool { return true }
	f := newHubFixture(t, newStorePath(t), newClock(), NewClient(all))
	cb := newCallback(t)
	f.subscribe(t, subscribeForm(cb.url(), "", ""))
	if v, _ := cb.counts(); v != 0 {
		t.Errorf("private callback contacted %d times", v)
	}
	if n := f.hub.Stats().Subscriptions; n != 0 {
		t.Errorf("%d subscriptions, want 0", n)
	}
}

// TestHubRejectsBadRequests checks the 4xx answers to malformed requests.
func TestHubRejectsBadRequests(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	cb := "https://sub.example/cb"
	tests := []struct {
		name string
		form url.Values
	}{
		{"no mode", url.Values{"hub.topic": {testTopic}, "hub.callback": {cb}}},
		{"publish mode", url.Values{"hub.mode": {"publish"}, "hub.topic": {testTopic}, "hub.callback": {cb}}},
		{"no topic", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {cb}}},
		{"ftp callback", subscribeForm("ftp://sub.example/cb", "", "")},
		{"relative callback", subscribeForm("/cb", "", "")},
		{"secret of 200 bytes", subscribeForm(cb, strings.Repeat("s", 200), "")},
		{"negative lease", subscribeForm(cb, "", "-5")},
		{"lease not a number", subscribeForm(cb, "", "1d")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := f.request(t, tt.form); code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
		})
	}
	resp, err := http.Get(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}
	if len(f.hub.requests) != 0 {
		t.Errorf("%d bad requests queued", len(f.hub.requests))
	}
}

// TestHubRunPushesWithinTwoSeconds runs the hub as the daemon does: a
// subscription verified by Run, then Changed after a new article, which
// must reach the subscriber within 2 seconds.
func TestHubRunPushesWithinTwoSeconds(t *testing.T) {
	f := newHubFixture(t, newStorePath(t), newClock(), nil)
	cb := newCallback(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	verified := make(chan struct{}, 1)
	cb.answer = func(q url.Values) (int, string) {
		verified <- struct{}{}
		return http.StatusOK, q.Get("hub.challenge")
	}
	if code := f.request(t, subscribeForm(cb.url(), "s", "")); code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	<-verified
	for f.hub.Stats().Subscriptions == 0 { // stored right after the answer
		time.Sleep(time.Millisecond)
	}
	f.topics.set(testTopic, "<feed>new article</feed>")
	start := time.Now()
	f.hub.Changed()
	select {
	case <-cb.pushed:
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("pushed after %v", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no push within 2s")
	}
}
