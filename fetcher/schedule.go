package fetcher

import (
	"context"
	"fmt"
	"hash/fnv"
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

// floor is the least time between two fetches of a source with state st:
// the longer of what its server (Cache-Control max-age) and its feed (<ttl>,
// sy:updatePeriod) ask, never above fetch.max_interval.
func (f *Fetcher) floor(st storage.SourceState) time.Duration {
	return min(max(st.ServerInterval, st.FeedInterval), f.fetch.MaxInterval)
}

// maxSpecSpread bounds the offset added to the activations of a cron spec
// that is not an @every: such specs name wall-clock times (e.g. "0 6 * * *")
// that should still roughly hold.
const maxSpecSpread = 15 * time.Minute

// nextRun returns when the source, fetched in good health at from, is next
// due. Sources are spread over their interval by a stable offset derived
// from their URL, so that many sources on one schedule do not fire together
// and each keeps its own slot across restarts:
//   - "@every D": the slots are the times t with (t - phase) a multiple of D
//     since the Unix epoch, phase in [0, D); the next slot is the first one
//     at least min(D/2, D-tick) after from, so that a fetch that started up to
//     one tick late still keeps the slot after its own.
//   - other specs: the next activation plus an offset of up to a tenth of
//     the interval, at most maxSpecSpread.
//
// The result is never before from+floor.
func (src *source) nextRun(from time.Time, floor time.Duration) time.Time {
	var next time.Time
	if every, ok := src.feed.Cron.(cron.ConstantDelaySchedule); ok && every.Delay > 0 {
		d := every.Delay
		gap := min(d/2, d-tickInterval)
		next = slotAfter(from.Add(max(gap, 0)), d, phase(src.feed.URL, d))
		if !next.After(from) {
			next = next.Add(d)
		}
	} else {
		spread := min(interval(src.feed.Cron, from)/10, maxSpecSpread)
		next = src.feed.Cron.Next(from).Add(phase(src.feed.URL, spread))
	}
	return later(next, from.Add(floor))
}

// phase is the stable offset of feedURL within span, in whole seconds when
// span is at least a second.
func phase(feedURL string, span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(feedURL)) // a hash.Hash never fails
	if span < time.Second {
		return time.Duration(h.Sum64() % uint64(span))
	}
	return time.Duration(h.Sum64()%uint64(span/time.Second)) * time.Second
}

// slotAfter returns the first time at or after t that lies phase after a
// multiple of every since the Unix epoch.
func slotAfter(t time.Time, every, phase time.Duration) time.Time {
	r := (t.UnixNano() - int64(phase)) % int64(every)
	if r < 0 {
		r += int64(every)
	}
	if r == 0 {
		return t
	}
	return t.Add(every - time.Duration(r))
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
// Ten seconds keeps the group of sources whose slots fall in one tick
// small (1,000 sources on "@every 15m": about 11 per tick) for the price of
// reading the source states six times a minute.
const tick = "@every 10s"

// tickInterval is the period of tick.
const tickInterval = 10 * time.Second

// Run schedules passes until ctx is done: one pass right away, then one on
// every tick of a UTC cron schedule (every 10 seconds), each fetching the sources
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
