package pgkv

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestParseMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []Migration
		wantErr string
	}{
		{"in version order", fstest.MapFS{
			"migrations/0002_leases.sql": file("B"),
			"migrations/0001_kv.sql":     file("A"),
			"migrations/0010_later.sql":  file("C"),
		}, []Migration{{1, "kv", "A"}, {2, "leases", "B"}, {10, "later", "C"}}, ""},
		{"duplicate version", fstest.MapFS{
			"migrations/0001_kv.sql":    file(""),
			"migrations/0001_other.sql": file(""),
		}, nil, "version 1 already used"},
		{"bad name", fstest.MapFS{"migrations/1_kv.sql": file("")}, nil, "not NNNN_name.sql"},
		{"version zero", fstest.MapFS{"migrations/0000_kv.sql": file("")}, nil, "start at 0001"},
		{"none", fstest.MapFS{}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMigrations(tc.files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(Migration{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmbeddedMigrations checks the migrations built into the binary
// parse, starting at 0001.
func TestEmbeddedMigrations(t *testing.T) {
	ms, err := parseMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("embedded migrations %v, want 0001 first", ms)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{}, nil},
	} {
		if got := prefixEnd(tc.in); !cmp.Equal(got, tc.want) {
			t.Errorf("prefixEnd(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestChunks(t *testing.T) {
	const big = flushBytes / 2
	tests := []struct {
		name  string
		sizes []int
		want  [][2]int
	}{
		{"none", nil, nil},
		{"small rows by count", make([]int, 2*flushRows+1), [][2]int{{0, flushRows}, {flushRows, 2 * flushRows}, {2 * flushRows, 2*flushRows + 1}}},
		{"by bytes", []int{big, big, 1, big, big}, [][2]int{{0, 2}, {2, 4}, {4, 5}}},
		{"a row larger than the limit goes alone", []int{1, 2 * flushBytes, 1}, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := chunks(len(tc.sizes), func(i int) int { return tc.sizes[i] })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSendKeepsNewest sends generations to a receiver that does not keep
// up: it finds the newest, not the first.
func TestSendKeepsNewest(t *testing.T) {
	ch := make(chan uint64, 1)
	for g := range uint64(5) {
		send(ch, g+1)
	}
	if g := <-ch; g != 5 {
		t.Errorf("received %d, want the newest, 5", g)
	}
	select {
	case g := <-ch:
		t.Errorf("received %d more", g)
	default:
	}
}
