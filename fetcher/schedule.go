package fetcher

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
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

// interval estimates the normal time between two runs of sched around now:
// the gap between its next two activations.
func interval(sched cron.Schedule, now time.Time) time.Duration {
	first := sched.Next(now)
	return sched.Next(first).Sub(first)
}

// floor is the least time between two fetches of src with state st:
// the longer of what its server (Cache-Control max-age) and its feed (<ttl>,
// sy:updatePeriod) ask, never above fetch.max_interval; and
// fetch.max_interval itself for a source whose documents are pushed
// (Options.Pushed), which is polled only as a safety net.
func (f *Fetcher) floor(src *source, st storage.SourceState) time.Duration {
	if f.isPushed(src) {
		return f.fetch.MaxInterval
	}
	return f.pollFloor(st)
}

// pollFloor is floor for a source whose documents are not pushed.
func (f *Fetcher) pollFloor(st storage.SourceState) time.Duration {
	return min(max(st.ServerInterval, st.FeedInterval), f.fetch.MaxInterval)
}

// isPushed reports whether src's documents are pushed (Options.Pushed).
func (f *Fetcher) isPushed(src *source) bool {
	return f.pushed != nil && f.pushed(src.feed.URL)
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

// Tick is how often scheduled passes look for due sources. Each source's
// own interval comes from its cron spec; the tick only bounds how late a
// fetch starts. Ten seconds keeps the group of sources whose slots fall in
// one tick small (1,000 sources on "@every 15m": about 11 per tick); a
// tick costs what its due sources cost, not what all sources do (see
// dueQueue).
const Tick = 10 * time.Second

// tickInterval is Tick, the name the fetcher's own code uses.
const tickInterval = Tick

// Scheduler drives passes with robfig/cron, in UTC: one pass at once, then
// one on every Tick. A tick that comes while a pass runs is skipped; a
// receive on Kick makes a pass follow the running one (or start at once).
// Passes never overlap, and a panic in one is logged and ends only that
// pass. It is the one scheduling path of the daemon (serve) and of
// Fetcher.Run.
type Scheduler struct {
	// Pass runs one pass; it must return once the context it was built
	// with ends.
	Pass func()
	// Ticked, when set, is called on every tick, whether a pass starts or
	// is skipped: the scheduler's heartbeat.
	Ticked func()
	// Kick, when set, asks for a pass that does not wait for the next tick.
	Kick <-chan struct{}
	// Logger receives cron's messages (wake-ups at Debug, recovered panics
	// at Error); nil discards.
	Logger *slog.Logger
}

// Run schedules passes until ctx is done, then waits for the pass in
// flight to return.
func (s Scheduler) Run(ctx context.Context) {
	logger := cronLogger{s.Logger}
	if logger.log == nil {
		logger.log = slog.New(slog.DiscardHandler)
	}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger))
	// running holds a token while a pass runs, whether a tick or a kick
	// started it; SkipIfStillRunning alone would let a kick overlap a tick.
	running := make(chan struct{}, 1)
	// Recover goes inside SkipIfStillRunning: cron v3.0.1's wrapper does
	// not give its token back when the job panics, which would skip every
	// tick after the first panic.
	ticked := cron.NewChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)).Then(cron.FuncJob(func() {
		select {
		case running <- struct{}{}:
		default:
			logger.Info("skip")
			return
		}
		defer func() { <-running }()
		s.Pass()
	}))
	kicked := cron.NewChain(cron.Recover(logger)).Then(cron.FuncJob(func() {
		running <- struct{}{}
		defer func() { <-running }()
		if ctx.Err() == nil {
			s.Pass()
		}
	}))
	every := cron.Every(Tick)
	c.Schedule(every, ticked)
	if s.Ticked != nil {
		c.Schedule(every, cron.NewChain(cron.Recover(logger)).Then(cron.FuncJob(s.Ticked)))
		s.Ticked()
	}
	var wg sync.WaitGroup
	wg.Go(ticked.Run) // cron runs nothing at Start
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.Kick:
				kicked.Run()
			}
		}
	})
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	wg.Wait()
}

// Run schedules passes until ctx is done (see Scheduler): one pass right
// away, then one on every Tick, each fetching the sources then due. A tick
// that comes while a pass still runs is skipped. Once ctx is done, the pass
// in flight sees it cancelled; Run returns nil when that pass has ended.
func (f *Fetcher) Run(ctx context.Context) error {
	f.log.Info("fetcher started", slog.Int("sources", len(f.sources)))
	Scheduler{Pass: func() { f.scheduledPass(ctx) }, Logger: f.log}.Run(ctx)
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
