package websub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sourceURL = "https://source.example/feed.xml"

// ingested records the pushes a Subscriber hands over.
type ingested struct {
	mu     sync.Mutex
	bodies []string
	got    chan struct{}
}

func (in *ingested) ingest(_ context.Context, feedURL string, body []byte, contentType string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.bodies = append(in.bodies, feedURL+" "+contentType+" "+string(body))
	select {
	case in.got <- struct{}{}:
	default:
	}
	return nil
}

func (in *ingested) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.bodies)
}

// subFixture is a subscriber on a real store with its callbacks served
// over loopback, and our hub as the loopback hub it subscribes to.
type subFixture struct {
	sub  *Subscriber
	srv  *httptest.Server
	in   *ingested
	hub  *hubFixture
	clk  *clock
	path string
}

func newSubFixture(t *testing.T, path string, clk *clock, hub *hubFixture) *subFixture {
	t.Helper()
	f := &subFixture{in: &ingested{got: make(chan struct{}, 16)}, clk: clk, path: path, hub: hub}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	sub, err := NewSubscriber(t.Context(), SubscriberOptions{
		CallbackURL: f.srv.URL + "/websub/callback", Store: openStore(t, path), Ingest: f.in.ingest,
		Logger: testLogger(t), Now: clk.Now, MaxBody: 1 << 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/websub/callback/", sub)
	f.sub = sub
	return f
}

// observe makes the subscriber subscribe to the fixture's hub, and the
// hub verify it.
func (f *subFixture) observe(t *testing.T) {
	t.Helper()
	f.sub.Observe(t.Context(), sourceURL, f.hub.srv.URL, testTopic)
	for len(f.hub.hub.requests) > 0 {
		f.hub.hub.verify(t.Context(), <-f.hub.hub.requests)
	}
}

// callbackURL returns the callback of the source's subscription.
func (f *subFixture) callbackURL(t *testing.T) string {
	t.Helper()
	f.sub.mu.Lock()
	defer f.sub.mu.Unlock()
	r := f.sub.byFeed[sourceURL]
	if r == nil {
		t.Fatal("no subscription")
	}
	return f.sub.callback(r.ID)
}

// TestSubscriberWithHub subscribes through a real hub, receives its
// signed delivery, and ingests it as the source's document.
func TestSubscriberWithHub(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	f := newSubFixture(t, newStorePath(t), clk, hub)
	f.observe(t)
	if !f.sub.Pushed(sourceURL) {
		t.Fatal("not subscribed after the hub's verification")
	}
	if got := (SubscriberStats{Active: 1}); f.sub.Stats() != got {
		t.Errorf("stats %+v, want %+v", f.sub.Stats(), got)
	}
	hub.topics.set(testTopic, "<feed>pushed</feed>")
	hub.hub.Publish(t.Context())
	want := []string{sourceURL + " application/atom+xml; charset=utf-8 <feed>pushed</feed>"}
	if diff := cmp.Diff(want, f.in.bodies); diff != "" {
		t.Errorf("ingested (-want +got):\n%s", diff)
	}
	// A second observation within the lease asks nothing.
	f.observe(t)
	if v := len(hub.hub.requests); v != 0 || hub.hub.Stats().Subscriptions != 1 {
		t.Errorf("re-observed: %d requests queued", v)
	}
}

// TestSubscriberDropsBadPushes checks that pushes without a valid
// signature, to unknown subscriptions or too large are dropped and
// counted, never ingested.
func TestSubscriberDropsBadPushes(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	f := newSubFixture(t, newStorePath(t), clk, hub)
	f.observe(t)
	cb := f.callbackURL(t)
	f.sub.mu.Lock()
	secret := f.sub.byFeed[sourceURL].Secret
	f.sub.mu.Unlock()
	body := "<feed>forged</feed>"
	tests := []struct {
		name, url, sig, body string
		want                 int
	}{
		{"unsigned", cb, "", body, http.StatusAccepted},
		{"wrong secret", cb, Sign("guess", []byte(body)), body, http.StatusAccepted},
		{"signature of another body", cb, Sign(secret, []byte("other")), body, http.StatusAccepted},
		{"unknown method", cb, "md5=00", body, http.StatusAccepted},
		{"unknown subscription", f.srv.URL + "/websub/callback/0123", Sign(secret, []byte(body)), body, http.StatusGone},
		{"too large", cb, Sign(secret, []byte(strings.Repeat("x", 2000))), strings.Repeat("x", 2000), http.StatusRequestEntityTooLarge},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := push(t, tt.url, tt.sig, tt.body); code != tt.want {
				t.Errorf("status %d, want %d", code, tt.want)
			}
			if st := f.sub.Stats(); st.Dropped != int64(i+1) || st.Pushes != 0 {
				t.Errorf("stats %+v, want %d dropped", st, i+1)
			}
		})
	}
	if n := f.in.count(); n != 0 {
		t.Errorf("%d bad pushes ingested", n)
	}
	if code := push(t, cb, Sign(secret, []byte(body)), body); code != http.StatusNoContent || f.in.count() != 1 {
		t.Errorf("signed push: status %d, %d ingested", code, f.in.count())
	}
}

// push posts body to a callback with the signature sig.
func push(t *testing.T, cb, sig, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, cb, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/rss+xml")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSubscriberAnswersOnlyItsRequests checks that verifications are
// echoed only for a request the subscriber made and waits for.
func TestSubscriberAnswersOnlyItsRequests(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	f := newSubFixture(t, newStorePath(t), clk, hub)
	f.sub.Observe(t.Context(), sourceURL, hub.srv.URL, testTopic) // pending, not verified
	cb := f.callbackURL(t)
	tests := []struct {
		name  string
		url   string
		query url.Values
		want  int
	}{
		{"unknown id", f.srv.URL + "/websub/callback/ffff", url.Values{"hub.mode": {"subscribe"}, "hub.topic": {testTopic}, "hub.challenge": {"c"}}, 404},
		{"other topic", cb, url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://x.example/"}, "hub.challenge": {"c"}}, 404},
		{"unsubscribe not asked", cb, url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {testTopic}, "hub.challenge": {"c"}}, 404},
		{"no challenge", cb, url.Values{"hub.mode": {"subscribe"}, "hub.topic": {testTopic}}, 404},
		{"asked", cb, url.Values{"hub.mode": {"subscribe"}, "hub.topic": {testTopic}, "hub.challenge": {"c1"}, "hub.lease_seconds": {"7200"}}, 200},
		{"no longer pending", cb, url.Values{"hub.mode": {"subscribe"}, "hub.topic": {testTopic}, "hub.challenge": {"c2"}}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url + "?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 200 && string(body) != tt.query.Get("hub.challenge") {
				t.Errorf("echo %q", body)
			}
		})
	}
	if !f.sub.Pushed(sourceURL) {
		t.Error("not active after the verification it asked for")
	}
}

// TestSubscriberRenewsAndUnsubscribes moves the clock to the renewal
// time, then drops the source from the config.
func TestSubscriberRenewsAndUnsubscribes(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	f := newSubFixture(t, newStorePath(t), clk, hub)
	f.observe(t)
	f.sub.Maintain(t.Context())
	if n := len(hub.hub.requests); n != 0 {
		t.Fatalf("%d requests long before renewal", n)
	}
	clk.Add(DefaultLease - 23*time.Hour) // within the last day
	f.sub.Maintain(t.Context())
	if n := len(hub.hub.requests); n != 1 {
		t.Fatalf("%d requests at renewal time, want 1", n)
	}
	hub.hub.verify(t.Context(), <-hub.hub.requests)
	clk.Add(48 * time.Hour) // past the first lease, within the renewed one
	if !f.sub.Pushed(sourceURL) {
		t.Fatal("renewed lease not active")
	}
	f.sub.Sync(t.Context(), []string{"https://other.example/feed"})
	if f.sub.Pushed(sourceURL) {
		t.Error("still pushed after the source left the config")
	}
	hub.hub.verify(t.Context(), <-hub.hub.requests)
	if n := hub.hub.Stats().Subscriptions; n != 0 {
		t.Errorf("hub keeps %d subscriptions after unsubscribe", n)
	}
	if recs, _ := f.sub.opts.Store.WebSubRecords(t.Context(), subKind); len(recs) != 0 {
		t.Errorf("subscriber keeps %d records", len(recs))
	}
}

// TestSubscriberLeaseLapses checks that a lease that ends without renewal
// (the hub was down) stops the pushes and asks again.
func TestSubscriberLeaseLapses(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	f := newSubFixture(t, newStorePath(t), clk, hub)
	f.observe(t)
	clk.Add(DefaultLease)
	if f.sub.Pushed(sourceURL) {
		t.Error("pushed after the lease ended")
	}
	f.sub.Maintain(t.Context())
	if n := len(hub.hub.requests); n != 1 {
		t.Errorf("%d new requests after the lease ended, want 1", n)
	}
}

// TestSubscriberSurvivesRestart reopens the store with a new subscriber,
// which still takes the hub's signed pushes.
func TestSubscriberSurvivesRestart(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	path := newStorePath(t)
	t.Run("subscribe", func(t *testing.T) {
		newSubFixture(t, path, clk, hub).observe(t)
	})
	// The new subscriber listens elsewhere: move the hub's callback there.
	f := newSubFixture(t, path, clk, hub)
	if !f.sub.Pushed(sourceURL) {
		t.Fatal("subscription lost at restart")
	}
	hub.hub.mu.Lock()
	for _, s := range hub.hub.subs {
		u, _ := url.Parse(s.Callback)
		s.Callback = f.srv.URL + u.Path
	}
	hub.hub.mu.Unlock()
	hub.topics.set(testTopic, "<feed>after restart</feed>")
	hub.hub.Publish(t.Context())
	if n := f.in.count(); n != 1 {
		t.Errorf("%d pushes ingested after restart, want 1", n)
	}
}

// TestSubscriberFollowsANewHub checks that a source that moves to another
// hub is unsubscribed from the old one and subscribed at the new one.
func TestSubscriberFollowsANewHub(t *testing.T) {
	clk := newClock()
	oldHub := newHubFixture(t, newStorePath(t), clk, nil)
	newHub := newHubFixture(t, newStorePath(t), clk, nil)
	f := newSubFixture(t, newStorePath(t), clk, oldHub)
	f.observe(t)
	f.sub.Observe(t.Context(), sourceURL, newHub.srv.URL, testTopic)
	oldHub.hub.verify(t.Context(), <-oldHub.hub.requests)
	newHub.hub.verify(t.Context(), <-newHub.hub.requests)
	if got := []int{oldHub.hub.Stats().Subscriptions, newHub.hub.Stats().Subscriptions}; !cmp.Equal(got, []int{0, 1}) {
		t.Errorf("subscriptions at the old and new hub = %v, want [0 1]", got)
	}
	if !f.sub.Pushed(sourceURL) {
		t.Error("not pushed by the new hub")
	}
	if recs, _ := f.sub.opts.Store.WebSubRecords(t.Context(), subKind); len(recs) != 1 {
		t.Errorf("%d records, want 1", len(recs))
	}
}
