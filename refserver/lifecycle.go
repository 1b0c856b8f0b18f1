package refserver

import (
	"context"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// Lifecycle events have a sequence of their own per session (so turn
// events keep their gap-free seq), and each is written in the transaction
// of the change it describes: the history (listLifecycleEvents) and the
// session-wide stream read the same records.

// appendLifecycleTx records ev as the session's next lifecycle event,
// placed after the session's newest turn event; the caller writes sess
// back.
func appendLifecycleTx(tx store.Tx, sess *store.Session, ev gen.LifecycleEvent, now time.Time) error {
	ev.LifecycleSeq = sess.LastLifecycleSeq + 1
	ev.AfterSeq = sess.LastEventSeq
	ev.CreatedAt = now
	if err := tx.AppendLifecycleEvent(sess.Tenant, sess.ID, ev); err != nil {
		return err
	}
	sess.LastLifecycleSeq = ev.LifecycleSeq
	return nil
}

// statusChangedTx records a session's change of status (from old to its
// status now), if it is one.
func statusChangedTx(tx store.Tx, sess *store.Session, old gen.SessionStatus, now time.Time) error {
	if sess.Status == old {
		return nil
	}
	return appendLifecycleTx(tx, sess, gen.LifecycleEvent{Type: gen.LifecycleEventTypeStatusChanged, Status: sess.Status}, now)
}

// sessionHub wakes the session-wide streams of a session when its logs
// grow. A stream takes the channel of its session, reads the store, and
// waits on the channel: a write committed after it took the channel
// closes it.
type sessionHub struct {
	mu   sync.Mutex
	subs map[sessKey]*sessionSignal
}

type sessionSignal struct {
	ch    chan struct{}
	count int // streams holding it
}

// subscribe registers a stream of key; call the returned function when it
// ends.
func (h *sessionHub) subscribe(key sessKey) (unsubscribe func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[sessKey]*sessionSignal{}
	}
	sig := h.subs[key]
	if sig == nil {
		sig = &sessionSignal{ch: make(chan struct{})}
		h.subs[key] = sig
	}
	sig.count++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if sig.count--; sig.count == 0 && h.subs[key] == sig {
			delete(h.subs, key)
		}
	}
}

// changed returns the channel the next change of key's logs closes (key
// subscribed).
func (h *sessionHub) changed(key sessKey) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sig := h.subs[key]; sig != nil {
		return sig.ch
	}
	return nil
}

// signal wakes the streams of the sessions in keys.
func (h *sessionHub) signal(keys []sessKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		if sig := h.subs[k]; sig != nil {
			close(sig.ch)
			sig.ch = make(chan struct{})
		}
	}
}

// hubStore is the server's store: it wakes the session-wide streams of the
// sessions whose turn events or lifecycle events a write added, once the
// write is committed.
type hubStore struct {
	store.Store
	hub *sessionHub
}

// hubTx records the sessions whose logs a transaction writes.
type hubTx struct {
	store.Tx
	touched []sessKey
}

func (t *hubTx) note(tenant, id string) {
	k := sessKey{tenant, id}
	for _, have := range t.touched {
		if have == k {
			return
		}
	}
	t.touched = append(t.touched, k)
}

func (t *hubTx) AppendEvent(tenant, sessionID string, ev gen.Event) error {
	t.note(tenant, sessionID)
	return t.Tx.AppendEvent(tenant, sessionID, ev)
}

func (t *hubTx) AppendLifecycleEvent(tenant, sessionID string, ev gen.LifecycleEvent) error {
	t.note(tenant, sessionID)
	return t.Tx.AppendLifecycleEvent(tenant, sessionID, ev)
}

func (s hubStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	var touched []sessKey
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		ht := &hubTx{Tx: tx}
		err := fn(ht)
		touched = ht.touched // fn may run more than once (a retried batch): the last run counts
		return err
	})
	if err == nil && len(touched) > 0 {
		s.hub.signal(touched)
	}
	return err
}

// UpdateDeferred keeps the inner store's deferral; the streams are woken
// once the writes are committed (wait returned nil).
func (s hubStore) UpdateDeferred(ctx context.Context, fn func(store.Tx) error, maxDelay time.Duration) (func() error, error) {
	var touched []sessKey
	wait, err := store.UpdateDeferred(s.Store, ctx, func(tx store.Tx) error {
		ht := &hubTx{Tx: tx}
		err := fn(ht)
		touched = ht.touched
		return err
	}, maxDelay)
	if err != nil || len(touched) == 0 {
		return wait, err
	}
	return func() error {
		err := wait()
		if err == nil {
			s.hub.signal(touched)
		}
		return err
	}, nil
}
