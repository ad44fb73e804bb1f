package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestLogFormat(t *testing.T) {
	feeds := todayNewsServer(t)
	tests := []struct {
		name  string
		keys  string
		check func(t *testing.T, line string) bool // reports whether line is the pass summary
	}{
		{
			name: "json",
			keys: "log:\n  format: json\n",
			check: func(t *testing.T, line string) bool {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Errorf("not a JSON line: %q", line)
					return false
				}
				return rec["msg"] == "fetch pass finished" && rec["sources"] == float64(3)
			},
		},
		{
			name: "text",
			keys: "",
			check: func(t *testing.T, line string) bool {
				return strings.Contains(line, `msg="fetch pass finished" sources=3`)
			},
		},
		{
			name: "level warn hides the summary",
			keys: "log:\n  level: warn\n",
			check: func(t *testing.T, line string) bool {
				t.Errorf("unexpected log line at level warn: %q", line)
				return true
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := todayNewsConfig(t, feeds.URL, freeAddr(t))
			src, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, cfg, tt.keys+string(src))
			r := tributary(t, "fetch", "-config", cfg)
			if r.code != 0 {
				t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
			}
			summaries := 0
			for _, line := range splitLines(r.stderr) {
				if tt.check(t, line) {
					summaries++
				}
			}
			want := 1
			if strings.Contains(tt.keys, "warn") {
				want = 0
			}
			if summaries != want {
				t.Errorf("%d pass summary lines, want %d:\n%s", summaries, want, r.stderr)
			}
		})
	}
}
