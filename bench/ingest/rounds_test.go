package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadSummary reads the totals of `tributary fetch` outputs, leaving
// out the sources another instance held.
func TestReadSummary(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want summary
	}{
		{
			name: "first ingest",
			out: `OUTCOME  NEW  UPDATED  UNCHANGED  FILTERED  EXPIRED  MERGED  TIME  SOURCE
ok       50   0        0          0         0        0       53ms  Feed 0 <http://127.0.0.1:1/feed/0>
ok       45   0        0          0         0        5       54ms  Feed 1 <http://127.0.0.1:1/feed/1>
2 sources: 2 ok, 0 not modified, 0 failed; articles: 95 new, 0 updated, 0 unchanged, 0 filtered, 0 expired, 5 merged into stories, 0 of deleted stories; 58ms
`,
			want: summary{sources: 2, ok: 2, added: 95},
		},
		{
			name: "every source leased by another instance",
			out: `OUTCOME  NEW  UPDATED  UNCHANGED  FILTERED  EXPIRED  MERGED  TIME  SOURCE
leased   -    -        -          -         -        -       0s    http://127.0.0.1:1/feed/0
                                                                    error: another instance holds the lease
leased   -    -        -          -         -        -       0s    http://127.0.0.1:1/feed/1
                                                                    error: another instance holds the lease
2 sources: 0 ok, 0 not modified, 2 failed; articles: 0 new, 0 updated, 0 unchanged, 0 filtered, 0 expired, 0 merged into stories, 0 of deleted stories; 5ms
`,
			want: summary{leased: 2},
		},
		{
			name: "steady pass with a failure",
			out: `OUTCOME  NEW  UPDATED  UNCHANGED  FILTERED  EXPIRED  MERGED  TIME  SOURCE
3 sources: 0 ok, 2 not modified, 1 failed; articles: 0 new, 0 updated, 0 unchanged, 0 filtered, 0 expired, 0 merged into stories, 0 of deleted stories; 9ms
`,
			want: summary{sources: 3, notModified: 2, failed: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readSummary(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(summary{})); diff != "" {
				t.Errorf("readSummary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadSummaryRefusesOtherOutput fails on output without the totals
// line, such as a fetch that died.
func TestReadSummaryRefusesOtherOutput(t *testing.T) {
	for _, out := range []string{"", "panic: boom\n", "OUTCOME  NEW\n"} {
		if _, err := readSummary(out); err == nil {
			t.Errorf("readSummary(%q): no error", out)
		}
	}
}
