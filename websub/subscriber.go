package websub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// subKind is the kind of the subscriber's records in the store.
const subKind = "subscriber"

// Subscriber timings.
const (
	// pendingTimeout is how long a request waits for its verification;
	// after it, a new request may be made.
	pendingTimeout = 10 * time.Minute
	// retryAfterFailure is how long after a refused request the next one
	// may be made.
	retryAfterFailure = time.Hour
	// maxRenewMargin bounds how long before its expiry a lease is renewed.
	maxRenewMargin = 24 * time.Hour
	defaultSubTick = time.Minute
)

// SubscriberOptions configure a Subscriber.
type SubscriberOptions struct {
	// CallbackURL is the public URL under which the callbacks are served;
	// each subscription's callback is CallbackURL + "/" + its opaque id.
	// Required.
	CallbackURL string
	// Store keeps the subscriptions. Required.
	Store Records
	// Ingest takes a verified push: the new document of the source
	// feedURL, with its media type. Required.
	Ingest func(ctx context.Context, feedURL string, body []byte, contentType string) error
	// Client makes the requests to hubs; nil means NewClient(nil).
	Client *http.Client
	// Logger receives lifecycle and per-subscription logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBody bounds a push's body (fetch.max_body); default 10 MiB.
	MaxBody int64
	// Lease is the hub.lease_seconds asked; default DefaultLease.
	Lease time.Duration
	// Leader, when set, is the election among the subscribers of several
	// processes that share Store (behind one load balancer, so a hub's
	// verification or push may reach any of them): each reads the
	// subscription a callback names from Store, Sync reloads them all,
	// and only the leading one renews leases and unsubscribes. Nil: this
	// subscriber is Store's only one and keeps them in memory.
	Leader Leader
}

// subRecord is one subscription of the subscriber, as stored.
type subRecord struct {
	ID      string `json:"id"`
	FeedURL string `json:"feed_url"`
	Hub     string `json:"hub"`
	Topic   string `json:"topic"`
	Secret  string `json:"secret"`
	// Pending is the mode of the request waiting for verification ("" when
	// none), made at Requested.
	Pending   string    `json:"pending,omitempty"`
	Requested time.Time `json:"requested"`
	// Active is set by a verified subscription, until Expires.
	Active  bool          `json:"active,omitempty"`
	Expires time.Time     `json:"expires,omitzero"`
	Lease   time.Duration `json:"lease,omitempty"`
}

// renewAt is when the lease of r is renewed: a tenth of the lease before
// its end, at most maxRenewMargin before.
func (r *subRecord) renewAt() time.Time {
	return r.Expires.Add(-min(r.Lease/10, maxRenewMargin))
}

// SubscriberStats are the subscriber's counters.
type SubscriberStats struct {
	// Active and Pending count the subscriptions by state.
	Active, Pending int
	// Pushes counts the pushes ingested, Dropped those refused for a
	// missing or bad signature, an unknown subscription or size.
	Pushes, Dropped int64
}

// Subscriber subscribes sources to their hubs and takes their pushes at
// its callbacks (ServeHTTP). It is safe for concurrent use.
type Subscriber struct {
	opts SubscriberOptions
	log  *slog.Logger

	mu     sync.Mutex
	byID   map[string]*subRecord
	byFeed map[string]*subRecord

	pushes, dropped atomic.Int64
}

// NewSubscriber returns a subscriber with the subscriptions stored in
// opts.Store.
func NewSubscriber(ctx context.Context, opts SubscriberOptions) (*Subscriber, error) {
	if opts.CallbackURL == "" || opts.Store == nil || opts.Ingest == nil {
		return nil, errors.New("websub subscriber: CallbackURL, Store and Ingest are required")
	}
	if opts.Client == nil {
		opts.Client = NewClient(nil)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 10 << 20
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	s := &Subscriber{opts: opts, log: opts.Logger, byID: map[string]*subRecord{}, byFeed: map[string]*subRecord{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// load replaces the subscriptions in memory with those of the store.
func (s *Subscriber) load(ctx context.Context) error {
	recs, err := s.opts.Store.WebSubRecords(ctx, subKind)
	if err != nil {
		return fmt.Errorf("load websub subscriptions: %w", err)
	}
	byID, byFeed := make(map[string]*subRecord, len(recs)), make(map[string]*subRecord, len(recs))
	for id, raw := range recs {
		r, ok := decodeRecord(id, raw)
		if !ok {
			s.log.Warn("unreadable websub subscription dropped", slog.String("id", id))
			continue
		}
		byID[id], byFeed[r.FeedURL] = r, r
	}
	s.mu.Lock()
	s.byID, s.byFeed = byID, byFeed
	s.mu.Unlock()
	return nil
}

// decodeRecord reads the stored subscription id.
func decodeRecord(id string, raw []byte) (*subRecord, bool) {
	var r subRecord
	if err := json.Unmarshal(raw, &r); err != nil || r.ID != id {
		return nil, false
	}
	return &r, true
}

// lookup returns the subscription id: from the store when it is shared,
// where another process may have made or changed it, else from memory.
func (s *Subscriber) lookup(ctx context.Context, id string) (subRecord, bool) {
	if s.opts.Leader == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		r, ok := s.byID[id]
		if !ok {
			return subRecord{}, false
		}
		return *r, true
	}
	raw, err := s.opts.Store.WebSubRecord(ctx, subKind, id)
	if err != nil {
		s.log.Warn("websub subscription not read", slog.String("id", id), slog.Any("error", err))
		return subRecord{}, false
	}
	r, ok := decodeRecord(id, raw)
	if !ok {
		return subRecord{}, false
	}
	return *r, true
}

// acting reports whether this subscriber renews and ends subscriptions
// now: it is alone with its store, or it leads.
func (s *Subscriber) acting() bool {
	return s.opts.Leader == nil || s.opts.Leader.Leading()
}

// Stats returns the subscriber's counters.
func (s *Subscriber) Stats() SubscriberStats {
	st := SubscriberStats{Pushes: s.pushes.Load(), Dropped: s.dropped.Load()}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.byID {
		switch {
		case r.Active && now.Before(r.Expires):
			st.Active++
		case r.Pending != "":
			st.Pending++
		}
	}
	return st
}

// Pushed reports whether the source feedURL has an active subscription:
// its pushes arrive, and polling it can slow down.
func (s *Subscriber) Pushed(feedURL string) bool {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byFeed[feedURL]
	return r != nil && r.Active && now.Before(r.Expires)
}

// Observe takes what a fetch of the source feedURL found: the hub and
// topic it advertises (Discover). It subscribes when the source has no
// subscription to that hub and topic, or when the lease is due for
// renewal, unless a request is waiting for its verification or recently
// failed. A source that changed hub or topic is unsubscribed from the old.
func (s *Subscriber) Observe(ctx context.Context, feedURL, hub, topic string) {
	if hub == "" || topic == "" {
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	old := s.byFeed[feedURL]
	var r subRecord
	switch {
	case old == nil:
		r = subRecord{ID: randomToken(16), FeedURL: feedURL, Hub: hub, Topic: topic, Secret: randomToken(32)}
	case old.Hub != hub || old.Topic != topic:
		s.mu.Unlock()
		s.unsubscribe(ctx, *old)
		s.subscribe(ctx, subRecord{ID: randomToken(16), FeedURL: feedURL, Hub: hub, Topic: topic, Secret: randomToken(32)})
		return
	case !s.due(old, now):
		s.mu.Unlock()
		return
	default:
		r = *old
	}
	s.mu.Unlock()
	s.subscribe(ctx, r)
}

// due reports whether a request for r should be made at now.
func (s *Subscriber) due(r *subRecord, now time.Time) bool {
	switch {
	case r.Pending != "":
		return !now.Before(r.Requested.Add(pendingTimeout))
	case r.Active && now.Before(r.renewAt()):
		return false
	case !r.Active && !r.Requested.IsZero():
		return !now.Before(r.Requested.Add(retryAfterFailure))
	}
	return true
}

// subscribe stores r as pending and asks its hub for it.
func (s *Subscriber) subscribe(ctx context.Context, r subRecord) {
	r.Pending, r.Requested = modeSubscribe, s.opts.Now()
	if err := s.put(ctx, r); err != nil {
		s.log.Error("websub subscription not stored", slog.String("feed_url", r.FeedURL), slog.Any("error", err))
		return
	}
	err := s.request(ctx, r, url.Values{"hub.lease_seconds": {strconv.FormatInt(int64(s.opts.Lease/time.Second), 10)}, "hub.secret": {r.Secret}})
	if err != nil {
		s.log.Warn("websub subscription refused", slog.String("feed_url", r.FeedURL), slog.String("hub", r.Hub), slog.Any("error", err))
		r.Pending = ""
		if perr := s.put(ctx, r); perr != nil {
			s.log.Error("websub subscription not stored", slog.String("feed_url", r.FeedURL), slog.Any("error", perr))
		}
		return
	}
	s.log.Info("websub subscription requested", slog.String("feed_url", r.FeedURL), slog.String("hub", r.Hub))
}

// unsubscribe asks the hub to end r, when active, and forgets it: a
// verification that follows is still answered, from the pending record.
func (s *Subscriber) unsubscribe(ctx context.Context, r subRecord) {
	if !r.Active {
		s.forget(ctx, r)
		return
	}
	r.Pending, r.Requested, r.Active = modeUnsubscribe, s.opts.Now(), false
	if err := s.put(ctx, r); err != nil {
		s.log.Error("websub subscription not stored", slog.String("feed_url", r.FeedURL), slog.Any("error", err))
		return
	}
	if err := s.request(ctx, r, nil); err != nil {
		s.log.Warn("websub unsubscription refused", slog.String("feed_url", r.FeedURL), slog.Any("error", err))
		s.forget(ctx, r)
		return
	}
	s.log.Info("websub unsubscription requested", slog.String("feed_url", r.FeedURL), slog.String("hub", r.Hub))
}

// request posts the request of mode r.Pending for r to its hub, with the
// extra form values, and checks that the hub accepted it.
func (s *Subscriber) request(ctx context.Context, r subRecord, extra url.Values) error {
	form := url.Values{"hub.mode": {r.Pending}, "hub.topic": {r.Topic}, "hub.callback": {s.callback(r.ID)}}
	for k, v := range extra {
		form[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s %s at %s: %w", r.Pending, r.Topic, r.Hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s at %s: %w", r.Pending, r.Topic, r.Hub, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s at %s: hub answered %s", r.Pending, r.Topic, r.Hub, resp.Status)
	}
	return nil
}

// callback returns the callback URL of the subscription id.
func (s *Subscriber) callback(id string) string {
	return strings.TrimRight(s.opts.CallbackURL, "/") + "/" + id
}

// Sync unsubscribes every source not in feedURLs (the configured
// sources). With a Leader, it first reloads the subscriptions from the
// store, which Observe and Pushed then read, and unsubscribes only while
// leading.
func (s *Subscriber) Sync(ctx context.Context, feedURLs []string) {
	if s.opts.Leader != nil {
		if err := s.load(ctx); err != nil {
			s.log.Warn("websub subscriptions not read", slog.Any("error", err))
			return
		}
	}
	if !s.acting() {
		return
	}
	keep := make(map[string]bool, len(feedURLs))
	for _, u := range feedURLs {
		keep[u] = true
	}
	var gone []subRecord
	s.mu.Lock()
	for _, r := range s.byID {
		if !keep[r.FeedURL] && r.Pending != modeUnsubscribe {
			gone = append(gone, *r)
		}
	}
	s.mu.Unlock()
	for _, r := range gone {
		s.unsubscribe(ctx, r)
	}
}

// Maintain renews the leases due for renewal, lets expired ones lapse
// and forgets unsubscriptions never verified. With a Leader, it does so
// only while leading, from the subscriptions in the store.
func (s *Subscriber) Maintain(ctx context.Context) {
	if !s.acting() {
		return
	}
	if s.opts.Leader != nil {
		if err := s.load(ctx); err != nil {
			s.log.Warn("websub subscriptions not read", slog.Any("error", err))
			return
		}
	}
	now := s.opts.Now()
	var renew, lapse, forget []subRecord
	s.mu.Lock()
	for _, r := range s.byID {
		switch {
		case r.Pending == modeUnsubscribe && !now.Before(r.Requested.Add(pendingTimeout)):
			forget = append(forget, *r)
		case r.Active && !now.Before(r.Expires):
			lapse = append(lapse, *r)
		case r.Active && s.due(r, now):
			renew = append(renew, *r)
		}
	}
	s.mu.Unlock()
	for _, r := range forget {
		s.forget(ctx, r)
	}
	for _, r := range lapse {
		r.Active = false
		s.log.Info("websub lease expired", slog.String("feed_url", r.FeedURL))
		s.subscribe(ctx, r)
	}
	for _, r := range renew {
		s.subscribe(ctx, r)
	}
}

// Run calls Maintain every minute until ctx is done.
func (s *Subscriber) Run(ctx context.Context) {
	t := time.NewTicker(defaultSubTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Maintain(ctx)
		}
	}
}

// ServeHTTP serves the callbacks, at paths ending in the subscription's
// id: GET answers the hub's verification of intent, POST takes a push.
func (s *Subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	switch r.Method {
	case http.MethodGet:
		s.serveVerification(w, r, id)
	case http.MethodPost:
		s.servePush(w, r, id)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// serveVerification echoes the challenge of a verification for a request
// this subscriber made and waits for; anything else gets a 404.
func (s *Subscriber) serveVerification(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")
	cur, ok := s.lookup(r.Context(), id)
	if !ok || topic != cur.Topic {
		http.NotFound(w, r)
		return
	}
	if mode == modeDenied {
		s.log.Warn("websub subscription denied by the hub", slog.String("feed_url", cur.FeedURL), slog.String("reason", q.Get("hub.reason")))
		cur.Active, cur.Pending = false, ""
		_ = s.put(r.Context(), cur)
		w.WriteHeader(http.StatusOK)
		return
	}
	if mode != cur.Pending || challenge == "" {
		http.NotFound(w, r)
		return
	}
	if mode == modeUnsubscribe {
		s.forget(r.Context(), cur)
	} else {
		lease := s.opts.Lease
		if n, err := strconv.ParseInt(q.Get("hub.lease_seconds"), 10, 64); err == nil && n > 0 {
			lease = time.Duration(min(n, int64(MaxLease/time.Second))) * time.Second
		}
		cur.Active, cur.Pending, cur.Lease, cur.Expires = true, "", lease, s.opts.Now().Add(lease)
		if err := s.put(r.Context(), cur); err != nil {
			s.log.Error("websub subscription not stored", slog.String("feed_url", cur.FeedURL), slog.Any("error", err))
			http.Error(w, "not stored", http.StatusInternalServerError)
			return
		}
		s.log.Info("websub subscription verified", slog.String("feed_url", cur.FeedURL), slog.Time("expires", cur.Expires))
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, challenge)
}

// servePush ingests a push signed with the subscription's secret. An
// unknown or inactive subscription gets a 410, asking the hub to stop; an
// unsigned or badly signed push is acknowledged but dropped and counted,
// as the spec asks.
func (s *Subscriber) servePush(w http.ResponseWriter, r *http.Request, id string) {
	now := s.opts.Now()
	cur, ok := s.lookup(r.Context(), id)
	if !ok || !cur.Active || !now.Before(cur.Expires) {
		s.dropped.Add(1)
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	if err != nil {
		s.dropped.Add(1)
		s.log.Warn("websub push dropped: unreadable or too large", slog.String("feed_url", cur.FeedURL), slog.Any("error", err))
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if !Verify(cur.Secret, body, r.Header.Get(SignatureHeader)) {
		s.dropped.Add(1)
		s.log.Warn("websub push dropped: missing or bad signature", slog.String("feed_url", cur.FeedURL))
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := s.opts.Ingest(r.Context(), cur.FeedURL, body, r.Header.Get("Content-Type")); err != nil {
		s.log.Warn("websub push not ingested", slog.String("feed_url", cur.FeedURL), slog.Any("error", err))
		http.Error(w, "not ingested", http.StatusInternalServerError)
		return
	}
	s.pushes.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// put stores r and, unless it is ending, makes it the source's
// subscription.
func (s *Subscriber) put(ctx context.Context, r subRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode websub subscription: %w", err)
	}
	if err := s.opts.Store.PutWebSub(context.WithoutCancel(ctx), subKind, r.ID, raw); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[r.ID] = &r
	switch cur := s.byFeed[r.FeedURL]; {
	case r.Pending != modeUnsubscribe:
		s.byFeed[r.FeedURL] = &r
	case cur != nil && cur.ID == r.ID:
		// Ending: the source may subscribe anew meanwhile.
		delete(s.byFeed, r.FeedURL)
	}
	return nil
}

// forget deletes r.
func (s *Subscriber) forget(ctx context.Context, r subRecord) {
	s.mu.Lock()
	delete(s.byID, r.ID)
	if cur := s.byFeed[r.FeedURL]; cur != nil && cur.ID == r.ID {
		delete(s.byFeed, r.FeedURL)
	}
	s.mu.Unlock()
	if err := s.opts.Store.DeleteWebSub(context.WithoutCancel(ctx), subKind, r.ID); err != nil {
		s.log.Error("websub subscription not removed", slog.String("feed_url", r.FeedURL), slog.Any("error", err))
	}
}
