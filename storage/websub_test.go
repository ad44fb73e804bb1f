package storage

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWebSubRecordsSurviveReopen stores, replaces and deletes records of
// two kinds, closes the file, and reads them back from a new Store.
func TestWebSubRecordsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tributary.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if got, err := s.WebSubRecords(ctx, "hub"); err != nil || len(got) != 0 {
		t.Fatalf("new store: %v, %v", got, err)
	}
	for _, r := range []struct{ kind, key, val string }{
		{"hub", "a", "1"}, {"hub", "b", "2"}, {"hub", "a", "3"}, {"sub", "a", "4"},
	} {
		if err := s.PutWebSub(ctx, r.kind, r.key, []byte(r.val)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteWebSub(ctx, "hub", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebSub(ctx, "none", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestFile(t, path)
	for kind, want := range map[string]map[string][]byte{
		"hub": {"a": []byte("3")}, "sub": {"a": []byte("4")},
	} {
		got, err := s.WebSubRecords(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s records (-want +got):\n%s", kind, diff)
		}
	}
	for _, c := range []struct{ kind, key, want string }{
		{"hub", "a", "3"}, {"hub", "b", ""}, {"sub", "a", "4"}, {"none", "a", ""},
	} {
		got, err := s.WebSubRecord(ctx, c.kind, c.key)
		if err != nil || string(got) != c.want || (c.want == "" && got != nil) {
			t.Errorf("WebSubRecord(%s, %s) = %q, %v; want %q", c.kind, c.key, got, err, c.want)
		}
	}
}
