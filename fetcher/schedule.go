package fetcher

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tributary/tributary/storage"
)

const (
	// minBackoffBase is the smallest interval a failing source backs off from.
	minBackoffBase = time.Minute
	// maxBackoff caps the wait after repeated failures (before jitter).
	maxBackoff = 24 * time.Hour
	// jitterFraction is the largest relative jitter added to a backoff.
	jitterFraction = 0.10
)

// parseSchedule parses a standard cron spec (5 fields or a descriptor).
// cron.ParseStandard panics on some malformed time-zone prefixes
// ("TZ=0"), so a panic is turned into an error.
func parseSchedule(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cron spec %q: %v", spec, r)
		}
	}()
	sched, err = cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cron spec %q: %w", spec, err)
	}
	return sched, nil
}

// interval estimates the normal time between two runs of sched around now:
// the gap between its next two activations.
func interval(sched cron.Schedule, now time.Time) time.Duration {
	first := sched.Next(now)
	return sched.Next(first).Sub(first)
}

// isDue reports whether a source with stored state st (hasState false when
// it was never fetched) is to be fetched at now. A source in good health is
// also due once its current schedule says so, so that a shortened schedule
// takes effect without waiting for the old NextDue.
func isDue(sched cron.Schedule, st storage.SourceState, hasState bool, now time.Time) bool {
	if !hasState || st.NextDue.IsZero() || !st.NextDue.After(now) {
		return true
	}
	if st.ConsecutiveFailures == 0 && !st.LastFetch.IsZero() {
		return !sched.Next(st.LastFetch).After(now)
	}
	return false
}

// backoff returns when a source that has now failed fails times in a row is
// next due: its normal interval (at least minBackoffBase) doubled for each
// failure after the first, capped at maxBackoff, moved by up to ±10% jitter,
// and never earlier than the schedule's next activation.
func backoff(sched cron.Schedule, fails int, now time.Time) time.Time {
	base := max(interval(sched, now), minBackoffBase)
	wait := base
	for i := 1; i < fails && wait < maxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, maxBackoff)
	span := int64(float64(wait) * jitterFraction)
	if span > 0 {
		wait += time.Duration(rand.Int64N(2*span+1) - span)
	}
	return later(now.Add(wait), sched.Next(now))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tick is how often Run looks for due sources. Each source's own interval
// comes from its cron spec; the tick only bounds how late a fetch starts.
const tick = "@every 1m"

// Run schedules passes until ctx is done: one pass right away, then one on
// every tick of a UTC cron schedule (each minute), each fetching the sources
// then due. A tick that comes while a pass still runs is skipped. Once ctx
// is done, the pass in flight sees it cancelled; Run returns nil when that
// pass has ended.
func (f *Fetcher) Run(ctx context.Context) error {
	logger := cronLogger{f.log}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)),
	)
	id, err := c.AddFunc(tick, func() { f.scheduledPass(ctx) })
	if err != nil {
		return fmt.Errorf("fetcher: schedule passes: %w", err)
	}
	// The first pass runs the wrapped job itself, so that ticks skip while
	// it runs and a panic in it is recovered like any other.
	first := c.Entry(id).WrappedJob
	c.Start()
	f.log.Info("fetcher started", slog.Int("sources", len(f.sources)))
	first.Run()
	<-ctx.Done()
	<-c.Stop().Done()
	f.log.Info("fetcher stopped")
	return nil
}

// cronLogger adapts slog to cron.Logger. cron logs every wake-up at Info,
// which goes to Debug here; its errors (recovered panics) stay errors.
type cronLogger struct{ log *slog.Logger }

var _ cron.Logger = cronLogger{}

// Info logs a cron lifecycle message at Debug.
func (l cronLogger) Info(msg string, keysAndValues ...any) {
	l.log.Debug(msg, keysAndValues...)
}

// Error logs a cron error at Error.
func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.log.Error(msg, append([]any{slog.Any("error", err)}, keysAndValues...)...)
}
