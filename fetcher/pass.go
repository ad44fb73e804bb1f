package fetcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// job is one source to fetch in a pass.
type job struct {
	src *source
	st  storage.SourceState
	// hasState is false when the source was never fetched.
	hasState bool
	// err is set when the stored state could not be read.
	err error
	// forced: the operator asked for this fetch (FetchNow), so it is made
	// even while the host asked to be left alone.
	forced bool
}

// RunOnce fetches every source that is due now, under the concurrency
// limits, and returns one Result per source fetched, in config order.
// A source is due when it was never fetched or its stored NextDue has come.
// Per-source failures are in the Results; the error is non-nil only when the
// pass itself could not run (ctx cancelled before it started). RunOnce waits
// for a pass already running to finish first.
func (f *Fetcher) RunOnce(ctx context.Context) ([]Result, error) {
	if err := f.lock(ctx); err != nil {
		return nil, err
	}
	defer f.unlock()
	return f.runDue(ctx)
}

// FetchNow fetches the sources with the given URLs now (every source when
// none is given), due or not, and returns their Results in config order.
// With a Coordinator, a source another instance is fetching is not
// fetched: its Result has outcome "leased" and an error.
// An URL that names no configured source is an error, and nothing is
// fetched. FetchNow waits for a pass already running to finish first.
func (f *Fetcher) FetchNow(ctx context.Context, feedURLs ...string) ([]Result, error) {
	srcs := f.sources
	if len(feedURLs) > 0 {
		srcs = nil
		var errs []error
		for _, u := range feedURLs {
			src, ok := f.byURL[u]
			if !ok {
				errs = append(errs, fmt.Errorf("fetch %s: not a configured source", config.RedactURL(u)))
				continue
			}
			if !slices.Contains(srcs, src) {
				srcs = append(srcs, src)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		slices.SortFunc(srcs, func(a, b *source) int { return cmp.Compare(a.index, b.index) })
	}
	if err := f.lock(ctx); err != nil {
		return nil, err
	}
	defer f.unlock()
	srcs, refused, err := f.claim(ctx, srcs, f.now(), true)
	if err != nil {
		return nil, err
	}
	jobs, err := f.jobs(ctx, srcs, false)
	if err != nil {
		// The sources stay where they were in the due queue; for the
		// other instances, they are due at once.
		for _, src := range srcs {
			f.release(ctx, src, time.Time{}, true)
		}
		return nil, err
	}
	results := f.runPass(ctx, jobs)
	if len(refused) == 0 {
		return results, nil
	}
	for _, src := range refused {
		results = append(results, leased(src))
	}
	slices.SortFunc(results, func(a, b Result) int { return cmp.Compare(f.byURL[a.FeedURL].index, f.byURL[b.FeedURL].index) })
	return results, nil
}

// scheduledPass is the job of Run's ticks: a pass over the due sources,
// skipped when another pass still runs.
func (f *Fetcher) scheduledPass(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	select {
	case f.pass <- struct{}{}:
	default:
		f.log.Debug("fetch pass skipped: another pass is running")
		return
	}
	defer f.unlock()
	// An error here means ctx ended before the pass began: nothing to report.
	_, _ = f.runDue(ctx)
}

// lock waits until no other pass runs; unlock ends the pass.
func (f *Fetcher) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case f.pass <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *Fetcher) unlock() { <-f.pass }

// runDue runs a pass over the sources due now: those the due queue gives
// and, with a Coordinator, it grants, whose stored state alone is read.
// With a Coordinator the due sources are claimed and fetched in batches
// of claimBatch, so that instances started together share a long pass
// instead of the first one leasing every source. The caller holds the
// lock.
func (f *Fetcher) runDue(ctx context.Context) ([]Result, error) {
	if err := f.due.load(ctx, f); err != nil {
		return nil, err
	}
	due := f.due.popDue(f.now())
	srcs := make([]*source, len(due))
	for i, idx := range due {
		srcs[i] = f.sources[idx]
	}
	if f.coord == nil {
		jobs, err := f.jobs(ctx, srcs, true)
		if err != nil {
			return nil, err
		}
		return f.runPass(ctx, jobs), nil
	}
	start := f.now()
	order := make(map[string]int, len(srcs))
	for _, src := range srcs {
		order[src.feed.URL] = src.index
	}
	var results []Result
	for len(srcs) > 0 {
		batch := srcs[:min(len(srcs), f.claimBatch())]
		res, err := f.runClaimed(ctx, batch)
		results = append(results, res...)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			for _, src := range srcs[len(batch):] {
				f.due.schedule(src.index, time.Time{}, true) // still due
			}
			if len(results) == 0 {
				return nil, err
			}
			break
		}
		srcs = srcs[len(batch):]
	}
	slices.SortFunc(results, func(a, b Result) int {
		return cmp.Compare(order[a.FeedURL], order[b.FeedURL])
	})
	f.logPass(ctx, results, f.now().Sub(start))
	return results, nil
}

// claimBatch is how many due sources a pass claims at once with a
// Coordinator: enough to keep fetch.concurrency workers busy, few enough
// that another instance finds due sources left to claim.
func (f *Fetcher) claimBatch() int { return 4 * f.fetch.Concurrency }

// runClaimed claims srcs, due now, and fetches those granted; the caller
// logs the pass.
func (f *Fetcher) runClaimed(ctx context.Context, srcs []*source) ([]Result, error) {
	granted, _, err := f.claim(ctx, srcs, f.now(), false)
	if err != nil {
		for _, src := range srcs {
			f.due.schedule(src.index, time.Time{}, true) // still due
		}
		if ctx.Err() == nil {
			f.log.Error("fetch pass not run: due sources not claimed", slog.Any("error", err))
		}
		return nil, err
	}
	jobs, err := f.jobs(ctx, granted, true)
	if err != nil {
		for _, src := range granted {
			f.reschedule(ctx, src, time.Time{}, true) // still due
		}
		return nil, err
	}
	return f.fetchJobs(ctx, jobs), nil
}

// jobs reads the stored state of srcs and returns the jobs for them, only
// for the due ones when onlyDue is set (a source the state shows not due
// goes back to the due queue, and its lease is released). A state that
// cannot be read makes a job that fails with it, unless ctx ended, which
// ends the pass.
func (f *Fetcher) jobs(ctx context.Context, srcs []*source, onlyDue bool) ([]job, error) {
	now := f.now()
	jobs := make([]job, 0, len(srcs))
	for _, src := range srcs {
		st, ok, err := f.store.SourceState(ctx, src.feed.URL)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			jobs = append(jobs, job{src: src, err: fmt.Errorf("read source state: %w", err)})
			continue
		}
		if st.RetryAfter.After(now) {
			// A Retry-After stored before a restart still holds.
			f.hosts.deferHost(hostOf(src, st), st.RetryAfter)
		}
		if onlyDue && !f.isDue(src, st, ok, now) {
			at, scheduled := f.wake(src, st, ok, now)
			f.reschedule(ctx, src, at, scheduled)
			continue
		}
		jobs = append(jobs, job{src: src, st: st, hasState: ok, forced: !onlyDue})
	}
	return jobs, nil
}

// runPass fetches jobs, at most fetch.concurrency at a time, and returns
// their Results in the order of jobs. Jobs are started round-robin across
// hosts, so that sources of one busy host do not take every worker while
// they wait for that host's limit.
//
// A job gives its worker slot back once its feed is downloaded, parsed and
// normalised, and then waits for its save: downloads go on while the disk
// commits, and the saves of many sources share one commit (see
// storage.Store.SaveArticles), the more of them the fewer commits. The jobs
// waiting for their save hold at most pendingSaveBytes of feed bodies, which
// bounds the memory their articles take.
func (f *Fetcher) runPass(ctx context.Context, jobs []job) []Result {
	start := f.now()
	results := f.fetchJobs(ctx, jobs)
	f.logPass(ctx, results, f.now().Sub(start))
	return results
}

// fetchJobs is runPass without its log line.
func (f *Fetcher) fetchJobs(ctx context.Context, jobs []job) []Result {
	results := make([]Result, len(jobs))
	workers := make(chan struct{}, f.fetch.Concurrency)
	saving := semaphore.NewWeighted(pendingSaveBytes)
	var wg sync.WaitGroup
	for _, i := range roundRobin(jobs) {
		workers <- struct{}{}
		wg.Go(func() {
			release := sync.OnceFunc(func() { <-workers })
			defer release()
			toSave := func(size int) func() {
				n := min(max(int64(size), 1), pendingSaveBytes)
				// Saves are never cancelled, so neither is the wait.
				_ = saving.Acquire(context.Background(), n)
				release()
				return func() { saving.Release(n) }
			}
			results[i] = f.runJob(ctx, jobs[i], toSave)
		})
	}
	wg.Wait()
	return results
}

// pendingSaveBytes bounds the feed bodies of the jobs of a pass that wait
// for their save (a larger body waits alone), whatever fetch.concurrency.
// It sizes the group-commit transactions of a first pass, and so its peak
// memory: 16 MB made 850 MB of anonymous memory at the peak of a first
// ingest of 2,000 feeds × 50 items, 4 MB makes 450 MB, at about the same
// speed (see README, Performance).
const pendingSaveBytes = 4 << 20

// runJob fetches one source and logs its result; toSave is as in
// fetchSource. A panic is recovered into a Result with outcome "panic", so
// that it ends neither the pass nor the daemon.
func (f *Fetcher) runJob(ctx context.Context, j job, toSave func(size int) (done func())) (res Result) {
	start := f.now()
	defer f.unstored(ctx, j, &res)
	defer func() {
		if r := recover(); r != nil {
			f.log.Error("panic while fetching source",
				slog.String("feed_url", j.src.shown),
				slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
			res = Result{
				FeedURL:  j.src.feed.URL,
				Title:    cmp.Or(j.src.feed.Title, j.st.Title),
				Outcome:  outcomePanic,
				Err:      redactedError{fmt.Errorf("fetch %s: panic: %v", j.src.shown, r)},
				Duration: f.now().Sub(start),
			}
		}
	}()
	if j.err != nil {
		res = Result{
			FeedURL: j.src.feed.URL,
			Title:   j.src.feed.Title,
			Outcome: outcomeStoreError,
			Err:     redactedError{fmt.Errorf("fetch %s: %w", j.src.shown, j.err)},
		}
	} else {
		res = f.fetchSource(ctx, j.src, j.st, j.forced, toSave)
	}
	switch {
	case res.Outcome == outcomeCanceled:
		f.log.Debug("source fetch canceled", slog.String("feed_url", j.src.shown))
	case res.Outcome == outcomeDeferred:
		f.log.Debug("source fetch deferred: its host asked to wait", slog.String("feed_url", j.src.shown))
	case res.Err != nil:
		f.log.Warn("source fetch failed",
			slog.String("feed_url", j.src.shown),
			slog.String("outcome", res.Outcome),
			slog.Any("error", res.Err))
	default:
		f.log.Debug("source fetched",
			slog.String("feed_url", j.src.shown),
			slog.String("outcome", res.Outcome),
			slog.Int("new", res.New),
			slog.Int("updated", res.Updated),
			slog.Int("filtered", res.Filtered),
			slog.Int("expired", res.Expired),
			slog.Duration("duration", res.Duration))
	}
	return res
}

// unstored puts back into the due queue, as due as before, the source of a
// job that stored no new state: its state could not be read, its fetch was
// cancelled, or it panicked. (fetchSource schedules the others.)
func (f *Fetcher) unstored(ctx context.Context, j job, res *Result) {
	if j.err == nil && res.Outcome != outcomeCanceled && res.Outcome != outcomePanic {
		return
	}
	at, scheduled := f.wake(j.src, j.st, j.hasState && j.err == nil, f.now())
	f.reschedule(ctx, j.src, at, scheduled)
}

// logPass writes the one summary line of a pass: at Info, or at Debug when
// no source was due (Run looks every minute).
func (f *Fetcher) logPass(ctx context.Context, results []Result, d time.Duration) {
	var ok, notModified, failed, added, updated, overMax, expired int
	for _, r := range results {
		overMax += r.OverMax
		switch {
		case r.Err != nil:
			failed++
		case r.Outcome == outcomeNotModified:
			notModified++
		default:
			ok++
		}
		added += r.New
		updated += r.Updated
		expired += r.Expired
	}
	level := slog.LevelInfo
	if len(results) == 0 {
		level = slog.LevelDebug
	}
	f.log.LogAttrs(ctx, level, "fetch pass finished",
		slog.Int("sources", len(results)),
		slog.Int("ok", ok),
		slog.Int("not_modified", notModified),
		slog.Int("failed", failed),
		slog.Int("new", added),
		slog.Int("updated", updated),
		slog.Int("items_over_max_items", overMax),
		slog.Int("expired", expired),
		slog.Duration("duration", d))
}

// roundRobin returns the indexes of jobs ordered by taking one job of each
// host in turn, hosts in order of first appearance.
func roundRobin(jobs []job) []int {
	var hosts []string
	byHost := map[string][]int{}
	for i, j := range jobs {
		if _, ok := byHost[j.src.host]; !ok {
			hosts = append(hosts, j.src.host)
		}
		byHost[j.src.host] = append(byHost[j.src.host], i)
	}
	order := make([]int, 0, len(jobs))
	for len(order) < len(jobs) {
		for _, h := range hosts {
			if q := byHost[h]; len(q) > 0 {
				order = append(order, q[0])
				byHost[h] = q[1:]
			}
		}
	}
	return order
}
