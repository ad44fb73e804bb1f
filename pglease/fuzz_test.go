package pglease

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tributary/tributary/config"
)

// FuzzClaim checks, for any list of source URLs, that Claim answers for
// each URL once, granted or with a time to look again; that a second
// instance is granted none of the sources the first holds; and that once
// the first releases them with a due time, they are refused until exactly
// then. Seeded with the URLs of the example config.
func FuzzClaim(f *testing.F) {
	cfg, err := config.Load("../tributary.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var all []string
	for _, fd := range cfg.Feeds {
		f.Add(fd.URL)
		all = append(all, fd.URL)
	}
	f.Add(strings.Join(all, "\n"))
	f.Add("https://a.example/feed\nhttps://a.example/feed\n")
	pool := newPool(f)
	a := newCoordinator(f, pool, Options{})
	b := newCoordinator(f, pool, Options{})
	f.Fuzz(func(t *testing.T, list string) {
		if !utf8.ValidString(list) || strings.ContainsRune(list, 0) {
			t.Skip("not a config's text")
		}
		urls := strings.Split(list, "\n")
		want := map[string]bool{}
		for _, u := range urls {
			want[u] = true
		}
		now := time.Now().Truncate(time.Microsecond)
		granted, notDue, err := a.Claim(t.Context(), urls, now, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(granted) != len(want) || len(notDue) != 0 {
			t.Fatalf("forced claim of %d free sources: %d granted, %d refused", len(want), len(granted), len(notDue))
		}
		granted, notDue, err = b.Claim(t.Context(), urls, now, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(granted) != 0 || len(notDue) != len(want) {
			t.Fatalf("claim of %d sources another holds: %d granted, %d refused", len(want), len(granted), len(notDue))
		}
		next := now.Add(time.Hour)
		for u := range want {
			if err := a.Release(t.Context(), u, next, true); err != nil {
				t.Fatal(err)
			}
		}
		granted, notDue, err = b.Claim(t.Context(), urls, now, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(granted) != 0 {
			t.Fatalf("granted %d sources not due", len(granted))
		}
		for u := range want {
			if at, ok := notDue[u]; !ok || !at.Equal(next) {
				t.Errorf("%q: look again at %v (%v), want %v", u, at, ok, next)
			}
		}
	})
}
