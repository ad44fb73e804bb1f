package config

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "1024", want: 1024},
		{in: "100B", want: 100},
		{in: "512KB", want: 512 << 10},
		{in: "512kb", want: 512 << 10},
		{in: "512 KiB", want: 512 << 10},
		{in: "10MB", want: 10 << 20},
		{in: "10mib", want: 10 << 20},
		{in: "10 MiB", want: 10 << 20},
		{in: "1GB", want: 1 << 30},
		{in: "1GiB", want: 1 << 30},
		{in: "1024GB", want: 1 << 40},
		{in: "1025GB", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "", wantErr: true},
		{in: "MB", wantErr: true},
		{in: "1.5MB", wantErr: true},
		{in: "-1MB", wantErr: true},
		{in: "10TB", wantErr: true},
		{in: "10 M", wantErr: true},
		{in: " 10MB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSize(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDurations(t *testing.T) {
	tests := []struct {
		name, src string
		timeout   time.Duration
		maxAge    time.Duration
		wantErr   bool
	}{
		{name: "seconds", src: "fetch: {timeout: 45s}", timeout: 45 * time.Second, maxAge: 720 * time.Hour},
		{name: "compound", src: "fetch: {timeout: 1m30s}\nretention: {max_age: 36h30m}", timeout: 90 * time.Second, maxAge: 36*time.Hour + 30*time.Minute},
		{name: "milliseconds", src: "fetch: {timeout: 1500ms}", timeout: 1500 * time.Millisecond, maxAge: 720 * time.Hour},
		{name: "quoted", src: `retention: {max_age: "1h"}`, timeout: 30 * time.Second, maxAge: time.Hour},
		{name: "upper bound", src: "fetch: {timeout: 10m}", timeout: 10 * time.Minute, maxAge: 720 * time.Hour},
		{name: "days are not Go", src: "retention: {max_age: 30d}", wantErr: true},
		{name: "bare integer", src: "fetch: {timeout: 30}", wantErr: true},
		{name: "bare float", src: "fetch: {timeout: 1.5}", wantErr: true},
		{name: "quoted integer", src: `fetch: {timeout: "30"}`, wantErr: true},
		{name: "mapping", src: "fetch: {timeout: {s: 1}}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STATE_DIRECTORY", "")
			cfg, err := Parse("t.yaml", []byte(tt.src))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, want error %v", tt.src, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if cfg.Fetch.Timeout != tt.timeout || cfg.Retention.MaxAge != tt.maxAge {
				t.Errorf("timeout, max_age = %v, %v; want %v, %v", cfg.Fetch.Timeout, cfg.Retention.MaxAge, tt.timeout, tt.maxAge)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr string // "" for a valid spec
	}{
		{spec: "@every 15m"},
		{spec: "@every 1m"},
		{spec: "@every 1h30m"},
		{spec: "@hourly"},
		{spec: "@daily"},
		{spec: "*/20 * * * *"},
		{spec: "0 6 * * MON-FRI"},
		{spec: "CRON_TZ=Europe/Berlin 0 6 * * *"},
		{spec: "TZ=UTC @every 5m"},
		{spec: "@every 59s", wantErr: `invalid cron spec "@every 59s": @every must be at least 1m, to be polite to the feeds' servers`},
		{spec: "CRON_TZ=UTC @every 30s", wantErr: `invalid cron spec "CRON_TZ=UTC @every 30s": @every must be at least 1m, to be polite to the feeds' servers`},
		{spec: "@every -5m", wantErr: `invalid cron spec "@every -5m": @every must be at least 1m, to be polite to the feeds' servers`},
		{spec: "", wantErr: `invalid cron spec "": empty spec string`},
		{spec: "every 5", wantErr: `invalid cron spec "every 5": expected exactly 5 fields, found 2`},
		{spec: "@every", wantErr: `invalid cron spec "@every": unrecognized descriptor: @every`},
		{spec: "TZ=0", wantErr: `invalid cron spec "TZ=0": a time zone must be followed by a space and a schedule`},
		{spec: "CRON_TZ=UTC", wantErr: `invalid cron spec "CRON_TZ=UTC": a time zone must be followed by a space and a schedule`},
		{spec: "CRON_TZ=UTC ", wantErr: `invalid cron spec "CRON_TZ=UTC ": expected exactly 5 fields, found 0`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			sched, err := ParseSchedule(tt.spec)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("ParseSchedule(%q) = %q, want %q", tt.spec, got, tt.wantErr)
			}
			if (sched == nil) != (err != nil) {
				t.Errorf("ParseSchedule(%q) = %v, %v: want a schedule exactly when no error", tt.spec, sched, err)
			}
		})
	}
}

// TestParseScheduleZone checks that a spec without a zone runs in UTC even
// on a clock in a zone with daylight saving time, where cron evaluating it
// in local time would skip 02:30 on the day clocks go forward, and that a
// CRON_TZ= prefix still picks its zone.
func TestParseScheduleZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		spec string
		from time.Time
		want time.Time
	}{
		{"30 2 * * *", time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 2, 30, 0, 0, time.UTC)},
		{"30 1 * * *", time.Date(2026, 11, 1, 1, 45, 0, 0, ny), time.Date(2026, 11, 2, 1, 30, 0, 0, time.UTC)},
		{"CRON_TZ=America/New_York 30 2 * * *", time.Date(2026, 3, 7, 3, 0, 0, 0, ny), time.Date(2026, 3, 9, 2, 30, 0, 0, ny)},
	}
	for _, tt := range tests {
		sched, err := ParseSchedule(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := sched.Next(tt.from); !got.Equal(tt.want) {
			t.Errorf("%q after %v: next = %v, want %v", tt.spec, tt.from, got.UTC(), tt.want.UTC())
		}
	}
}

// FuzzParseSchedule checks that no cron spec makes ParseSchedule panic (the
// cron parser panics on some time-zone prefixes), that it returns a
// schedule exactly when it returns no error, and that a schedule it
// returns computes its next run.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"@every 15m", "*/20 * * * *", "0 6 * * MON-FRI", "CRON_TZ=Europe/Berlin 0 6 * * *",
		"TZ=UTC @every 5m", "TZ=0", "CRON_TZ=UTC", "CRON_TZ=UTC\t@hourly", "@every 59s", "@yearly", "every 5", ""} {
		f.Add(s)
	}
	from := time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		sched, err := ParseSchedule(spec)
		if (sched == nil) != (err != nil) {
			t.Fatalf("ParseSchedule(%q) = %v, %v", spec, sched, err)
		}
		if sched != nil {
			if next := sched.Next(from); !next.IsZero() && !next.After(from) {
				t.Errorf("%q: next run %v not after %v", spec, next, from)
			}
		}
	})
}
