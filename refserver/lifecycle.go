package refserver

import (
	"context"
	"slices"
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

// watched reports whether a stream of one of keys is open.
func (h *sessionHub) watched(keys []sessKey) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		if h.subs[k] != nil {
			return true
		}
	}
	return false
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

// hubTx is a transaction that records the sessions whose logs it writes.
// They are pooled, with their run function bound once, so that a write
// costs no allocation for them.
type hubTx struct {
	store.Tx
	fn      func(store.Tx) error
	run     func(store.Tx) error // ht.runFn, bound once
	touched []sessKey
}

var hubTxs = sync.Pool{New: func() any {
	ht := &hubTx{touched: make([]sessKey, 0, 2)}
	ht.run = ht.runFn
	return ht
}}

// runFn runs the write's fn on the store's transaction; the store may run
// it again (a retried batch): the last run's sessions count.
func (ht *hubTx) runFn(tx store.Tx) error {
	ht.Tx, ht.touched = tx, ht.touched[:0]
	err := ht.fn(ht)
	ht.Tx = nil
	return err
}

func (ht *hubTx) note(tenant, id string) {
	k := sessKey{tenant, id}
	for _, have := range ht.touched {
		if have == k {
			return
		}
	}
	ht.touched = append(ht.touched, k)
}

func (ht *hubTx) AppendEvent(tenant, sessionID string, ev gen.Event) error {
	ht.note(tenant, sessionID)
	return ht.Tx.AppendEvent(tenant, sessionID, ev)
}

func (ht *hubTx) AppendLifecycleEvent(tenant, sessionID string, ev gen.LifecycleEvent) error {
	ht.note(tenant, sessionID)
	return ht.Tx.AppendLifecycleEvent(tenant, sessionID, ev)
}

func getHubTx(fn func(store.Tx) error) *hubTx {
	ht := hubTxs.Get().(*hubTx)
	ht.fn = fn
	return ht
}

func putHubTx(ht *hubTx) {
	ht.fn, ht.touched = nil, ht.touched[:0]
	hubTxs.Put(ht)
}

func (s hubStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	ht := getHubTx(fn)
	defer putHubTx(ht)
	err := s.Store.Update(ctx, ht.run)
	if err == nil && len(ht.touched) > 0 {
		s.hub.signal(ht.touched)
	}
	return err
}

// UpdateDeferred keeps the inner store's deferral; the streams are woken
// once the writes are committed (wait returned nil).
func (s hubStore) UpdateDeferred(ctx context.Context, fn func(store.Tx) error, maxDelay time.Duration) (func() error, error) {
	ht := getHubTx(fn)
	defer putHubTx(ht)
	wait, err := store.UpdateDeferred(s.Store, ctx, ht.run, maxDelay)
	if err != nil || len(ht.touched) == 0 || !s.hub.watched(ht.touched) {
		return wait, err
	}
	touched := slices.Clone(ht.touched)
	return func() error {
		err := wait()
		if err == nil {
			s.hub.signal(touched)
		}
		return err
	}, nil
}
