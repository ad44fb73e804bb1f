package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// bench is one run of the command: the farm, the built binary and the
// PostgreSQL server, if any.
type bench struct {
	o         options
	bin, self string
	farmURL   string
	dir       string
	pg        *pgServer // nil without -postgres
	out       io.Writer
}

// stores are the stores a round filled: the bbolt one's data_dir and the
// URLs of the PostgreSQL databases of the one- and two-instance runs.
type stores struct {
	bboltDir, pg1, pg2 string
}

// compare builds the farm, serves it, builds tributary and runs the rounds,
// then the serving load on the last round's stores.
func compare(ctx context.Context, o options, stdout io.Writer) error {
	o.postgres = o.postgres || o.database != ""
	fm := buildFarm(o.feeds, o.items, time.Now().UTC())
	srv := httptest.NewServer(fm)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "tributary-bench-ingest-")
	if err != nil {
		return fmt.Errorf("make work dir: %w", err)
	}
	defer os.RemoveAll(dir)
	b := &bench{o: o, farmURL: srv.URL, dir: dir, bin: filepath.Join(dir, "tributary"), out: stdout}
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/tributary").CombinedOutput(); err != nil {
		return fmt.Errorf("build tributary: %w\n%s", err, out)
	}
	if b.self, err = os.Executable(); err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	if o.postgres {
		if b.pg, err = startPostgres(ctx, o.database); err != nil {
			return err
		}
		defer b.pg.close()
	}
	fmt.Fprintf(stdout, "set: %d feeds × %d items (%.1f MB), %d categories, concurrency %d, one loopback host\n",
		o.feeds, o.items, float64(fm.bytes)/(1<<20), o.categories, o.concurrency)
	var last stores
	for r := range o.rounds {
		if last, err = b.round(ctx, r); err != nil {
			return err
		}
	}
	if o.serve > 0 {
		return b.serving(ctx, last)
	}
	return nil
}

// row is one line of a round's table.
type row struct {
	name    string
	u       usage
	sources int // sources fetched, summed over the instances
	stories int // stories in the store after the step; -1 not counted
}

// round runs the floor and every tributary step of one round and prints
// their table.
func (b *bench) round(ctx context.Context, r int) (stores, error) {
	fmt.Fprintf(b.out, "\nround %d, load average %s\n", r+1, loadAverage())
	fl, err := measure(ctx, probes{}, exec.CommandContext(ctx, b.self, "-floor", "-base", b.farmURL,
		"-feeds", strconv.Itoa(b.o.feeds), "-items", strconv.Itoa(b.o.items), "-concurrency", strconv.Itoa(b.o.concurrency)))
	if err != nil {
		return stores{}, fmt.Errorf("floor: %w", err)
	}
	pl, err := b.pipeline(ctx, r)
	if err != nil {
		return stores{}, fmt.Errorf("pipeline: %w", err)
	}
	st := stores{bboltDir: filepath.Join(b.dir, fmt.Sprintf("round-%d-bbolt", r))}
	bbolt, steady, err := b.ingest(ctx, "bbolt", probes{}, instance{dataDir: st.bboltDir})
	if err != nil {
		return st, err
	}
	firsts := []row{{name: "floor", u: fl, sources: b.o.feeds, stories: -1}, pl, bbolt}
	steadies := []row{steady}
	if b.pg != nil {
		for n, db := range []*string{&st.pg1, &st.pg2} {
			if *db, err = b.pg.createDB(ctx); err != nil {
				return st, err
			}
			first, steady, err := b.ingestPostgres(ctx, r, n+1, *db)
			if err != nil {
				return st, err
			}
			if first.stories != bbolt.stories {
				return st, fmt.Errorf("%s stored %d stories, bbolt %d", first.name, first.stories, bbolt.stories)
			}
			firsts, steadies = append(firsts, first), append(steadies, steady)
		}
	}
	b.printRound(fl.wall, bbolt.u.wall, firsts, steadies)
	return st, nil
}

// pipeline runs the pipeline child (see pipeline) on a config like
// tributary's and checks that it signed every article of the set.
func (b *bench) pipeline(ctx context.Context, r int) (row, error) {
	cfg, err := writeConfig(instance{dataDir: filepath.Join(b.dir, fmt.Sprintf("round-%d-pipeline", r))}, b.farmURL, b.o)
	if err != nil {
		return row{}, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, b.self, "-pipeline", "-config", cfg)
	cmd.Stdout = &out
	u, err := measure(ctx, probes{}, cmd)
	if err != nil {
		return row{}, err
	}
	fmt.Fprintf(os.Stderr, "ingest: pipeline: %s\n", lastLine(out.String()))
	s, err := readPipelineSummary(out.String())
	if err != nil {
		return row{}, err
	}
	if err := s.check(b.o.feeds, b.o.items); err != nil {
		return row{}, err
	}
	return row{name: "pipeline (store discards)", u: u, sources: s.sources, stories: -1}, nil
}

// ingestPostgres runs the first ingest and the steady pass of n instances
// on the database at dbURL, sampling the server and its write lock.
func (b *bench) ingestPostgres(ctx context.Context, r, n int, dbURL string) (first, steady row, err error) {
	locks, err := newLockSampler(ctx, dbURL)
	if err != nil {
		return row{}, row{}, err
	}
	defer locks.close()
	insts := make([]instance, n)
	for i := range insts {
		insts[i] = instance{dataDir: filepath.Join(b.dir, fmt.Sprintf("round-%d-pg%d-%c", r, n, 'a'+i)), database: dbURL}
	}
	name := "PostgreSQL, 1 instance"
	if n > 1 {
		name = fmt.Sprintf("PostgreSQL, %d instances", n)
	}
	return b.ingest(ctx, name, probes{server: b.pg.procs, lock: locks}, insts...)
}

// ingest runs the first ingest then the steady pass of the instances on
// one store, each step's instances started together.
func (b *bench) ingest(ctx context.Context, name string, p probes, insts ...instance) (first, steady row, err error) {
	cfgs := make([]string, len(insts))
	for i, in := range insts {
		if cfgs[i], err = writeConfig(in, b.farmURL, b.o); err != nil {
			return row{}, row{}, err
		}
	}
	first = row{name: name + ": first ingest"}
	if first.u, first.sources, err = b.fetch(ctx, p, cfgs, true, b.o.feeds*b.o.items/2); err != nil {
		return first, steady, fmt.Errorf("%s: %w", first.name, err)
	}
	if first.stories, err = countStories(ctx, insts[0].database, insts[0].dataDir); err != nil {
		return first, steady, err
	}
	steady = row{name: name + ": steady pass", stories: -1}
	if !b.o.steady {
		return first, steady, nil
	}
	if steady.u, steady.sources, err = b.fetch(ctx, p, cfgs, false, 0); err != nil {
		return first, steady, fmt.Errorf("%s: %w", steady.name, err)
	}
	return first, steady, nil
}

// fetch runs one `tributary fetch` per config, started together, with
// -due when due is set (a first ingest: every source is due, and instances
// on one database share them as passes of serve do, in batches), and
// checks that together they stored at least wantNew articles (none, and
// every source not modified, when wantNew is 0). It returns the sources
// fetched, summed over the processes.
func (b *bench) fetch(ctx context.Context, p probes, cfgs []string, due bool, wantNew int) (usage, int, error) {
	cmds := make([]*exec.Cmd, len(cfgs))
	outs := make([]*bytes.Buffer, len(cfgs))
	for i, cfg := range cfgs {
		outs[i] = new(bytes.Buffer)
		args := []string{"fetch", "-config", cfg}
		if due {
			args = append(args, "-due")
		}
		cmds[i] = exec.CommandContext(ctx, b.bin, args...)
		cmds[i].Stdout = outs[i]
	}
	u, err := measure(ctx, p, cmds...)
	if err != nil {
		return u, 0, err
	}
	var total summary
	for _, out := range outs {
		fmt.Fprintf(os.Stderr, "ingest: fetch: %s\n", lastLine(out.String()))
		s, err := readSummary(out.String())
		if err != nil {
			return u, 0, err
		}
		total = total.add(s)
	}
	switch {
	case total.failed > 0:
		return u, total.sources, fmt.Errorf("%d sources failed", total.failed)
	case total.sources < b.o.feeds:
		return u, total.sources, fmt.Errorf("%d sources fetched of %d", total.sources, b.o.feeds)
	case wantNew == 0 && total.notModified != total.sources:
		return u, total.sources, fmt.Errorf("steady pass: %d of %d sources modified", total.sources-total.notModified, total.sources)
	case total.added < wantNew:
		return u, total.sources, fmt.Errorf("only %d new articles, want %d", total.added, wantNew)
	}
	return u, total.sources, nil
}

// summary is the totals line of `tributary fetch`.
// Sources another instance held the lease of (outcome "leased") count as
// failed in it; leased counts them, and sources and failed leave them out.
type summary struct{ sources, ok, notModified, failed, added, leased int }

func (s summary) add(t summary) summary {
	return summary{s.sources + t.sources, s.ok + t.ok, s.notModified + t.notModified, s.failed + t.failed, s.added + t.added, s.leased + t.leased}
}

// lastLine is the last line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// readSummary reads a `tributary fetch` output: its last line, and the
// sources it did not fetch because another instance held them.
func readSummary(out string) (summary, error) {
	total := lastLine(out)
	var s summary
	if _, err := fmt.Sscanf(total, "%d sources: %d ok, %d not modified, %d failed; articles: %d new",
		&s.sources, &s.ok, &s.notModified, &s.failed, &s.added); err != nil {
		return s, fmt.Errorf("read summary %q: %w", total, err)
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "leased ") {
			s.leased++
		}
	}
	s.sources -= s.leased
	s.failed -= s.leased
	return s, nil
}

// printRound prints a round's rows: each with its ratio to the floor and
// to bbolt's row of the same kind (bbolt, for the first ingests).
func (b *bench) printRound(floor, bbolt time.Duration, firsts, steadies []row) {
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\twall s\t×floor\t×bbolt\ttributary MB\tserver MB\ttributary cores\tserver cores\twrite lock (waiting)\tsources\tstories\t")
	line := func(r row, base time.Duration) {
		trib, server := r.u.cores()
		stories := "-"
		if r.stories >= 0 {
			stories = strconv.Itoa(r.stories)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f×\t%.2f×\t%.0f\t%.0f\t%.2f\t%.2f\t%s\t%d\t%s\t\n", r.name, r.u.wall.Seconds(),
			r.u.wall.Seconds()/floor.Seconds(), r.u.wall.Seconds()/base.Seconds(),
			r.u.peakMB(), r.u.serverMB(), trib, server, r.u.lock, r.sources, stories)
	}
	for _, r := range firsts {
		line(r, bbolt)
	}
	if b.o.steady {
		for _, r := range steadies {
			line(r, steadies[0].u.wall)
		}
	}
	tw.Flush()
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// instance is where one tributary process keeps its state: its data_dir
// (the bbolt file, or only the admin socket with database) and the
// PostgreSQL database, if any.
type instance struct {
	dataDir, database string
	listen            string // for serve
}

// writeConfig writes the config of one instance into its data_dir: every
// feed of the farm, filed in o.categories categories, with no per-host
// limit below the concurrency, and a schedule that leaves every source
// fetched not due again during the run.
func writeConfig(in instance, base string, o options) (string, error) {
	if err := os.MkdirAll(in.dataDir, 0o755); err != nil {
		return "", fmt.Errorf("make %s: %w", in.dataDir, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nschedule: \"@every 24h\"\nbase_url: http://bench.invalid\n", in.dataDir)
	if in.database != "" {
		fmt.Fprintf(&b, "database: %s\n", in.database)
	}
	if in.listen != "" {
		fmt.Fprintf(&b, "listen: %s\n", in.listen)
	}
	fmt.Fprintf(&b, "fetch:\n  concurrency: %d\n  per_host: %d\n  host_interval: 0s\n  timeout: 5m\nlog:\n  level: warn\nfeeds:\n",
		o.concurrency, o.concurrency)
	for n := range o.feeds {
		fmt.Fprintf(&b, "  - url: %s/feed/%d\n    categories: [Category %d]\n", base, n, n%o.categories)
	}
	name := "tributary.yaml"
	if in.listen != "" {
		name = "serve.yaml"
	}
	path := filepath.Join(in.dataDir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return path, nil
}
