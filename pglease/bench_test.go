package pglease

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkClaim measures one Claim of a pass's 1,000 due sources, the
// one round trip a scheduled pass makes to the database before it fetches.
func BenchmarkClaim(b *testing.B) {
	pool := newPool(b)
	c := newCoordinator(b, pool, Options{})
	urls := make([]string, 1000)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://h%d.example/feed/%d", i%50, i)
	}
	for b.Loop() {
		granted, _, err := c.Claim(b.Context(), urls, time.Now(), false)
		if err != nil || len(granted) != len(urls) {
			b.Fatalf("%d granted, %v", len(granted), err)
		}
	}
}
