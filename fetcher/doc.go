// Package fetcher pulls the configured sources on their schedules, turns their
// items into storage.Articles and saves them.
//
// Items get their IDs and clean links from the story package (ItemKey,
// CleanURL, IdentityURL). The store is reached only through the Store
// interface declared here (save a fetch's articles, read and write a
// source's state), so any backend that implements it will do; which copies
// are the same story is the store's decision, not the fetcher's.
//
// # One fetch
//
// Each source is fetched with a plain GET under a per-source timeout
// (fetch.timeout, covering the whole exchange including the body). The
// validators of the last 200 answer are sent back verbatim as If-None-Match
// and If-Modified-Since; a 304, or a 200 without validators whose body hashes
// to the one stored, ends the fetch as "not-modified" without a parse or an
// article write. Bodies are read through a limit that fails, rather than
// truncates, past fetch.max_body decompressed bytes. A charset named only in
// the Content-Type header is honoured, and invalid UTF-8 is repaired to
// U+FFFD. An HTML page where a feed was expected fails with the feed links
// it advertises.
//
// # Passes
//
// A pass fetches a set of sources with at most fetch.concurrency fetches in
// flight overall and fetch.per_host to one host, and starts two requests to
// one host at least fetch.host_interval apart. A host that answers 429, or
// 503 with Retry-After, is not asked again by scheduled passes until then
// (the time is stored with the source, so it survives a restart); FetchNow,
// the operator's explicit request, still asks it. Passes never overlap:
// RunOnce and FetchNow wait for a running pass to finish, while the ticks of
// Run skip when a pass is still running. One source failing, stalling or
// panicking never stops the others.
//
// # Schedule
//
// Every source has a cron spec (its own schedule, else the global one). A
// source never fetched is due at once. After a success it is next due in its
// own slot: a stable offset within its interval derived from its URL (see
// nextRun), so that many sources on one schedule are spread out; never
// sooner than its server (Cache-Control max-age) or its feed (<ttl>,
// sy:updatePeriod) asks, up to fetch.max_interval. After a failure it backs
// off exponentially from its normal interval, with ±10% jitter, capped at 24
// hours and never earlier than the spec's next activation. A 410 Gone stops
// scheduled fetches of the source until the operator acts. A permanent
// redirect seen on two fetches in a row is remembered (PermanentURL) and
// fetched from then on. Cron specs are parsed once, by config.Load
// (config.Feed.Cron), and a spec without CRON_TZ= is evaluated in UTC.
//
// # Scheduling
//
// Scheduler is the one scheduling path, used by serve and by Run: a
// robfig/cron schedule in UTC with a single entry, every Tick (10 seconds),
// wrapped in SkipIfStillRunning and Recover, cron's logger adapted to slog
// (its wake-ups at Debug). A pass runs at once, then on every tick; a tick
// that comes while a pass runs is skipped, and a kick (serve's reload)
// makes a pass follow the running one. Each tick's pass costs what its due
// sources cost: the Fetcher keeps an in-memory min-heap of when each source
// is next due, filled from the stored states once by the first scheduled
// pass and updated by every fetch, so a tick pops the due sources and reads
// the stored state of those only (20 bytes of queue and one *source per
// source, the source pointing at the config's feed without a copy). A
// source whose documents are pushed (Options.Pushed) is looked at on its
// own schedule, so that it is polled on it again once its pushes stop.
//
// # Several instances
//
// Options.Coordinator shares the sources of several instances on one
// database (package pglease on PostgreSQL); without it, the Fetcher is alone
// and calls nothing more. With it, a scheduled pass claims the sources its
// due queue gives in batches of four times fetch.concurrency, one Claim a
// batch, fetching each batch's granted sources before it claims the next,
// so that instances started together share a long pass: a source
// another instance holds, or fetched since and released with a later due
// time, is refused with when to look again, and the due queue moves it
// there, so each source is fetched once per due time by one instance. After
// its fetch (or when it is not fetched after all: not due by its stored
// state, cancelled, panicked), the instance releases the lease with the
// source's next due time, the time of its own due queue. A lease lasts while
// its instance lives (the Coordinator renews it) and ends at most a lease
// (110 seconds with pglease) after its instance died; its sources are then
// claimed by the others at their next tick, within 2 minutes in all. FetchNow claims too, due or not: a source another instance is
// fetching gets the outcome "leased", with an error, and is not fetched.
//
// Every request to a host (feeds and full-text pages) also takes a turn of
// the Coordinator after this instance's own limiter: fetch.per_host and
// fetch.host_interval then hold across the instances (each needs the same
// fetch settings), and a deferral one instance records (429, or 503 with
// Retry-After) is seen by the others at their next turn of that host.
//
// # Outcomes
//
// Every fetch ends with one outcome word, stored in storage.SourceState and
// returned in Result: "ok", "not-modified", "http-error", "rate-limited",
// "gone", "timeout", "network-error", "too-large", "parse-error",
// "not-a-feed", "refused" (a public source sent it to a private address),
// "store-error", "panic", "deferred" (not asked: its host asked to wait), or
// "canceled" when the pass's context ended first. FetchNow's Results also
// have "leased" (another instance is fetching it), which is never stored.
//
// # Private addresses
//
// Unless fetch.allow_private_redirects, a fetch whose first request reached
// a public address never connects to a private one (IsPrivate): its
// redirects are dialled by a transport whose dialer checks every address it
// connects to, after name resolution, and refuses private ones with a
// PrivateRedirectError. A source whose first request reached a private
// address (a home lab) may redirect anywhere.
package fetcher
