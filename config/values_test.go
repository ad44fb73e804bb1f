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
			err := parseSchedule(tt.spec)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("parseSchedule(%q) = %q, want %q", tt.spec, got, tt.wantErr)
			}
		})
	}
}
