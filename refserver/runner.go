package refserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/store"
)

// The turn runner: one per session with work, in memory. It owns the
// running turn and a FIFO queue, and is the only writer of the running
// turn's record and events (with the answers to the turn's permission
// requests, under the turn's write lock), so seq numbers are assigned
// without gaps and each event is stored before it is broadcast.
//
// Handlers never touch a runner: they call the Server's runner methods —
// submitTurn (admit a turn by its busy policy), cancelRunning, cancelTurnAt,
// closeTurns (a session-ending change), heldTurn (find a live turn) — and
// give them the store transaction that decides, which runs with the runner
// locked.
//
// Lock order: runner.mu, then turnExec.wmu, may be held while calling the
// store; the store is never entered with either wanted inside it (a read
// transaction must not ask the runner: read its answer after). runnerSet.mu
// and turnExec.mu are leaves.

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
	// queued is len(queue), for the metrics and queued_turns, which read
	// it without mu.
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

// peek returns the session's runner without locking it, nil when it has
// none.
func (rs *runnerSet) peek(key sessKey) *runner {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.m[key]
}

// current returns the session's running turn, if any, without locking the
// runner.
func (rs *runnerSet) current(key sessKey) *turnExec {
	if rn := rs.peek(key); rn != nil {
		return rn.running.Load()
	}
	return nil
}

// queuedTurns is how many turns wait in the session's queue, read without
// locking the runner (a store transaction may ask).
func (rs *runnerSet) queuedTurns(key sessKey) int {
	if rn := rs.peek(key); rn != nil {
		return int(rn.queued.Load())
	}
	return 0
}

// positions maps the index of each queued turn of the session to its
// queue position (1 runs next). It locks the runner: call it outside a
// store transaction.
func (rs *runnerSet) positions(key sessKey) map[int]int {
	rn := rs.peek(key)
	if rn == nil {
		return nil
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	out := make(map[int]int, len(rn.queue))
	for i, ex := range rn.queue {
		out[ex.index] = i + 1
	}
	return out
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

// runnerState is what an admission transaction sees of the session's
// runner (locked while it runs).
type runnerState struct {
	// running is the running turn (read its index only), nil when none.
	running *turnExec
	queued  int
	closing bool
}

// admission is what an admission transaction decided.
type admission struct {
	// turn is the new turn to run or queue; nil when the request made none.
	turn *turnExec
	// existing, without a new turn, is the turn to answer with: an
	// idempotent replay's, or the running turn a steer prompt went to.
	existing int
	// guidance is a steer prompt for the running turn (existing).
	guidance string
}

// submitted is where submitTurn put a turn.
type submitted struct {
	// ex is the live turn, nil when it has ended.
	ex    *turnExec
	index int
	// position is the queue position of a queued turn (1 runs next), 0
	// for one that runs.
	position int
}

// submitTurn admits a turn to the session by its busy policy: admit, the
// request's store transaction, runs with the runner locked and sees its
// state; then the new turn runs at once (nothing runs), goes to the front
// of the queue and cancels the running turn (interrupt), or joins the end
// of the queue; a steer prompt goes to the running turn.
func (s *Server) submitTurn(key sessKey, policy gen.BusyPolicy, admit func(runnerState) (admission, error)) (submitted, error) {
	rn := s.turns.lock(key)
	defer s.turns.release(rn)
	st := runnerState{running: rn.running.Load(), queued: len(rn.queue), closing: rn.closing}
	adm, err := admit(st)
	if err != nil {
		return submitted{}, err
	}
	ex := adm.turn
	if ex == nil {
		out := submitted{ex: rn.find(adm.existing), index: adm.existing}
		if adm.guidance != "" && out.ex != nil {
			out.ex.guide(adm.guidance)
		}
		return out, nil
	}
	out := submitted{ex: ex, index: ex.index}
	switch {
	case st.running == nil:
		s.startRunner(rn, ex)
	case policy == gen.BusyPolicyInterrupt:
		rn.setQueue(append([]*turnExec{ex}, rn.queue...))
		st.running.cancelWith(causeInterrupt)
		out.position = 1
	default:
		rn.setQueue(append(rn.queue, ex))
		out.position = len(rn.queue)
	}
	return out, nil
}

// cancelRunning cancels the session's running turn for cause once check
// (the request's transaction, run with the runner locked) lets it go on.
// It returns the turn this call cancelled: nil when none ran, when another
// request had cancelled it first, or when check said no.
func (s *Server) cancelRunning(key sessKey, cause error, check func() (proceed bool, err error)) (*turnExec, error) {
	rn := s.turns.lock(key)
	defer s.turns.release(rn)
	if ok, err := check(); !ok || err != nil {
		return nil, err
	}
	if ex := rn.running.Load(); ex != nil && ex.cancelWith(cause) {
		return ex, nil
	}
	return nil, nil
}

// errTurnNotHeld is what cancelTurnAt's callers learn when the runner does
// not hold the turn: the store knows it (ended, or none).
var errTurnNotHeld = errors.New("the turn is not running or queued")

// cancelTurnAt cancels turn index of the session. A queued turn is ended at
// once by endQueued (the transaction that records its end, given its
// record), without running, and leaves the queue; the turns behind it move
// up. The running turn is cancelled with causeCancelRequest and its end
// awaited (it ends promptly, so the wait outlives a client that left). It
// returns the ended turn, or errTurnNotHeld.
func (s *Server) cancelTurnAt(key sessKey, index int, endQueued func(t store.Turn) (store.Turn, []gen.Event, error)) (store.Turn, error) {
	rn := s.turns.lock(key)
	if ex := rn.running.Load(); ex != nil && ex.index == index {
		ex.cancelWith(causeCancelRequest)
		s.turns.release(rn)
		<-ex.done
		_, final, _ := ex.since(0)
		return *final, nil
	}
	defer s.turns.release(rn)
	at := slices.IndexFunc(rn.queue, func(ex *turnExec) bool { return ex.index == index })
	if at < 0 {
		return store.Turn{}, errTurnNotHeld
	}
	ex := rn.queue[at]
	ended, events, err := endQueued(ex.turn)
	if err != nil {
		return store.Turn{}, err
	}
	rn.setQueue(slices.Delete(rn.queue, at, at+1))
	ex.turn = ended
	for _, ev := range events {
		ex.publish(ev)
	}
	ex.end(ended)
	return ended, nil
}

// heldTurn returns turn index of the session while the runner holds it
// (queued or running); for a turn it does not hold it runs notHeld, with
// the runner locked, so that the turn is either held or ended in the store
// for it.
func (s *Server) heldTurn(key sessKey, index int, notHeld func() error) (*turnExec, error) {
	rn := s.turns.lock(key)
	defer s.turns.release(rn)
	if ex := rn.find(index); ex != nil {
		return ex, nil
	}
	return nil, notHeld()
}

// whileOpen runs fn (a change that must not race with the session being
// closed, such as spawning a child that the close would have to close
// too) with the runner locked; closing says a close or end is under way.
func (s *Server) whileOpen(key sessKey, fn func(closing bool) (rawResponse, error)) (rawResponse, error) {
	rn := s.turns.lock(key)
	defer s.turns.release(rn)
	return fn(rn.closing)
}

// closeTurns ends the session's turns for a session-ending change (close,
// end). check runs first with the runner locked (it reads the session) and
// may stop there (proceed false). Then, with the runner closing so that no
// turn starts meanwhile, the running turn is cancelled with cause and its
// end awaited (every pending permission request is answered cancelled with
// it), between runs (closing the children), and end runs: the transaction
// that ends the queued turns (given their records, oldest first) with the
// session, returning them ended. When it commits the queued turns' waiters
// are released; when it fails the queue goes on.
func (s *Server) closeTurns(key sessKey, cause error, check func() (proceed bool, err error), between func(),
	end func(queued []store.Turn) ([]store.Turn, error)) error {
	rn := s.turns.lock(key)
	if ok, err := check(); !ok || err != nil {
		s.turns.release(rn)
		return err
	}
	rn.closing = true
	running := rn.running.Load()
	if running != nil {
		running.cancelWith(cause)
	}
	rn.mu.Unlock()
	if running != nil {
		<-running.done // agents honour their context: this is prompt
	}
	between()

	rn.mu.Lock()
	queued := rn.queue
	records := make([]store.Turn, len(queued))
	for i, ex := range queued {
		records[i] = ex.turn
	}
	ended, err := end(records)
	if err == nil && len(ended) == len(queued) {
		rn.setQueue(nil)
		for i, ex := range queued {
			ex.turn = ended[i]
			ex.end(ended[i])
		}
	}
	rn.closing = false
	if err != nil {
		s.kick(rn)
	}
	s.turns.release(rn)
	return err
}

// shutdownTurns ends every queued turn of every session the way end says
// (Shutdown); the running ones end through the server's base context.
func (s *Server) shutdownTurns(end turnEnd) {
	for _, rn := range s.turns.all() {
		rn.mu.Lock()
		if rn.dead {
			rn.mu.Unlock()
			continue
		}
		if err := s.drainQueue(rn, end); err != nil {
			s.log.Error("end queued turns", slog.String("session", rn.key.id), slog.String("error", err.Error()))
		}
		s.turns.release(rn)
	}
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
	// options are the session's agent options in force.
	options map[string]any
	// createdRunning: the turn started at once (nothing was running).
	createdRunning bool
	// meta is the caller's meta the turn was sent with.
	meta map[string]any

	// wmu orders the writes of the turn's record once it runs: the
	// runner's (its start, its events, its end) and the answers to its
	// permission requests. turn is the runner's copy of the stored record;
	// while the turn runs it is read and written under wmu (before, by the
	// goroutine that holds the queue).
	wmu  sync.Mutex
	turn store.Turn
	// progress is the unix-nano time of the turn's start or last event.
	progress atomic.Int64
	// waiting counts the pending permission requests, for activity.
	waiting atomic.Int32

	mu       sync.Mutex
	cancelFn context.CancelCauseFunc
	cause    error // why it was cancelled, once it was
	ending   bool  // the end is being recorded; too late to cancel
	events   []gen.Event
	final    *store.Turn // set when ended
	changed  chan struct{}
	done     chan struct{}
	// asks are the turn's pending permission requests, by request id.
	asks map[string]*pendingAsk
	// guidance holds the steer prompts the agent has not taken yet.
	guidance []string
}

// pendingAsk is a permission request the agent waits on; answer receives
// the chosen option id, or "" for "cancelled".
type pendingAsk struct {
	req    store.PermissionRequest
	answer chan string
}

func newTurnExec(key sessKey, t *store.Turn, agentName string, files []gen.File, timeout time.Duration, options map[string]any) *turnExec {
	return &turnExec{
		key: key, index: t.Index, agent: agentName, prompt: t.Prompt, files: files, timeout: timeout, options: options,
		createdRunning: t.Status == gen.TurnStatusRunning, meta: t.Meta,
		turn: *t, changed: make(chan struct{}), done: make(chan struct{}),
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

// publish broadcasts a stored event (wmu held by the writer, so events are
// published in seq order).
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
	ex.guidance = nil
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

// guide queues a steer prompt for the agent's next step boundary.
func (ex *turnExec) guide(prompt string) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.final == nil {
		ex.guidance = append(ex.guidance, prompt)
	}
}

// takeGuidance returns and forgets the queued steer prompts.
func (ex *turnExec) takeGuidance() []string {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	g := ex.guidance
	ex.guidance = nil
	return g
}

// waitingOn returns the pending permission requests, oldest first.
func (ex *turnExec) waitingOn() []store.PermissionRequest {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	out := make([]store.PermissionRequest, 0, len(ex.asks))
	for _, a := range ex.asks {
		out = append(out, a.req)
	}
	slices.SortFunc(out, func(a, b store.PermissionRequest) int { return cmp.Compare(a.Ord, b.Ord) })
	return out
}

// addAsk registers a pending request (wmu held).
func (ex *turnExec) addAsk(a *pendingAsk) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.asks == nil {
		ex.asks = map[string]*pendingAsk{}
	}
	ex.asks[a.req.RequestID] = a
	ex.waiting.Add(1)
}

// resolveAsk forgets a pending request and gives its answer to the agent
// ("" for cancelled); wmu held. It reports whether the request was pending.
func (ex *turnExec) resolveAsk(id, optionID string) bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	a, ok := ex.asks[id]
	if !ok {
		return false
	}
	delete(ex.asks, id)
	ex.waiting.Add(-1)
	a.answer <- optionID // buffered: the agent may have stopped waiting
	return true
}

// turnEnd is how the server ends a turn.
type turnEnd struct {
	stop  gen.StopReason
	by    gen.CancelledBy
	usage gen.Usage
	// events are the agent's last events (agent.Outcome.Events), stored
	// in the transaction that ends the turn.
	events []gen.ScriptEvent
	// pending are the turn's permission requests still waiting: the end
	// answers each cancelled.
	pending []store.PermissionRequest
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
		end := s.execute(ex)
		// The end is recorded with the runner locked: a client that reads
		// the ended turn (getTurn) and at once sends its next one must not
		// find the session still busy with it.
		rn.mu.Lock()
		final := s.finish(ex, end)
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

// execute runs the turn and returns how it ends; the caller records that
// (finish) and releases its waiters with the record.
func (s *Server) execute(ex *turnExec) turnEnd {
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	defer cancel(nil)
	ctx, stopTimer := context.WithTimeoutCause(ctx, ex.timeout, causeTimeout)
	defer stopTimer()
	ex.setCancel(cancel)
	ex.progress.Store(time.Now().UnixNano())

	if ex.turn.Status != gen.TurnStatusRunning {
		if err := s.markStarted(ex); err != nil {
			s.log.Error("start turn", slog.String("session", ex.key.id), slog.Int("turn", ex.index), slog.String("error", err.Error()))
			return turnEnd{stop: gen.StopReasonError, message: "The server could not start the turn."}
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
		in := agent.Input{SessionID: ex.key.id, TurnIndex: ex.index, Prompt: ex.prompt, Files: ex.files, Options: ex.options}
		info := ag.Info()
		if info.Permissions {
			in.Permissions = turnPermissions{s: s, ex: ex, turnCtx: ctx}
		}
		if info.Steer {
			in.Guidance = func() ([]string, error) {
				if ctx.Err() != nil {
					return nil, context.Cause(ctx)
				}
				return s.recordGuidance(ex)
			}
		}
		out, err = runAgent(ctx, ag, in, emit)
	}
	// The outcome's events are kept as emitted ones would be: not after an
	// error, nor once the turn's context is done.
	var last []gen.ScriptEvent
	if err == nil && ctx.Err() == nil {
		last = out.Events
	}
	end := decideEnd(ctx, ex.beginEnd(), out, err)
	end.events = last
	return end
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

// markStarted records that a queued turn started, with its turn_started
// lifecycle event.
func (s *Server) markStarted(ex *turnExec) error {
	ex.wmu.Lock()
	defer ex.wmu.Unlock()
	t := ex.turn
	t.Status = gen.TurnStatusRunning
	t.StartedAt = s.now()
	err := s.store.Update(storeCtx, func(tx store.Tx) error {
		sess, err := tx.GetSession(ex.key.tenant, ex.key.id)
		if err != nil {
			return err
		}
		if err := tx.UpdateTurn(&t); err != nil {
			return err
		}
		if err := appendLifecycleTx(tx, sess, gen.LifecycleEvent{Type: gen.LifecycleEventTypeTurnStarted, TurnIndex: int32(t.Index)}, t.StartedAt); err != nil {
			return err
		}
		return tx.UpdateSession(sess)
	})
	if err == nil {
		ex.turn = t
	}
	return err
}

// appendEvent stores one event of the running turn, then broadcasts it.
func (s *Server) appendEvent(ex *turnExec, se gen.ScriptEvent) error {
	ex.wmu.Lock()
	defer ex.wmu.Unlock()
	ev, err := s.storeEventLocked(ex, scriptEvent(se), nil)
	if err != nil {
		return err
	}
	ex.publish(ev)
	return nil
}

// storeEventLocked stores ev as the running turn's next event (ex.wmu
// held), with more (other writes of the same transaction, given the
// stored event) when set. The caller publishes it.
func (s *Server) storeEventLocked(ex *turnExec, ev gen.Event, more func(tx store.Tx, sess *store.Session, t *store.Turn, ev gen.Event) error) (gen.Event, error) {
	t := ex.turn
	err := s.store.Update(storeCtx, func(tx store.Tx) error {
		sess, err := tx.GetSession(ex.key.tenant, ex.key.id)
		if err != nil {
			return err
		}
		if ev, err = appendFullEventTx(tx, sess, &t, ev, s.now()); err != nil {
			return err
		}
		if more != nil {
			if err := more(tx, sess, &t, ev); err != nil {
				return err
			}
		}
		if err := tx.UpdateTurn(&t); err != nil {
			return err
		}
		return tx.UpdateSession(sess)
	})
	if err != nil {
		return gen.Event{}, fmt.Errorf("store the event: %w", err)
	}
	ex.turn = t
	return ev, nil
}

// scriptEvent is the event an agent's ScriptEvent becomes.
func scriptEvent(se gen.ScriptEvent) gen.Event {
	return gen.Event{Type: se.Type, Content: se.Content, ToolCallID: se.ToolCallID, Name: se.Name, Args: se.Args,
		Result: se.Result, Status: se.Status, Data: se.Data}
}

// recordGuidance records the steer prompts the agent takes now as guidance
// events of its turn, and returns them.
func (s *Server) recordGuidance(ex *turnExec) ([]string, error) {
	prompts := ex.takeGuidance()
	for _, p := range prompts {
		if err := s.appendEvent(ex, gen.ScriptEvent{Type: gen.EventTypeGuidance, Content: p}); err != nil {
			return nil, err
		}
	}
	return prompts, nil
}

// appendEventTx stores se as the session's next event, counting it in t
// and sess; the caller writes t and sess back.
func appendEventTx(tx store.Tx, sess *store.Session, t *store.Turn, se gen.ScriptEvent, now time.Time) (gen.Event, error) {
	return appendFullEventTx(tx, sess, t, scriptEvent(se), now)
}

// appendFullEventTx stores ev (seq, turn and time set here) as the
// session's next event, counting it in t and sess.
func appendFullEventTx(tx store.Tx, sess *store.Session, t *store.Turn, ev gen.Event, now time.Time) (gen.Event, error) {
	seq := sess.LastEventSeq + 1
	ev.Seq, ev.TurnIndex, ev.CreatedAt = seq, int32(t.Index), now
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

// endTurnTx ends t in tx, after end.events, a permission_response
// (cancelled) for each of end.pending and a final error event when
// end.message is set, with its turn_ended lifecycle event, and writes it;
// the caller writes sess back. It returns the events it stored.
func endTurnTx(tx store.Tx, sess *store.Session, t *store.Turn, end turnEnd, now time.Time) ([]gen.Event, error) {
	var stored []gen.Event
	for _, se := range end.events {
		ev, err := appendEventTx(tx, sess, t, se, now)
		if err != nil {
			return nil, err
		}
		stored = append(stored, ev)
	}
	for _, r := range end.pending {
		ev, err := resolvePermissionTx(tx, sess, t, r, "", now)
		if err != nil {
			return nil, err
		}
		stored = append(stored, ev)
	}
	if end.message != "" {
		ev, err := appendEventTx(tx, sess, t, gen.ScriptEvent{Type: gen.EventTypeError, Content: end.message}, now)
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
	if err := appendLifecycleTx(tx, sess, gen.LifecycleEvent{Type: gen.LifecycleEventTypeTurnEnded, TurnIndex: int32(t.Index),
		StopReason: t.StopReason}, now); err != nil {
		return nil, err
	}
	return stored, tx.UpdateTurn(t)
}

// finish records the end of the running turn ex, publishes the events it
// stored with it, and returns the ended record. The turn's pending
// permission requests are answered cancelled in the same transaction.
func (s *Server) finish(ex *turnExec, end turnEnd) store.Turn {
	ex.wmu.Lock()
	defer ex.wmu.Unlock()
	end.pending = ex.waitingOn()
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
	for _, r := range end.pending {
		ex.resolveAsk(r.RequestID, "")
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

// recoverTurns ends every turn the store still has queued or running: they
// were in flight when the server stopped without a graceful shutdown. Their
// pending permission requests are answered cancelled.
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
				end := end
				if t.Status == gen.TurnStatusRunning {
					pending, _, err := tx.ListPermissionRequests(key.tenant, key.id, store.PermissionQuery{
						Status: gen.PermissionStatusPending, TurnIndex: t.Index})
					if err != nil {
						return err
					}
					for _, r := range pending {
						end.pending = append(end.pending, *r)
					}
				}
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
	switch {
	case ex == nil:
		return gen.ActivityIdle
	case ex.waiting.Load() > 0: // waiting for a person is not a stall
		return gen.ActivityWaitingForInput
	case time.Since(time.Unix(0, ex.progress.Load())) > s.cfg.StallAfter:
		return gen.ActivityStalled
	}
	return gen.ActivityRunning
}
