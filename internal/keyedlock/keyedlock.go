// Package keyedlock provides one mutual-exclusion lock per key (such as a
// session id), waited for with a context. Locks exist only while held or
// awaited, so any number of keys costs nothing at rest.
package keyedlock

import (
	"context"
	"sync"
)

// Locks is a set of locks by key. The zero value is ready to use.
type Locks struct {
	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	ch   chan struct{} // holds one token while the lock is taken
	refs int           // holders and waiters
}

// entries are reused: an uncontended Lock/Unlock allocates nothing.
var entries = sync.Pool{New: func() any { return &entry{ch: make(chan struct{}, 1)} }}

// Held is a taken lock; Unlock releases it. Call Unlock exactly once.
type Held struct {
	l   *Locks
	key string
	e   *entry
}

// Lock takes the lock of key, waiting until it is free or ctx ends.
func (l *Locks) Lock(ctx context.Context, key string) (Held, error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*entry)
	}
	e := l.m[key]
	if e == nil {
		e = entries.Get().(*entry)
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.ch <- struct{}{}:
		return Held{l: l, key: key, e: e}, nil
	default:
	}
	select {
	case e.ch <- struct{}{}:
		return Held{l: l, key: key, e: e}, nil
	case <-ctx.Done():
		l.release(key, e)
		return Held{}, ctx.Err()
	}
}

// Unlock releases the lock.
func (h Held) Unlock() {
	<-h.e.ch
	h.l.release(h.key, h.e)
}

func (l *Locks) release(key string, e *entry) {
	l.mu.Lock()
	e.refs--
	free := e.refs == 0
	if free {
		delete(l.m, key)
	}
	l.mu.Unlock()
	if free {
		entries.Put(e) // empty channel, no holder, no waiter
	}
}

// Len reports how many keys have a holder or a waiter (for tests).
func (l *Locks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
