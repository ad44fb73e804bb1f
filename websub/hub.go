package websub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// hubKind is the kind of the hub's records in the store.
const hubKind = "hub"

// Hub defaults; see HubOptions.
const (
	defaultConcurrency = 8
	defaultRetryBase   = time.Minute
	defaultHubTick     = 30 * time.Second
	// maxAttempts is how many times one document is offered to a
	// subscriber before the hub gives up on it (the next change is
	// offered again).
	maxAttempts = 6
	// maxRetryDelay bounds the wait before a retry.
	maxRetryDelay = 2 * time.Hour
	// maxForm bounds the body of a subscription request.
	maxForm = 16 << 10
	// defaultMaxSubscriptions bounds the subscriptions of a hub.
	defaultMaxSubscriptions = 10000
	// queueSize bounds the verifications waiting for a worker; a request
	// beyond it is answered 503.
	queueSize = 256
)

// ErrUnknownTopic is returned by a Render function for a URL that is not
// one of the hub's topics.
var ErrUnknownTopic = errors.New("not a topic of this hub")

// Document is the content of a topic: the feed document and its media
// type.
type Document struct {
	Body        []byte
	ContentType string
}

// HubOptions configure a Hub.
type HubOptions struct {
	// URL is the hub's own public URL, sent as the Link rel="hub" of each
	// delivery. Required.
	URL string
	// Store keeps the subscriptions. Required.
	Store Records
	// Render returns the current document of a topic, ErrUnknownTopic for
	// a URL that is not a topic. Required.
	Render func(ctx context.Context, topic string) (Document, error)
	// Client makes the verification and delivery requests; nil means
	// NewClient(nil), which allows private addresses.
	Client *http.Client
	// Logger receives lifecycle and per-subscription logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Concurrency bounds the requests to callbacks in flight; default 8.
	Concurrency int
	// RetryBase is the wait before the first retry of a failed delivery,
	// doubled at each further failure; default 1m.
	RetryBase time.Duration
	// Tick is how often Run expires leases and retries deliveries;
	// default 30s.
	Tick time.Duration
	// MaxSubscriptions bounds the subscriptions kept: a new one beyond it
	// is denied; default 10,000.
	MaxSubscriptions int
	// Leader, when set, is the election among the hubs of several
	// processes that share Store: every hub verifies the requests it
	// takes and stores the subscriptions, and only the leading one
	// delivers and expires leases, from the subscriptions it reads from
	// Store at each Publish. Call Changed when leadership is gained and
	// when any process commits a change of the topics. Nil: this hub is
	// Store's only one and keeps the subscriptions in memory.
	Leader Leader
}

// hubSub is one subscription to a topic of the hub, as stored.
type hubSub struct {
	Topic    string    `json:"topic"`
	Callback string    `json:"callback"`
	Secret   string    `json:"secret,omitempty"`
	Expires  time.Time `json:"expires"`
	// Sent is the SHA-256 of the last document the subscriber got (or
	// had when it subscribed): a topic whose document differs has changed.
	Sent string `json:"sent"`
	// Fails counts the failed deliveries of the current document, RetryAt
	// is when the next attempt is due.
	Fails   int       `json:"fails,omitempty"`
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// key is the store key of s: one subscription per topic and callback.
func (s *hubSub) key() string { return s.Topic + " " + s.Callback }

// hubRequest is a subscription or unsubscription request to verify.
type hubRequest struct {
	mode, topic, callback, secret string
	lease                         time.Duration
}

// HubStats are the hub's counters since it started.
type HubStats struct {
	// Subscriptions is the number of active subscriptions.
	Subscriptions int
	// Delivered and Failed count the deliveries to callbacks.
	Delivered, Failed int64
}

// Hub is a WebSub hub for the topics Render knows. ServeHTTP takes the
// requests; Run verifies them, and delivers changes announced by
// Changed. A Hub is safe for concurrent use.
type Hub struct {
	opts     HubOptions
	log      *slog.Logger
	requests chan hubRequest
	changed  chan struct{}

	mu   sync.Mutex
	subs map[string]*hubSub // by key()

	delivered, failed atomic.Int64
}

// NewHub returns a hub with the subscriptions stored in opts.Store.
func NewHub(ctx context.Context, opts HubOptions) (*Hub, error) {
	if opts.URL == "" || opts.Store == nil || opts.Render == nil {
		return nil, errors.New("websub hub: URL, Store and Render are required")
	}
	if opts.Client == nil {
		opts.Client = NewClient(nil)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultConcurrency
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = defaultRetryBase
	}
	if opts.Tick <= 0 {
		opts.Tick = defaultHubTick
	}
	if opts.MaxSubscriptions <= 0 {
		opts.MaxSubscriptions = defaultMaxSubscriptions
	}
	h := &Hub{
		opts:     opts,
		log:      opts.Logger,
		requests: make(chan hubRequest, queueSize),
		changed:  make(chan struct{}, 1),
		subs:     map[string]*hubSub{},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if err := h.load(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// load replaces the subscriptions in memory with those of the store.
func (h *Hub) load(ctx context.Context) error {
	recs, err := h.opts.Store.WebSubRecords(ctx, hubKind)
	if err != nil {
		return fmt.Errorf("load hub subscriptions: %w", err)
	}
	subs := make(map[string]*hubSub, len(recs))
	for k, raw := range recs {
		var s hubSub
		if err := json.Unmarshal(raw, &s); err != nil {
			h.log.Warn("unreadable hub subscription dropped", slog.String("key", k), slog.Any("error", err))
			continue
		}
		subs[k] = &s
	}
	h.mu.Lock()
	h.subs = subs
	h.mu.Unlock()
	return nil
}

// acting reports whether this hub delivers and expires leases now: it is
// alone with its store, or it leads and has read the subscriptions the
// other processes stored.
func (h *Hub) acting(ctx context.Context) bool {
	if h.opts.Leader == nil {
		return true
	}
	if !h.opts.Leader.Leading() {
		return false
	}
	if err := h.load(ctx); err != nil {
		h.log.Warn("websub hub subscriptions not read", slog.Any("error", err))
		return false
	}
	return true
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	return HubStats{Subscriptions: n, Delivered: h.delivered.Load(), Failed: h.failed.Load()}
}

// Changed tells the hub that topics may have changed; Run then delivers
// each changed topic's document to its subscribers. It never blocks.
func (h *Hub) Changed() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// ServeHTTP takes a subscription request (POST, form-encoded hub.mode,
// hub.topic, hub.callback, hub.lease_seconds, hub.secret): 202 when it
// will be verified, 400 when it is malformed, 503 when too many wait.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form", http.StatusBadRequest)
		return
	}
	req, err := parseRequest(r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case h.requests <- req:
		w.WriteHeader(http.StatusAccepted)
	default:
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many requests waiting for verification", http.StatusServiceUnavailable)
	}
}

// parseRequest reads a subscription request form.
func parseRequest(form url.Values) (hubRequest, error) {
	req := hubRequest{
		mode:     form.Get("hub.mode"),
		topic:    form.Get("hub.topic"),
		callback: form.Get("hub.callback"),
		secret:   form.Get("hub.secret"),
	}
	if req.mode != modeSubscribe && req.mode != modeUnsubscribe {
		return req, errors.New("hub.mode must be subscribe or unsubscribe")
	}
	if req.topic == "" {
		return req, errors.New("hub.topic is required")
	}
	if _, err := checkCallback(req.callback); err != nil {
		return req, fmt.Errorf("hub.callback: %w", err)
	}
	if len(req.secret) > maxSecret {
		return req, fmt.Errorf("hub.secret must be shorter than %d bytes", maxSecret+1)
	}
	var secs int64
	if s := form.Get("hub.lease_seconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return req, errors.New("hub.lease_seconds must be a whole number of seconds")
		}
		secs = n
	}
	req.lease = clampLease(secs)
	return req, nil
}

// Run verifies the requests ServeHTTP took, delivers changed topics, and
// every Tick expires leases and retries failed deliveries, until ctx is
// done; it then waits for the requests in flight and returns.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, h.opts.Concurrency)
	t := time.NewTicker(h.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-h.requests:
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				h.verify(ctx, req)
			})
		case <-h.changed:
			h.Publish(ctx)
		case <-t.C:
			h.Expire(ctx)
			h.Publish(ctx)
		}
	}
}

// verify checks the intent of req with its callback and, when confirmed,
// records (subscribe) or removes (unsubscribe) the subscription. A
// subscription to an unknown topic, or a new one beyond MaxSubscriptions,
// is denied.
func (h *Hub) verify(ctx context.Context, req hubRequest) {
	log := h.log.With(slog.String("topic", req.topic), slog.String("callback", req.callback), slog.String("mode", req.mode))
	var sent string
	if req.mode == modeSubscribe {
		doc, err := h.opts.Render(ctx, req.topic)
		if err != nil {
			log.Info("websub subscription denied", slog.Any("error", err))
			h.deny(ctx, req, "unknown topic")
			return
		}
		sent = docHash(doc.Body)
		if h.full(ctx, req) {
			log.Warn("websub subscription denied: too many subscriptions", slog.Int("max", h.opts.MaxSubscriptions))
			h.deny(ctx, req, "too many subscriptions")
			return
		}
	}
	if err := h.confirm(ctx, req); err != nil {
		log.Info("websub intent not verified", slog.Any("error", err))
		return
	}
	s := &hubSub{Topic: req.topic, Callback: req.callback, Secret: req.secret, Expires: h.opts.Now().Add(req.lease), Sent: sent}
	if req.mode == modeUnsubscribe {
		h.remove(ctx, s.key())
		log.Info("websub unsubscribed")
		return
	}
	if err := h.put(ctx, s); err != nil {
		log.Error("websub subscription not stored", slog.Any("error", err))
		return
	}
	log.Info("websub subscribed", slog.Time("expires", s.Expires))
}

// full reports whether req would be a new subscription beyond
// MaxSubscriptions, counted in the store when it is shared.
func (h *Hub) full(ctx context.Context, req hubRequest) bool {
	if h.opts.Leader != nil {
		if err := h.load(ctx); err != nil {
			h.log.Warn("websub hub subscriptions not read", slog.Any("error", err))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, renewal := h.subs[(&hubSub{Topic: req.topic, Callback: req.callback}).key()]
	return !renewal && len(h.subs) >= h.opts.MaxSubscriptions
}

// confirm sends the verification of intent for req and checks that the
// callback echoes the challenge exactly with a 2xx.
func (h *Hub) confirm(ctx context.Context, req hubRequest) error {
	challenge := randomToken(16)
	q := url.Values{"hub.mode": {req.mode}, "hub.topic": {req.topic}, "hub.challenge": {challenge}}
	if req.mode == modeSubscribe {
		q.Set("hub.lease_seconds", strconv.FormatInt(int64(req.lease/time.Second), 10))
	}
	resp, err := h.get(ctx, req.callback, q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(challenge))+1))
	if err != nil {
		return fmt.Errorf("read verification answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("verification answered %s", resp.Status)
	}
	if string(body) != challenge {
		return errors.New("verification answer does not echo the challenge")
	}
	return nil
}

// deny tells the callback of req that its subscription was refused.
func (h *Hub) deny(ctx context.Context, req hubRequest, reason string) {
	q := url.Values{"hub.mode": {modeDenied}, "hub.topic": {req.topic}, "hub.reason": {reason}}
	resp, err := h.get(ctx, req.callback, q)
	if err != nil {
		h.log.Debug("websub denial not delivered", slog.String("callback", req.callback), slog.Any("error", err))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// get sends a GET to callback with the query q added to its own.
func (h *Hub) get(ctx context.Context, callback string, q url.Values) (*http.Response, error) {
	u, err := checkCallback(callback)
	if err != nil {
		return nil, err
	}
	own := u.Query()
	for k, v := range q {
		own[k] = v
	}
	u.RawQuery = own.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", callback, err)
	}
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", callback, err)
	}
	return resp, nil
}

// Expire removes the subscriptions whose lease has ended; with a Leader,
// only while leading.
func (h *Hub) Expire(ctx context.Context) {
	if !h.acting(ctx) {
		return
	}
	now := h.opts.Now()
	h.mu.Lock()
	var gone []string
	for k, s := range h.subs {
		if !now.Before(s.Expires) {
			gone = append(gone, k)
		}
	}
	h.mu.Unlock()
	for _, k := range gone {
		h.remove(ctx, k)
		h.log.Info("websub lease expired", slog.String("key", k))
	}
}

// Publish delivers the current document of each topic to the subscribers
// that have not got it, whose retry (if any) is due, under the concurrency
// bound, and returns when every delivery has ended. The subscriptions to
// a topic that Render no longer knows are removed. With a Leader, it
// does so only while leading, from the subscriptions in the store.
func (h *Hub) Publish(ctx context.Context) {
	if !h.acting(ctx) {
		return
	}
	now := h.opts.Now()
	byTopic := map[string][]hubSub{}
	h.mu.Lock()
	for _, s := range h.subs {
		if now.Before(s.Expires) && !s.RetryAt.After(now) {
			byTopic[s.Topic] = append(byTopic[s.Topic], *s)
		}
	}
	h.mu.Unlock()
	var g errgroup.Group
	g.SetLimit(h.opts.Concurrency)
	for topic, subs := range byTopic {
		doc, err := h.opts.Render(ctx, topic)
		if errors.Is(err, ErrUnknownTopic) {
			// The feed is gone (a category left the config).
			for _, s := range subs {
				h.remove(ctx, s.key())
			}
			h.log.Info("websub topic gone: subscriptions removed", slog.String("topic", topic), slog.Int("subscriptions", len(subs)))
			continue
		}
		if err != nil {
			h.log.Warn("websub topic not rendered", slog.String("topic", topic), slog.Any("error", err))
			continue
		}
		hash := docHash(doc.Body)
		for _, s := range subs {
			if s.Sent == hash {
				continue
			}
			g.Go(func() error {
				h.deliver(ctx, s, doc, hash)
				return nil
			})
		}
	}
	_ = g.Wait() // deliveries report nothing
}

// deliver posts doc to the callback of s and records the outcome: a 2xx
// marks it sent, a 410 ends the subscription, anything else schedules a
// retry with exponential backoff, up to maxAttempts.
func (h *Hub) deliver(ctx context.Context, s hubSub, doc Document, hash string) {
	log := h.log.With(slog.String("topic", s.Topic), slog.String("callback", s.Callback))
	status, err := h.post(ctx, s, doc)
	switch {
	case err == nil && status >= 200 && status <= 299:
		h.delivered.Add(1)
		s.Sent, s.Fails, s.RetryAt = hash, 0, time.Time{}
		log.Debug("websub content delivered")
	case err == nil && status == http.StatusGone:
		h.remove(ctx, s.key())
		log.Info("websub subscriber gone: subscription removed")
		return
	default:
		h.failed.Add(1)
		if err == nil {
			err = fmt.Errorf("callback answered %d", status)
		}
		s.Fails++
		if s.Fails >= maxAttempts {
			log.Warn("websub delivery abandoned", slog.Int("attempts", s.Fails), slog.Any("error", err))
			s.Sent, s.Fails, s.RetryAt = hash, 0, time.Time{}
		} else {
			s.RetryAt = h.opts.Now().Add(min(h.opts.RetryBase<<(s.Fails-1), maxRetryDelay))
			log.Info("websub delivery failed: will retry", slog.Int("attempts", s.Fails), slog.Time("retry_at", s.RetryAt), slog.Any("error", err))
		}
	}
	h.update(ctx, s)
}

// post sends doc to the callback of s, signed when s has a secret, with
// the topic's Content-Type and the Link headers of hub and topic, and
// returns the status.
func (h *Hub) post(ctx context.Context, s hubSub, doc Document) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Callback, bytes.NewReader(doc.Body))
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", s.Callback, err)
	}
	req.Header.Set("Content-Type", doc.ContentType)
	req.Header.Add("Link", "<"+h.opts.URL+`>; rel="hub"`)
	req.Header.Add("Link", "<"+s.Topic+`>; rel="self"`)
	if s.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(s.Secret, doc.Body))
	}
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", s.Callback, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// put stores s, replacing the subscription with its key.
func (h *Hub) put(ctx context.Context, s *hubSub) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode hub subscription: %w", err)
	}
	if err := h.opts.Store.PutWebSub(context.WithoutCancel(ctx), hubKind, s.key(), raw); err != nil {
		return err
	}
	h.mu.Lock()
	h.subs[s.key()] = s
	h.mu.Unlock()
	return nil
}

// update stores the delivery state of s, unless the subscription was
// removed or replaced (a new secret or lease) meanwhile.
func (h *Hub) update(ctx context.Context, s hubSub) {
	h.mu.Lock()
	cur, ok := h.subs[s.key()]
	same := ok && cur.Secret == s.Secret && cur.Expires.Equal(s.Expires)
	h.mu.Unlock()
	if !same {
		return
	}
	if err := h.put(ctx, &s); err != nil {
		h.log.Error("websub delivery state not stored", slog.String("callback", s.Callback), slog.Any("error", err))
	}
}

// remove deletes the subscription with key k.
func (h *Hub) remove(ctx context.Context, k string) {
	h.mu.Lock()
	delete(h.subs, k)
	h.mu.Unlock()
	if err := h.opts.Store.DeleteWebSub(context.WithoutCancel(ctx), hubKind, k); err != nil {
		h.log.Error("websub subscription not removed", slog.String("key", k), slog.Any("error", err))
	}
}

// docHash is the hex SHA-256 of a document body.
func docHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
