package refserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/store"
)

// The turn runner: one per session with work, in memory. It owns the
// running turn and a FIFO queue, and is the only writer of the running
// turn's record and events, so seq numbers are assigned without gaps and
// each event is stored before it is broadcast.
//
// Lock order: runner.mu may be held while calling the store; the store is
// never entered with runner.mu wanted inside it. runnerSet.mu and
// turnExec.mu are leaves.

type sessKey struct{ tenant, id string }

// cancelCause says why a running turn was cancelled (its cancelled_by).
type cancelCause struct{ by gen.CancelledBy }

func (c *cancelCause) Error() string { return "turn cancelled (" + string(c.by) + ")" }

var (
	causeCancelRequest = &cancelCause{gen.CancelledByCancelRequest}
	causeInterrupt     = &cancelCause{gen.CancelledByInterrupt}
	causeTimeout       = &cancelCause{gen.CancelledByTimeout}
	causeSessionClosed = &cancelCause{gen.CancelledBySessionClosed}
)

type runnerSet struct {
	mu sync.Mutex
	m  map[sessKey]*runner
}

type runner struct {
	key sessKey
	mu  sync.Mutex
	// dead: removed from the set; whoever locked it must look again.
	dead bool
	// closing: the session is being ended or closed; no turn may start.
	closing bool
	// running is written under mu and read without it (activity).
	running atomic.Pointer[turnExec]
	queue   []*turnExec
	// queued is len(queue), for the metrics, which read it without mu.
	queued atomic.Int32
}

// setQueue replaces rn's queue (rn locked).
func (rn *runner) setQueue(q []*turnExec) {
	rn.queue = q
	rn.queued.Store(int32(len(q)))
}

// counts returns the turns running and queued now, for the metrics.
func (rs *runnerSet) counts() (running, queued int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, rn := range rs.m {
		if rn.running.Load() != nil {
			running++
		}
		queued += int(rn.queued.Load())
	}
	return running, queued
}

// lock returns the session's runner, locked, creating it when needed.
func (rs *runnerSet) lock(key sessKey) *runner {
	for {
		rs.mu.Lock()
		rn := rs.m[key]
		if rn == nil {
			rn = &runner{key: key}
			rs.m[key] = rn
		}
		rs.mu.Unlock()
		rn.mu.Lock()
		if !rn.dead {
			return rn
		}
		rn.mu.Unlock()
	}
}

// release unlocks rn, dropping it from the set when it holds no work.
func (rs *runnerSet) release(rn *runner) {
	if rn.running.Load() == nil && len(rn.queue) == 0 && !rn.closing && !rn.dead {
		rn.dead = true
		rs.mu.Lock()
		if rs.m[rn.key] == rn {
			delete(rs.m, rn.key)
		}
		rs.mu.Unlock()
	}
	rn.mu.Unlock()
}

// current returns the session's running turn, if any, without locking the
// runner.
func (rs *runnerSet) current(key sessKey) *turnExec {
	rs.mu.Lock()
	rn := rs.m[key]
	rs.mu.Unlock()
	if rn == nil {
		return nil
	}
	return rn.running.Load()
}

func (rs *runnerSet) all() []*runner {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]*runner, 0, len(rs.m))
	for _, rn := range rs.m {
		out = append(out, rn)
	}
	return out
}

// find returns the running or queued turn with that index (rn locked).
func (rn *runner) find(index int) *turnExec {
	if ex := rn.running.Load(); ex != nil && ex.index == index {
		return ex
	}
	for _, ex := range rn.queue {
		if ex.index == index {
			return ex
		}
	}
	return nil
}

// turnExec is a turn the runner holds: queued, running, or just ended.
// Streams read its events from memory while it runs.
type turnExec struct {
	key     sessKey
	index   int
	agent   string
	prompt  string
	files   []gen.File
	timeout time.Duration
	// createdRunning: the turn started at once (nothing was running).
	createdRunning bool
	// turn is the runner's copy of the stored record; only the goroutine
	// that owns the turn's current phase touches it.
	turn store.Turn
	// progress is the unix-nano time of the turn's start or last event.
	progress atomic.Int64

	mu       sync.Mutex
	cancelFn context.CancelCauseFunc
	cause    error // why it was cancelled, once it was
	ending   bool  // the end is being recorded; too late to cancel
	events   []gen.Event
	final    *store.Turn // set when ended
	changed  chan struct{}
	done     chan struct{}
}

func newTurnExec(key sessKey, t *store.Turn, agentName string, files []gen.File, timeout time.Duration) *turnExec {
	return &turnExec{
		key: key, index: t.Index, agent: agentName, prompt: t.Prompt, files: files, timeout: timeout,
		createdRunning: t.Status == gen.TurnStatusRunning,
		turn:           *t, changed: make(chan struct{}), done: make(chan struct{}),
	}
}

// cancelWith cancels the turn for cause. It reports whether this call
// cancelled it (false when it was already cancelled or is ending).
func (ex *turnExec) cancelWith(cause error) bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.ending || ex.cause != nil {
		return false
	}
	ex.cause = cause
	if ex.cancelFn != nil {
		ex.cancelFn(cause)
	}
	return true
}

func (ex *turnExec) setCancel(f context.CancelCauseFunc) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.cancelFn = f
	if ex.cause != nil {
		f(ex.cause)
	}
}

// beginEnd marks the turn as ending and returns the cancel cause, if any.
func (ex *turnExec) beginEnd() error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.ending = true
	return ex.cause
}

func (ex *turnExec) publish(ev gen.Event) {
	ex.progress.Store(time.Now().UnixNano())
	ex.mu.Lock()
	ex.events = append(ex.events, ev)
	close(ex.changed)
	ex.changed = make(chan struct{})
	ex.mu.Unlock()
}

func (ex *turnExec) end(final store.Turn) {
	ex.mu.Lock()
	ex.ending = true
	ex.final = &final
	close(ex.changed)
	ex.changed = make(chan struct{})
	ex.mu.Unlock()
	close(ex.done)
}

// since returns the events after seq, the ended turn (nil while it runs)
// and a channel closed at the next change.
func (ex *turnExec) since(seq int64) ([]gen.Event, *store.Turn, <-chan struct{}) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	i := len(ex.events)
	for i > 0 && ex.events[i-1].Seq > seq {
		i--
	}
	return ex.events[i:len(ex.events):len(ex.events)], ex.final, ex.changed
}

// turnEnd is how the server ends a turn.
type turnEnd struct {
	stop  gen.StopReason
	by    gen.CancelledBy
	usage gen.Usage
	// events are the agent's last events (agent.Outcome.Events), stored
	// in the transaction that ends the turn.
	events []gen.ScriptEvent
	// message, when set, is recorded as a final error event.
	message string
}

// startRunner makes ex the running turn of rn (locked) and runs it.
func (s *Server) startRunner(rn *runner, ex *turnExec) {
	ex.progress.Store(time.Now().UnixNano())
	rn.running.Store(ex)
	s.active.add()
	s.workers.run(func() { s.runLoop(rn, ex) })
}

// runLoop runs ex, then every queued turn in order, until the queue is
// empty or the session is closing. A turn's waiters are released only once
// the runner is free again, so a client that sends its next turn as soon
// as it has the answer never finds the session busy with the old one.
func (s *Server) runLoop(rn *runner, ex *turnExec) {
	defer s.active.done()
	for ex != nil {
		final := s.execute(ex)
		rn.mu.Lock()
		rn.running.Store(nil)
		next := (*turnExec)(nil)
		if !rn.closing && len(rn.queue) > 0 {
			next = rn.queue[0]
			rn.queue[0] = nil
			rn.setQueue(rn.queue[1:])
			next.progress.Store(time.Now().UnixNano())
			rn.running.Store(next)
		}
		ex.end(final)
		s.turns.release(rn)
		ex = next
	}
}

// kick restarts rn's (locked) queue when nothing runs, after a close that
// did not happen.
func (s *Server) kick(rn *runner) {
	if rn.running.Load() == nil && len(rn.queue) > 0 && !rn.closing {
		ex := rn.queue[0]
		rn.queue[0] = nil
		rn.setQueue(rn.queue[1:])
		s.startRunner(rn, ex)
	}
}

// storeCtx is the context of the runner's writes: they must happen even
// when the request or the turn was cancelled.
var storeCtx = context.Background()

// execute runs the turn and records its end; the caller releases its
// waiters with the returned record.
func (s *Server) execute(ex *turnExec) store.Turn {
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	defer cancel(nil)
	ctx, stopTimer := context.WithTimeoutCause(ctx, ex.timeout, causeTimeout)
	defer stopTimer()
	ex.setCancel(cancel)
	ex.progress.Store(time.Now().UnixNano())

	if ex.turn.Status != gen.TurnStatusRunning {
		if err := s.markStarted(ex); err != nil {
			s.log.Error("start turn", slog.String("session", ex.key.id), slog.Int("turn", ex.index), slog.String("error", err.Error()))
			return s.finish(ex, turnEnd{stop: gen.StopReasonError, message: "The server could not start the turn."})
		}
	}
	var out agent.Outcome
	var err error
	if ag, ok := s.agents.Get(ex.agent); !ok {
		err = fmt.Errorf("no agent named %q on this server", ex.agent)
	} else {
		emit := func(se gen.ScriptEvent) error {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return s.appendEvent(ex, se)
		}
		out, err = runAgent(ctx, ag, agent.Input{SessionID: ex.key.id, TurnIndex: ex.index, Prompt: ex.prompt, Files: ex.files}, emit)
	}
	// The outcome's events are kept as emitted ones would be: not after an
	// error, nor once the turn's context is done.
	var last []gen.ScriptEvent
	if err == nil && ctx.Err() == nil {
		last = out.Events
	}
	end := decideEnd(ctx, ex.beginEnd(), out, err)
	end.events = last
	return s.finish(ex, end)
}

// runAgent runs ag, turning a panic into an error.
func runAgent(ctx context.Context, ag agent.Agent, in agent.Input, emit agent.Emit) (out agent.Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("agent panicked: %v", v)
		}
	}()
	return ag.Run(ctx, in, emit)
}

// decideEnd says how a turn ends: an explicit cancel wins; a timeout or a
// shutdown counts only if the agent did not finish on its own.
func decideEnd(ctx context.Context, cause error, out agent.Outcome, err error) turnEnd {
	if cause == nil && err != nil && ctx.Err() != nil {
		cause = context.Cause(ctx)
	}
	var cc *cancelCause
	switch {
	case errors.As(cause, &cc):
		return turnEnd{stop: gen.StopReasonCancelled, by: cc.by}
	case errors.Is(cause, errShutdown):
		return turnEnd{stop: gen.StopReasonError, message: "The server is shutting down; the turn was ended."}
	case err != nil:
		return turnEnd{stop: gen.StopReasonError, message: "The agent failed: " + err.Error()}
	}
	stop := out.StopReason
	if stop == "" {
		stop = gen.StopReasonEndTurn
	}
	if !stop.Valid() {
		return turnEnd{stop: gen.StopReasonError, message: fmt.Sprintf("The agent ended the turn with an unknown stop reason %q.", stop)}
	}
	return turnEnd{stop: stop, usage: out.Usage}
}

func (s *Server) markStarted(ex *turnExec) error {
	t := ex.turn
	t.Status = gen.TurnStatusRunning
	t.StartedAt = s.now()
	err := s.store.Update(storeCtx, func(tx store.Tx) error { return tx.UpdateTurn(&t) })
	if err == nil {
		ex.turn = t
	}
	return err
}

// appendEvent stores one event of the running turn, then broadcasts it.
func (s *Server) appendEvent(ex *turnExec, se gen.ScriptEvent) error {
	t := ex.turn
	var ev gen.Event
	err := s.store.Update(storeCtx, func(tx store.Tx) error {
		sess, err := tx.GetSession(ex.key.tenant, ex.key.id)
		if err != nil {
			return err
		}
		if ev, err = appendEventTx(tx, sess, &t, se, s.now()); err != nil {
			return err
		}
		if err := tx.UpdateTurn(&t); err != nil {
			return err
		}
		return tx.UpdateSession(sess)
	})
	if err != nil {
		return fmt.Errorf("store the event: %w", err)
	}
	ex.turn = t
	ex.publish(ev)
	return nil
}

// appendEventTx stores se as the session's next event, counting it in t
// and sess; the caller writes t and sess back.
func appendEventTx(tx store.Tx, sess *store.Session, t *store.Turn, se gen.ScriptEvent, now time.Time) (gen.Event, error) {
	seq := sess.LastEventSeq + 1
	ev := gen.Event{
		Seq: seq, TurnIndex: int32(t.Index), Type: se.Type, Content: se.Content,
		ToolCallID: se.ToolCallID, Name: se.Name, Args: se.Args, Result: se.Result,
		Status: se.Status, Data: se.Data, CreatedAt: now,
	}
	if err := tx.AppendEvent(sess.Tenant, sess.ID, ev); err != nil {
		return gen.Event{}, err
	}
	t.EventCount++
	if t.FirstSeq == 0 {
		t.FirstSeq = seq
	}
	t.LastSeq = seq
	sess.LastEventSeq = seq
	sess.UpdatedAt = now
	return ev, nil
}

// endTurnTx ends t in tx, after end.events and a final error event when
// end.message is set, and writes it; the caller writes sess back. It
// returns the events it stored.
func endTurnTx(tx store.Tx, sess *store.Session, t *store.Turn, end turnEnd, now time.Time) ([]gen.Event, error) {
	var stored []gen.Event
	last := end.events
	if end.message != "" {
		last = append(last[:len(last):len(last)], gen.ScriptEvent{Type: gen.EventTypeError, Content: end.message})
	}
	for _, se := range last {
		ev, err := appendEventTx(tx, sess, t, se, now)
		if err != nil {
			return nil, err
		}
		stored = append(stored, ev)
	}
	t.Status = gen.TurnStatusCompleted
	t.StopReason = end.stop
	t.CancelledBy = end.by
	if end.usage != (gen.Usage{}) {
		t.Usage = end.usage
	}
	if t.StartedAt.IsZero() {
		t.StartedAt = now
	}
	t.EndedAt = now
	sess.UpdatedAt = now
	return stored, tx.UpdateTurn(t)
}

// finish records the end of the running turn ex, publishes the events it
// stored with it, and returns the ended record.
func (s *Server) finish(ex *turnExec, end turnEnd) store.Turn {
	var t store.Turn
	var stored []gen.Event
	err := s.store.Update(storeCtx, func(tx store.Tx) error {
		t = ex.turn
		sess, err := tx.GetSession(ex.key.tenant, ex.key.id)
		if err != nil {
			return err
		}
		if stored, err = endTurnTx(tx, sess, &t, end, s.now()); err != nil {
			return err
		}
		return tx.UpdateSession(sess)
	})
	if err != nil {
		// The record stays unfinished; the next start-up ends it.
		s.log.Error("record the end of a turn", slog.String("session", ex.key.id), slog.Int("turn", ex.index), slog.String("error", err.Error()))
		t = ex.turn
		t.Status, t.StopReason, t.CancelledBy = gen.TurnStatusCompleted, gen.StopReasonError, ""
		t.EndedAt = s.now()
		if t.StartedAt.IsZero() {
			t.StartedAt = t.EndedAt
		}
		stored = nil
	}
	ex.turn = t
	for _, ev := range stored {
		ex.publish(ev)
	}
	return t
}

// drainQueue ends every queued turn of rn (locked) the way end says, in one
// transaction, and releases their waiters.
func (s *Server) drainQueue(rn *runner, end turnEnd) error {
	if len(rn.queue) == 0 {
		return nil
	}
	queued := rn.queue
	ended, events, err := s.endQueuedTx(rn.key, queued, end)
	if err != nil {
		return err
	}
	rn.setQueue(nil)
	for i, ex := range queued {
		ex.turn = ended[i]
		for _, ev := range events[i] {
			ex.publish(ev)
		}
		ex.end(ended[i])
	}
	return nil
}

func (s *Server) endQueuedTx(key sessKey, queued []*turnExec, end turnEnd) ([]store.Turn, [][]gen.Event, error) {
	var ended []store.Turn
	var events [][]gen.Event
	err := s.store.Update(storeCtx, func(tx store.Tx) error {
		ended, events = nil, nil
		sess, err := tx.GetSession(key.tenant, key.id)
		if err != nil {
			return err
		}
		now := s.now()
		for _, ex := range queued {
			t := ex.turn
			ev, err := endTurnTx(tx, sess, &t, end, now)
			if err != nil {
				return err
			}
			ended, events = append(ended, t), append(events, ev)
		}
		return tx.UpdateSession(sess)
	})
	return ended, events, err
}

// endQueued drains rn's queue (Shutdown).
func (s *Server) endQueued(rn *runner, end turnEnd) {
	rn.mu.Lock()
	if rn.dead {
		rn.mu.Unlock()
		return
	}
	if err := s.drainQueue(rn, end); err != nil {
		s.log.Error("end queued turns", slog.String("session", rn.key.id), slog.String("error", err.Error()))
	}
	s.turns.release(rn)
}

// recoverTurns ends every turn the store still has queued or running: they
// were in flight when the server stopped without a graceful shutdown.
func (s *Server) recoverTurns(ctx context.Context) error {
	var turns []*store.Turn
	if err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		turns, err = tx.UnfinishedTurns()
		return err
	}); err != nil {
		return err
	}
	end := turnEnd{stop: gen.StopReasonError, message: "The server stopped while this turn was in flight; it was ended when the server restarted."}
	for len(turns) > 0 {
		key := sessKey{turns[0].Tenant, turns[0].SessionID}
		n := 1
		for n < len(turns) && turns[n].Tenant == key.tenant && turns[n].SessionID == key.id {
			n++
		}
		batch := turns[:n]
		turns = turns[n:]
		err := s.store.Update(ctx, func(tx store.Tx) error {
			sess, err := tx.GetSession(key.tenant, key.id)
			if err != nil {
				return err
			}
			now := s.now()
			for _, t := range batch {
				t := *t
				if _, err := endTurnTx(tx, sess, &t, end, now); err != nil {
					return err
				}
			}
			return tx.UpdateSession(sess)
		})
		if err != nil {
			return fmt.Errorf("session %s: %w", key.id, err)
		}
		s.log.Info("ended turns left in flight", slog.String("session", key.id), slog.Int("turns", len(batch)))
	}
	return nil
}

// activity is a session's live activity.
func (s *Server) activity(key sessKey) gen.Activity {
	ex := s.turns.current(key)
	if ex == nil {
		return gen.ActivityIdle
	}
	if time.Since(time.Unix(0, ex.progress.Load())) > s.cfg.StallAfter {
		return gen.ActivityStalled
	}
	return gen.ActivityRunning
}
