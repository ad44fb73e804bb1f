package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints r for people: one table of categories (slug, name,
// articles, last updated) and one of sources (health, items, last fetch,
// next due, failures, error or hint). Times are UTC, shown relative to
// r.Generated. It takes the data, not a store, so that a Report from
// anywhere can be printed.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tNAME\tARTICLES\tUPDATED")
	for _, c := range r.Categories {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.Slug, oneLine(c.Name, 40), c.Count, ago(c.Updated, r.Generated))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SOURCE\tOUTCOME\tITEMS\tLAST FETCH\tNEXT DUE\tFAILS\tNOTE")
	healthy := 0
	for _, e := range r.Sources {
		note := e.Hint
		if note == "" {
			note = e.LastError
		}
		if e.ConsecutiveFailures == 0 && e.Outcome != OutcomeNever {
			healthy++
		}
		name := e.URL
		if e.Title != "" {
			name = e.Title + " <" + e.URL + ">"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\n", oneLine(name, 70), e.Outcome, e.Items,
			ago(e.LastFetch, r.Generated), ago(e.NextDue, r.Generated), e.ConsecutiveFailures, oneLine(note, 160))
		if ft := e.FullText; ft != (FullText{}) {
			fmt.Fprintf(tw, "\t\t\t\t\t\tfull text: %d fetched, %d failed (kept the feed's text)%s\n",
				ft.Fetched, ft.Failed, prefixed(": ", oneLine(ft.LastError, 160)))
		}
	}
	fmt.Fprintf(tw, "\n%d of %d sources healthy (as of %s)\n", healthy, len(r.Sources), r.Generated.Format(time.RFC3339))
	if ws := r.WebSub; ws != nil {
		fmt.Fprintf(tw, "websub: hub %d subscribers, %d delivered, %d failed; %d sources pushed, %d pending, %d pushes, %d dropped\n",
			ws.HubSubscriptions, ws.Delivered, ws.DeliveryFailures, ws.Subscriptions, ws.Pending, ws.Pushes, ws.PushesDropped)
	}
	return tw.Flush()
}

// prefixed returns s after prefix, or "" when s is empty.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// ago shows t relative to now: "-", "3m ago", "in 12m".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + short(-d)
	}
	return short(d) + " ago"
}

// short renders d with at most two units: 1d4h, 3h12m, 5m3s, 42s.
func short(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// oneLine flattens s to one line of at most n runes, so that a hostile
// error message cannot break the table.
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == '\t' || r < ' ' || r == 0x7f
	}), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
