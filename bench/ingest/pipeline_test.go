package main

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPipelineSignsEveryItem runs the pipeline child in-process on a tiny
// set, every format twice, served over loopback: it fetches every feed
// and signs every item, syndicated copies included.
func TestPipelineSignsEveryItem(t *testing.T) {
	const feeds, items = 8, 12
	srv := httptest.NewServer(buildFarm(feeds, items, time.Now().UTC()))
	t.Cleanup(srv.Close)
	o := options{feeds: feeds, items: items, categories: 3, concurrency: 4}
	cfg, err := writeConfig(instance{dataDir: t.TempDir()}, srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-pipeline", "-config", cfg}, &out); err != nil {
		t.Fatal(err)
	}
	s, err := readPipelineSummary(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.check(feeds, items); err != nil {
		t.Errorf("pipeline on %d feeds × %d items: %v (output %q)", feeds, items, err, out.String())
	}
	if s.recordBytes < s.articles*minRecordLen {
		t.Errorf("pipeline signed %d articles into %d bytes of records, want at least %d each", s.articles, s.recordBytes, minRecordLen)
	}
}

// minRecordLen is less than the signature record of any generated item:
// a header, counts and ten hashes, where a title and a text of a hundred
// words give many more.
const minRecordLen = 21 + 3 + 4*10

// TestPipelineSummaryCheck fails a pipeline pass that did not sign the
// whole set, so that a round never reports a pass that measured less.
func TestPipelineSummaryCheck(t *testing.T) {
	tests := []struct {
		name string
		s    pipelineSummary
		ok   bool
	}{
		{name: "every article", s: pipelineSummary{sources: 10, articles: 500, recordBytes: 1 << 20}, ok: true},
		{name: "a source failed", s: pipelineSummary{sources: 10, failed: 1, articles: 450}},
		{name: "sources missing", s: pipelineSummary{sources: 9, articles: 450}},
		{name: "articles missing", s: pipelineSummary{sources: 10, articles: 499}},
		{name: "nothing", s: pipelineSummary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.check(10, 50)
			if (err == nil) != tt.ok {
				t.Errorf("check(10, 50) of %+v: %v, want ok %t", tt.s, err, tt.ok)
			}
		})
	}
}

// TestReadPipelineSummary reads back what the pipeline child prints, and
// refuses other output, such as a child that died.
func TestReadPipelineSummary(t *testing.T) {
	want := pipelineSummary{sources: 2000, failed: 3, articles: 99850, recordBytes: 123456789}
	var out bytes.Buffer
	out.WriteString("time=… level=WARN msg=\"fetch failed\"\n")
	writePipelineSummary(&out, want)
	got, err := readPipelineSummary(out.String())
	if err != nil || got != want {
		t.Errorf("readPipelineSummary(%q) = %+v, %v; want %+v", out.String(), got, err, want)
	}
	for _, bad := range []string{"", "panic: boom\n", "2000 sources, 0 failed\n"} {
		if _, err := readPipelineSummary(bad); err == nil {
			t.Errorf("readPipelineSummary(%q): no error", bad)
		}
	}
}
