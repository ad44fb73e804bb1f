package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary/tributary/kv"
)

func TestGroupCommitSharesTransactions(t *testing.T) {
	s := openTestStore(t)
	g := s.writes
	// The first write holds the writer until the others have queued.
	started, release := make(chan struct{}), make(chan struct{})
	firstErr := make(chan error, 1)
	go func() {
		firstErr <- g.update(func(tx kv.Tx) error {
			close(started)
			<-release
			return tx.Bucket([]byte(bucketMeta)).Put([]byte("first"), []byte("1"))
		})
	}()
	<-started

	const n = 20
	var mu sync.Mutex
	last := map[int]uint64{} // call → ID of the last transaction it ran in
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = g.update(func(tx kv.Tx) error {
				switch i {
				case 7:
					return errors.New("write 7 refused")
				case 13:
					panic("write 13 panicked")
				}
				mu.Lock()
				last[i] = tx.ID()
				mu.Unlock()
				return tx.Bucket([]byte(bucketMeta)).Put(fmt.Appendf(nil, "k%d", i), []byte("v"))
			})
		})
	}
	// Let every call queue behind the held transaction.
	for deadline := time.Now().Add(5 * time.Second); ; {
		g.mu.Lock()
		queued := len(g.queue)
		g.mu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls queued", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-firstErr; err != nil {
		t.Fatalf("first write: %v", err)
	}

	for i, err := range errs {
		switch i {
		case 7:
			if err == nil || err.Error() != "write 7 refused" {
				t.Errorf("write 7: %v, want its own error", err)
			}
		case 13:
			if err == nil || !strings.Contains(err.Error(), "write 13 panicked") {
				t.Errorf("write 13: %v, want the panic as an error", err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	// The 18 good writes that queued together committed together: the
	// transaction each ran in last, the one that committed, is the same.
	txs := map[uint64]int{}
	for _, id := range last {
		txs[id]++
	}
	if len(txs) != 1 || len(last) != n-2 {
		t.Errorf("the %d queued writes committed in transactions %v, want one", len(last), txs)
	}
	err := s.db.View(context.Background(), func(tx kv.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		for i := range n {
			got := meta.Get(fmt.Appendf(nil, "k%d", i)) != nil
			if want := i != 7 && i != 13; got != want {
				t.Errorf("key k%d stored: %t, want %t", i, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
