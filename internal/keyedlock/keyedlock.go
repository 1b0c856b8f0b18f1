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

// Lock takes the lock of key, waiting until it is free or ctx ends. It
// returns the function that releases the lock, or ctx's error.
func (l *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*entry)
	}
	e := l.m[key]
	if e == nil {
		e = &entry{ch: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.ch <- struct{}{}:
	case <-ctx.Done():
		l.release(key, e)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-e.ch
			l.release(key, e)
		})
	}, nil
}

func (l *Locks) release(key string, e *entry) {
	l.mu.Lock()
	if e.refs--; e.refs == 0 {
		delete(l.m, key)
	}
	l.mu.Unlock()
}

// Len reports how many keys have a holder or a waiter (for tests).
func (l *Locks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
