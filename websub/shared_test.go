package websub

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeLeader is a Leader the test hands from one process to another.
type fakeLeader struct{ leading atomic.Bool }

func (l *fakeLeader) Leading() bool { return l.leading.Load() }

// newSharedHubs returns two hubs on one store, as two processes on one
// database, with their leaders (the second one leads) and the topics they
// both render.
func newSharedHubs(t *testing.T, clk *clock) (hubs [2]*Hub, leaders [2]*fakeLeader, tp *topics) {
	t.Helper()
	store := openStore(t, newStorePath(t))
	tp = &topics{docs: map[string]string{testTopic: "<feed>v1</feed>"}}
	for i := range hubs {
		leaders[i] = &fakeLeader{}
		h, err := NewHub(t.Context(), HubOptions{
			URL: "https://agg.example/websub", Store: store, Render: tp.render,
			Logger: testLogger(t), Now: clk.Now, RetryBase: time.Minute, Leader: leaders[i],
		})
		if err != nil {
			t.Fatal(err)
		}
		hubs[i] = h
	}
	leaders[1].leading.Store(true)
	return hubs, leaders, tp
}

// TestHubSharedDeliversOnceFromLeader subscribes through the hub that
// does not lead, and checks that a change is delivered once, by the
// leader, which read the subscription from the store; that a failed
// delivery's backoff holds when leadership passes; and that the new leader
// makes the retry once it is due.
func TestHubSharedDeliversOnceFromLeader(t *testing.T) {
	clk := newClock()
	hubs, leaders, tp := newSharedHubs(t, clk)
	cb := newCallback(t)
	cb.pushStatus = []int{http.StatusInternalServerError}
	srv := httptest.NewServer(hubs[0])
	t.Cleanup(srv.Close)
	if resp, err := http.PostForm(srv.URL, subscribeForm(cb.url(), "k", "")); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe through the follower: %v %v", resp, err)
	}
	hubs[0].verify(t.Context(), <-hubs[0].requests)

	tp.set(testTopic, "<feed>v2</feed>")
	publish := func() {
		for _, h := range hubs {
			h.Publish(t.Context())
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		handOff bool
		pushes  int
	}{
		{"leader delivers, fails", 0, false, 1},
		{"again, before the retry", 10 * time.Second, false, 1},
		{"leader changes, retry not due", 10 * time.Second, true, 1},
		{"retry due at the new leader", time.Minute, false, 2},
		{"delivered: nothing more", time.Hour, false, 2},
	}
	for _, s := range steps {
		clk.Add(s.advance)
		if s.handOff {
			leaders[0].leading.Store(true)
			leaders[1].leading.Store(false)
		}
		publish()
		if _, pushes := cb.counts(); pushes != s.pushes {
			t.Fatalf("%s: %d deliveries, want %d", s.name, pushes, s.pushes)
		}
	}
	// The first leader failed once, the second delivered once.
	got := []HubStats{hubs[0].Stats(), hubs[1].Stats()}
	for i := range got {
		got[i].Subscriptions = 0
	}
	if diff := cmp.Diff([]HubStats{{Delivered: 1}, {Failed: 1}}, got); diff != "" {
		t.Errorf("deliveries by hub (-want +got):\n%s", diff)
	}
	if !Verify("k", []byte(cb.bodies[1]), cb.pushes[1].Header.Get(SignatureHeader)) {
		t.Error("the new leader's delivery is not signed with the subscription's secret")
	}
}

// TestHubSharedExpiresAtLeaderOnly lets a lease end and checks that only
// the leading hub removes the subscription from the store.
func TestHubSharedExpiresAtLeaderOnly(t *testing.T) {
	clk := newClock()
	hubs, _, _ := newSharedHubs(t, clk)
	cb := newCallback(t)
	hubs[0].requests <- hubRequest{mode: modeSubscribe, topic: testTopic, callback: cb.url(), lease: MinLease}
	hubs[0].verify(t.Context(), <-hubs[0].requests)
	clk.Add(MinLease)
	hubs[0].Expire(t.Context())
	if recs, _ := hubs[0].opts.Store.WebSubRecords(t.Context(), hubKind); len(recs) != 1 {
		t.Fatalf("the follower expired: %d records, want 1", len(recs))
	}
	hubs[1].Expire(t.Context())
	if recs, _ := hubs[0].opts.Store.WebSubRecords(t.Context(), hubKind); len(recs) != 0 {
		t.Errorf("the leader did not expire: %d records, want 0", len(recs))
	}
}

// TestSubscriberSharedBehindBalancer runs two subscribers on one store
// behind one callback URL that reaches the second: a subscription the
// first requests is verified, and its pushes taken, by the second, which
// reads it from the store; renewals are made by the leader only.
func TestSubscriberSharedBehindBalancer(t *testing.T) {
	clk := newClock()
	hub := newHubFixture(t, newStorePath(t), clk, nil)
	store := openStore(t, newStorePath(t))
	mux := http.NewServeMux()
	balancer := httptest.NewServer(mux)
	t.Cleanup(balancer.Close)
	var subs [2]*Subscriber
	var leaders [2]*fakeLeader
	in := &ingested{got: make(chan struct{}, 16)}
	for i := range subs {
		leaders[i] = &fakeLeader{}
		s, err := NewSubscriber(t.Context(), SubscriberOptions{
			CallbackURL: balancer.URL + "/websub/callback", Store: store, Ingest: in.ingest,
			Logger: testLogger(t), Now: clk.Now, Leader: leaders[i],
		})
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = s
	}
	leaders[1].leading.Store(true)
	mux.Handle("/websub/callback/", subs[1])

	subs[0].Observe(t.Context(), sourceURL, hub.srv.URL, testTopic)
	hub.hub.verify(t.Context(), <-hub.hub.requests)
	if n := hub.hub.Stats().Subscriptions; n != 1 {
		t.Fatalf("verified at the other instance: hub has %d subscriptions, want 1", n)
	}
	hub.topics.set(testTopic, "<feed>pushed</feed>")
	hub.hub.Publish(t.Context())
	want := []string{sourceURL + " application/atom+xml; charset=utf-8 <feed>pushed</feed>"}
	if diff := cmp.Diff(want, in.bodies); diff != "" {
		t.Errorf("ingested at the other instance (-want +got):\n%s", diff)
	}

	subs[0].Sync(t.Context(), []string{sourceURL})
	if !subs[0].Pushed(sourceURL) {
		t.Error("the requesting instance does not see the verified subscription after Sync")
	}
	clk.Add(DefaultLease - 23*time.Hour) // within the last day
	for _, s := range subs {
		s.Maintain(t.Context())
	}
	if n := len(hub.hub.requests); n != 1 {
		t.Errorf("%d renewal requests from two instances, want 1", n)
	}
}
