package pglease

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestElectionFailsOver runs three elections on one database: exactly one
// leads, and when the leader's connection is killed by the server, or its
// instance stops, another takes over within seconds and is told so.
func TestElectionFailsOver(t *testing.T) {
	pool := newPool(t)
	const n = 3
	var (
		elections [n]*Election
		stops     [n]context.CancelFunc
		gains     [n]atomic.Int32
		wg        sync.WaitGroup
	)
	for i := range elections {
		elections[i] = NewElection(pool, ElectionOptions{Poll: 20 * time.Millisecond, Gained: func() { gains[i].Add(1) }})
		ctx, cancel := context.WithCancel(t.Context())
		stops[i] = cancel
		wg.Go(func() { elections[i].Run(ctx) })
	}
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
		wg.Wait()
	})
	// leader waits for exactly one of the live elections to lead (a
	// leader whose connection was ended may overlap its successor for up
	// to Poll).
	leader := func(live map[int]bool) int {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			var leading []int
			for i := range elections {
				if elections[i].Leading() {
					leading = append(leading, i)
				}
			}
			if len(leading) == 1 && live[leading[0]] {
				return leading[0]
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("no leader within 5s")
		return -1
	}
	total := func() int {
		n := 0
		for i := range gains {
			n += int(gains[i].Load())
		}
		return n
	}
	// waitGains waits for the n-th gain of leadership.
	waitGains := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for total() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d gains of leadership within 5s, want %d", total(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	live := map[int]bool{0: true, 1: true, 2: true}
	waitGains(1)
	first := leader(live)
	if _, err := pool.Exec(t.Context(), "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::bigint & 4294967295", int64(electionLock)); err != nil {
		t.Fatal(err)
	}
	waitGains(2)
	second := leader(live)
	stops[second]()
	delete(live, second)
	waitGains(3)
	third := leader(live)
	if got := total(); got != 3 {
		t.Errorf("Gained called %d times (leaders %d, %d, %d), want 3", got, first, second, third)
	}
}
