package keyedlock

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOneHolderPerKey(t *testing.T) {
	var l Locks
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held, err := l.Lock(context.Background(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			inside.Add(-1)
			held.Unlock()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d holders at once, want 1", maxInside.Load())
	}
	if l.Len() != 0 {
		t.Errorf("%d keys left after every unlock, want 0", l.Len())
	}
}

func TestKeysAreIndependentAndWaitsEndWithContext(t *testing.T) {
	var l Locks
	heldA, _ := l.Lock(context.Background(), "a")
	// Another key is free while "a" is held.
	heldB, err := l.Lock(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	heldB.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held key = %v, want the context's error", err)
	}
	heldA.Unlock()
	if l.Len() != 0 {
		t.Errorf("%d keys left, want 0", l.Len())
	}
}

// Waiters get the lock in the order they asked for it: the SDK's promise
// that a session's turns reach the server in the order they were sent.
func TestWaitersInOrder(t *testing.T) {
	var l Locks
	held, err := l.Lock(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			h, err := l.Lock(context.Background(), "s")
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			h.Unlock()
		})
		// The next waiter asks once this one waits: counted, then a moment
		// to reach the channel send.
		for {
			l.mu.Lock()
			refs := l.m["s"].refs
			l.mu.Unlock()
			if refs == i+2 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(2 * time.Millisecond)
	}
	held.Unlock()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Errorf("waiter %d got the lock in place %d", got, want)
		}
		want++
	}
}
