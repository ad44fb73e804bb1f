package storage

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tributary/tributary/kv"
)

// groupCommit runs the write functions of concurrent callers in shared
// transactions (group commit): one commit, one fsync and one copy of each
// page they touch for all of them. A caller that finds no transaction in
// flight runs one at once with every function queued so far; callers that
// arrive meanwhile queue up, and the next transaction takes them all. Unlike
// bbolt's DB.Batch it waits for no timer, so a lone write commits at once and,
// under load, each transaction holds everything that arrived during the
// previous commit (Batch closes a batch every 10 ms, and its batches then
// queue for the writer lock one after the other).
//
// A function may run more than once: when one fails, the transaction is
// rolled back, the failing function runs alone to report its own error,
// and the others run again together. The transactions run without a
// caller's context: they serve several callers, and a caller that gave up
// must not fail the others' writes.
type groupCommit struct {
	db kv.DB

	mu    sync.Mutex
	queue []*groupCall
	busy  bool // a caller is running transactions for the queue
}

// groupCall is one queued write.
type groupCall struct {
	fn   func(kv.Tx) error
	done chan error    // its result
	lead chan struct{} // signalled when it is to run the next transaction
}

// update runs fn in a write transaction, probably shared with other
// callers', and returns its error or the commit's.
func (g *groupCommit) update(fn func(kv.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return g.runQueue(c)
	}
	g.mu.Unlock()
	select {
	case err := <-c.done:
		return err
	case <-c.lead:
		return g.runQueue(c)
	}
}

// runQueue runs every queued call in one transaction, hands the lead to
// the first call queued meanwhile (or marks the group idle), and returns
// the result of self, a call that was queued.
func (g *groupCommit) runQueue(self *groupCall) error {
	g.mu.Lock()
	calls := g.queue
	g.queue = nil
	g.mu.Unlock()
	g.run(calls)
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	return <-self.done
}

// run runs calls in one transaction and sends each its result.
func (g *groupCommit) run(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := g.db.Update(context.Background(), func(tx kv.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		c := calls[failed]
		c.done <- g.db.Update(context.Background(), func(tx kv.Tx) error { return safeCall(c.fn, tx) })
		calls = slices.Delete(calls, failed, failed+1)
	}
}

// safeCall is fn(tx) with a panic turned into an error, so that one
// caller's bug fails its own write, not every caller's. A backend's I/O
// failure (a panic with a *kv.Error, see package kv) is returned as is.
func safeCall(fn func(kv.Tx) error, tx kv.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*kv.Error); ok {
				err = e
				return
			}
			err = fmt.Errorf("panic in write transaction: %v", r)
		}
	}()
	return fn(tx)
}
