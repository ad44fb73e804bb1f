package storage

import (
	"testing"
)

func TestVersionChangesOnlyWithWrites(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	version := func() uint64 {
		t.Helper()
		v, err := s.Version(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	a := testArticle("a", hour(1), "world")
	save(t, s, a)
	v1 := version()
	if v1 == v0 {
		t.Fatal("version unchanged after saving an article")
	}
	save(t, s, a) // unchanged: nothing written
	latest(t, s, "world", 10)
	if v := version(); v != v1 {
		t.Errorf("version %d after reads and a no-op save, want %d", v, v1)
	}
	a.Title = "edited"
	save(t, s, a)
	if v := version(); v == v1 {
		t.Error("version unchanged after an edit")
	}
}
