// Package status reports the health of every configured source and the
// size of every category: as JSON for GET /status (Handler) and as a text
// table for tributary stats (WriteTable). Collect builds the Report from the
// store; WriteTable takes the Report itself, so that it can format one
// received from elsewhere (e.g. a running daemon) as well.
package status

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Store is what Collect reads from a store, whatever its backend.
// Implementations must be safe for concurrent use.
type Store interface {
	SourceStates(ctx context.Context) ([]storage.SourceState, error)
	SourceArticleCounts(ctx context.Context) (map[string]int, error)
	Categories(ctx context.Context) ([]storage.CategoryInfo, error)
}

// Source is one configured source.
type Source struct {
	// URL is the configured feed URL, the source's identity.
	URL string
	// Title is the configured title override; may be empty.
	Title string
}

// OutcomeNever is the Outcome of a source that was never fetched.
const OutcomeNever = "never"

// Entry is the health of one source. No field carries a secret: URL,
// PermanentURL and the URLs in LastError are redacted (config.RedactURL).
type Entry struct {
	URL   string `json:"url"`
	Title string `json:"title"`
	// LastFetch and LastSuccess are zero (omitted) until they happen.
	LastFetch   time.Time `json:"last_fetch,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Outcome is the fetcher's word for the last fetch ("ok",
	// "not-modified", "gone", "timeout", …), or OutcomeNever.
	Outcome             string    `json:"outcome"`
	LastError           string    `json:"last_error,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	NextDue             time.Time `json:"next_due,omitzero"`
	// Items is the number of articles stored from the source.
	Items int `json:"items"`
	// PermanentURL is where the source moved for good, when it did.
	PermanentURL string `json:"permanent_url,omitempty"`
	// Hint tells the operator what to do, when something is to be done.
	Hint string `json:"hint,omitempty"`
	// FullText counts the article pages fetched for a source with
	// fulltext; zero (omitted) for the others.
	FullText FullText `json:"fulltext,omitzero"`
}

// FullText counts the linked pages of a source's new items fetched for
// their full text, since the source was first fetched.
type FullText struct {
	// Fetched pages gave the article's text.
	Fetched int `json:"fetched"`
	// Failed pages did not (an HTTP error, a timeout, no article found):
	// their items kept the feed's text.
	Failed int `json:"failed"`
	// LastError is the last failure, redacted; empty once a page gives its
	// text again.
	LastError string `json:"last_error,omitempty"`
}

// Category is the size of one category.
type Category struct {
	Slug    string    `json:"slug"`
	Name    string    `json:"name"`
	Count   int       `json:"count"`
	Updated time.Time `json:"updated,omitzero"`
}

// Report is everything GET /status and tributary stats show.
type Report struct {
	Generated  time.Time  `json:"generated"`
	Categories []Category `json:"categories"`
	Sources    []Entry    `json:"sources"`
	// WebSub holds the running daemon's WebSub counters; nil (omitted)
	// when WebSub is off or no daemon runs.
	WebSub *WebSub `json:"websub,omitempty"`
}

// WebSub are the WebSub counters of a running daemon since it started
// (the subscription counts are current).
type WebSub struct {
	// HubSubscriptions, Delivered and DeliveryFailures are the built-in
	// hub's: active subscriptions to our feeds, and deliveries.
	HubSubscriptions int   `json:"hub_subscriptions"`
	Delivered        int64 `json:"delivered"`
	DeliveryFailures int64 `json:"delivery_failures"`
	// Subscriptions and Pending count our subscriptions to the sources'
	// hubs; Pushes the pushes taken, PushesDropped those refused
	// (unsigned, badly signed, too large, for no subscription).
	Subscriptions int   `json:"subscriptions"`
	Pending       int   `json:"pending"`
	Pushes        int64 `json:"pushes"`
	PushesDropped int64 `json:"pushes_dropped"`
}

// Collect builds the Report for sources, in their order, at now. States
// stored for sources no longer configured are left out. The sources' URLs,
// and those in their errors, are shown without their secrets.
func Collect(ctx context.Context, store Store, sources []Source, now time.Time) (Report, error) {
	states, err := store.SourceStates(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("collect status: %w", err)
	}
	counts, err := store.SourceArticleCounts(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("collect status: %w", err)
	}
	cats, err := store.Categories(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("collect status: %w", err)
	}
	byURL := make(map[string]storage.SourceState, len(states))
	for _, st := range states {
		byURL[st.FeedURL] = st
	}
	r := Report{Generated: now.UTC(), Categories: []Category{}, Sources: []Entry{}}
	for _, c := range cats {
		r.Categories = append(r.Categories, Category{Slug: c.Slug, Name: c.Name, Count: c.Count, Updated: c.Updated})
	}
	for _, src := range sources {
		st, ok := byURL[src.URL]
		e := Entry{URL: config.RedactURL(src.URL), Title: cmp.Or(src.Title, st.Title), Items: counts[src.URL], Outcome: OutcomeNever}
		if ok {
			e.LastFetch, e.LastSuccess = st.LastFetch, st.LastSuccess
			e.Outcome = cmp.Or(st.Outcome, OutcomeNever)
			e.LastError, e.ConsecutiveFailures = config.RedactText(st.LastError), st.ConsecutiveFailures
			e.NextDue, e.PermanentURL = st.NextDue, config.RedactURL(st.PermanentURL)
			e.FullText = FullText{Fetched: st.FullTextFetched, Failed: st.FullTextFailed, LastError: config.RedactText(st.FullTextError)}
		}
		e.Hint = hint(e)
		r.Sources = append(r.Sources, e)
	}
	return r, nil
}

// hint is the advice for the operator about e, or "".
func hint(e Entry) string {
	switch {
	case e.Outcome == "gone":
		return "the server says the feed is gone (410): remove it or change its URL in the config; tributary fetch -feed URL tries again"
	case e.PermanentURL != "":
		return "update the config: URL moved to " + e.PermanentURL
	case e.Outcome == "not-a-feed":
		return "the URL serves a web page, not a feed: see last_error for the feeds it advertises"
	}
	return ""
}
