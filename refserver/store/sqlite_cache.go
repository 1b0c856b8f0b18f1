package store

// The writer's row cache: the image of the session and turn rows the
// writer connection last read or wrote. A turn's transactions read the
// session and write it back, and write the turn, several times a turn;
// with the cache a read costs a copy instead of a query and a JSON decode,
// and a write sends only the columns that changed (a new event changes two
// columns of the session and three of the turn, not all of them with their
// JSON re-encoded).
//
// A session's changes are written to the database once per transaction,
// not once per UpdateSession: the cached image is marked dirty, and the
// dirty images are written before the COMMIT and before any query that
// reads sessions by other than their key (ListSessions, CountSessions).
// A turn's acceptance and its end write the session twice in the one
// transaction they share; the database gets one UPDATE. Likewise a new
// turn is inserted when the transaction commits (or before a query that
// lists turns), with the values it has by then: a turn accepted and ended
// in one transaction costs one INSERT and no UPDATE. That its index is new
// is known without a query from the largest index the session has.
//
// A turn's own lifecycle events (turn_queued, turn_started, turn_ended)
// are kept on its row, in the cache's image of it, and written with the
// turn's INSERT or UPDATE: a turn's start and end cost no statement and no
// page of their own (a separate table cost an echo turn a fifth of its
// time on SQLite). Other lifecycle events, and a turn's when its row is not
// cached, go to lifecycle_events, inserted at the commit too, all of a
// transaction in one statement. Either way only when their lifecycle_seq
// is known to be new from the session's largest one; otherwise at once, so
// that a taken one fails its own write.
//
// The cache is exact, not a guess: it holds what the database holds inside
// the writer's current transaction. It stays exact because
//   - only the writer connection writes, and only through CreateSession,
//     UpdateSession, CreateTurn and UpdateTurn, which keep it up to date;
//   - what an Update's fn did to the cache is undone when that fn fails
//     (its savepoint or transaction is rolled back): every entry it
//     changed gets back the state it had before; the whole cache is
//     dropped when a transaction fails;
//   - PRAGMA data_version, read at the start of every write transaction,
//     changes when another connection (another store on the same file)
//     committed, and then the whole cache is dropped.

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// Bounds on the cache; past them it starts over (a miss is only slower).
const (
	maxCachedSessions = 4096
	maxCachedTurns    = 4096
)

type sessionKey struct{ tenant, id string }

type turnKey struct {
	tenant, session string
	index           int
}

// sessionEntry is a cached session: its normalized image (never handed
// out) and the columns where the image is ahead of the database.
type sessionEntry struct {
	img   *Session
	dirty uint64
}

// turnEntry is a cached turn: its normalized image (never handed out),
// whether it is still to be inserted, and the lifecycle events on its row:
// nil when they are not known (a row read back from the database), which
// then takes none (they go to lifecycle_events).
type turnEntry struct {
	img     *Turn
	pending bool
	lc      *turnLC
}

// turnLC are the lifecycle events a turn's row holds, encoded, by slot
// (turn_queued, turn_started, turn_ended), and the largest lifecycle_seq
// among them. dirty: they are ahead of the row (of a turn not pending).
// Entries are replaced, never changed, so an undo can put back the old.
type turnLC struct {
	slots [3]string
	max   int64
	dirty bool
}

// The turn row's lifecycle columns, after turnCols.
const (
	turnLCCols = `lc_queued, lc_started, lc_ended, lc_max`
	turnLCSet  = `lc_queued = ?, lc_started = ?, lc_ended = ?, lc_max = ?`
)

// args are the values of turnLCCols (none: empty).
func (lc *turnLC) args() []any {
	if lc == nil {
		return []any{"", "", "", int64(0)}
	}
	return []any{lc.slots[0], lc.slots[1], lc.slots[2], lc.max}
}

// lcSlot is the slot of a turn's lifecycle event type, -1 for the others.
func lcSlot(typ gen.LifecycleEventType) int {
	switch typ {
	case gen.LifecycleEventTypeTurnQueued:
		return 0
	case gen.LifecycleEventTypeTurnStarted:
		return 1
	case gen.LifecycleEventTypeTurnEnded:
		return 2
	}
	return -1
}

// attachLifecycle puts ev (encoded as data) on the row of its turn k when
// the cache holds that turn and the slot of ev's type is free; it reports
// whether it did.
func (c *rowCache) attachLifecycle(t *touched, k turnKey, ev gen.LifecycleEvent, data string) bool {
	slot := lcSlot(ev.Type)
	e := c.turns[k]
	if slot < 0 || k.index <= 0 || e == nil || e.lc == nil || e.lc.slots[slot] != "" {
		return false
	}
	lc := new(turnLC)
	*lc = *e.lc
	lc.dirty = lc.dirty || !e.pending
	lc.slots[slot] = data
	lc.max = max(lc.max, ev.LifecycleSeq)
	c.setTurn(t, k, &turnEntry{img: e.img, pending: e.pending, lc: lc})
	return true
}

// withTurnLC adds the lifecycle columns of lc to a turn's UPDATE (query,
// of the columns of mask, with args: the values then the key).
func withTurnLC(query string, mask uint64, args []any, lc *turnLC) (string, []any) {
	n := bits.OnesCount64(mask)
	if mask == 0 {
		query = qUpdateTurnLC
	} else {
		query = strings.Replace(query, " WHERE ", ", "+turnLCSet+" WHERE ", 1)
	}
	out := make([]any, 0, len(args)+4)
	out = append(append(append(out, args[:n]...), lc.args()...), args[n:]...)
	return query, out
}

// flushTurnLC writes the lifecycle events that are ahead of their
// (inserted) turn rows; t records the change when a fn is running.
func (c *rowCache) flushTurnLC(conn *sqlConn, t *touched) error {
	for k, e := range c.turns {
		if e.pending || e.lc == nil || !e.lc.dirty {
			continue
		}
		if _, err := conn.exec(qUpdateTurnLC, append(e.lc.args(), k.tenant, k.session, k.index)...); err != nil {
			return fmt.Errorf("update turn %s/%d: %w", k.session, k.index, err)
		}
		clean := *e.lc
		clean.dirty = false
		next := &turnEntry{img: e.img, lc: &clean}
		if t != nil {
			c.setTurn(t, k, next)
		} else {
			c.turns[k] = next
		}
	}
	return nil
}

type rowCache struct {
	sessions map[sessionKey]*sessionEntry
	turns    map[turnKey]*turnEntry
	// maxTurn is the largest turn index of a session, in the database or
	// pending (absent: not known yet).
	maxTurn map[sessionKey]int
	// lifecycle are the lifecycle events to insert at the commit;
	// maxLifecycle the largest lifecycle_seq of a session, in the database
	// or pending (absent: not known yet).
	lifecycle    []lifecycleRow
	maxLifecycle map[sessionKey]int64
	// dataVersion is the last PRAGMA data_version seen (0: unknown).
	dataVersion int64
	// updateSQL caches the partial UPDATE statements by column set.
	sessionSQL map[uint64]string
	turnSQL    map[uint64]string
}

// lifecycleRow is a pending lifecycle event, encoded.
type lifecycleRow struct {
	tenant, session string
	seq             int64
	data            string
}

func newRowCache() *rowCache {
	return &rowCache{
		sessions: map[sessionKey]*sessionEntry{}, turns: map[turnKey]*turnEntry{}, maxTurn: map[sessionKey]int{},
		maxLifecycle: map[sessionKey]int64{}, sessionSQL: map[uint64]string{}, turnSQL: map[uint64]string{},
	}
}

func (c *rowCache) clear() {
	clear(c.sessions)
	clear(c.turns)
	clear(c.maxTurn)
	clear(c.maxLifecycle)
	c.lifecycle = c.lifecycle[:0]
}

// turn returns the cached image of a turn, or nil.
func (c *rowCache) turn(k turnKey) *Turn {
	if e := c.turns[k]; e != nil {
		return e.img
	}
	return nil
}

// session returns the cached image of a session, or nil.
func (c *rowCache) session(k sessionKey) *Session {
	if e := c.sessions[k]; e != nil {
		return e.img
	}
	return nil
}

// evictClean makes room: past the bound, every clean entry goes (dirty ones
// stay until written).
func (c *rowCache) evictClean() {
	if len(c.sessions) < maxCachedSessions {
		return
	}
	for k, e := range c.sessions {
		if e.dirty == 0 {
			delete(c.sessions, k)
		}
	}
}

// setTurn replaces (or, with e nil, removes) a turn's entry, remembering
// in t its state before the fn's first change.
func (c *rowCache) setTurn(t *touched, k turnKey, e *turnEntry) {
	if !slices.ContainsFunc(t.turns, func(u turnUndo) bool { return u.key == k }) {
		t.turns = append(t.turns, turnUndo{k, c.turns[k]})
	}
	if e == nil {
		delete(c.turns, k)
		return
	}
	if c.turns[k] == nil && len(c.turns) >= maxCachedTurns {
		for k, e := range c.turns { // make room; pending turns stay
			if !e.pending {
				delete(c.turns, k)
			}
		}
	}
	c.turns[k] = e
}

// setMaxTurn records a session's largest turn index, remembering in t the
// value before the fn's first change.
func (c *rowCache) setMaxTurn(t *touched, k sessionKey, n int) {
	if !slices.ContainsFunc(t.maxTurn, func(u maxTurnUndo) bool { return u.key == k }) {
		prev, known := c.maxTurn[k]
		t.maxTurn = append(t.maxTurn, maxTurnUndo{k, prev, known})
	}
	if len(c.maxTurn) >= maxCachedSessions {
		clear(c.maxTurn) // only an optimization: unknown is always right
	}
	c.maxTurn[k] = n
}

// addLifecycle queues a lifecycle event for the commit, remembering in t
// how many were queued before the fn's first one.
func (c *rowCache) addLifecycle(t *touched, r lifecycleRow) {
	if !t.lifecycleSet {
		t.lifecycleSet, t.lifecycleLen = true, len(c.lifecycle)
	}
	c.lifecycle = append(c.lifecycle, r)
}

// setMaxLifecycle records a session's largest lifecycle_seq, remembering
// in t the value before the fn's first change.
func (c *rowCache) setMaxLifecycle(t *touched, k sessionKey, n int64) {
	if !slices.ContainsFunc(t.maxLifecycle, func(u maxLifecycleUndo) bool { return u.key == k }) {
		prev, known := c.maxLifecycle[k]
		t.maxLifecycle = append(t.maxLifecycle, maxLifecycleUndo{k, prev, known})
	}
	if len(c.maxLifecycle) >= maxCachedSessions {
		clear(c.maxLifecycle) // only an optimization: unknown is always right
	}
	c.maxLifecycle[k] = n
}

// maxLifecycleBatch bounds the rows of one INSERT of lifecycle events (and
// so the statements a connection keeps for them).
const maxLifecycleBatch = 16

// flushLifecycle inserts the pending lifecycle events, a batch per
// statement; t records the change when a fn is running.
func (c *rowCache) flushLifecycle(conn *sqlConn, t *touched) error {
	rows := c.lifecycle
	for len(rows) > 0 {
		n := min(len(rows), maxLifecycleBatch)
		args := make([]any, 0, 4*n)
		for _, r := range rows[:n] {
			args = append(args, r.tenant, r.session, r.seq, r.data)
		}
		if _, err := conn.exec(lifecycleInsertSQL(n), args...); err != nil {
			return insertErr("append lifecycle events", err)
		}
		rows = rows[n:]
	}
	if t != nil && !t.lifecycleSet {
		t.lifecycleSet, t.lifecycleLen = true, len(c.lifecycle)
		t.lifecycleRows = slices.Clone(c.lifecycle)
	}
	c.lifecycle = c.lifecycle[:0]
	return nil
}

// lifecycleInsertSQL is the INSERT of n lifecycle events.
func lifecycleInsertSQL(n int) string {
	if n == 1 {
		return qInsertLifecycle
	}
	return qInsertLifecycle + strings.Repeat(",(?,?,?,?)", n-1)
}

// flushTurns inserts the pending turns (in the writer's open transaction);
// t records the change when a fn is running.
func (c *rowCache) flushTurns(conn *sqlConn, t *touched) error {
	for k, e := range c.turns {
		if !e.pending {
			continue
		}
		args, err := turnArgs(e.img)
		if err != nil {
			return fmt.Errorf("create turn %s/%d: %w", k.session, k.index, err)
		}
		if _, err := conn.exec(qInsertTurn, append(append([]any{k.tenant, k.session, k.index}, args...), e.lc.args()...)...); err != nil {
			return insertErr(fmt.Sprintf("create turn %s/%d", k.session, k.index), err)
		}
		var next *turnEntry // an ended turn is seldom written again: drop it
		if e.img.Status != gen.TurnStatusCompleted {
			next = &turnEntry{img: e.img}
			if e.lc != nil {
				next.lc = &turnLC{slots: e.lc.slots, max: e.lc.max}
			}
		}
		if t != nil {
			c.setTurn(t, k, next)
		} else if next == nil {
			delete(c.turns, k)
		} else {
			c.turns[k] = next
		}
	}
	return nil
}

// ahead reports whether the cache holds changes the database has not.
func (c *rowCache) ahead() bool {
	if len(c.lifecycle) > 0 {
		return true
	}
	for _, e := range c.turns {
		if e.pending || (e.lc != nil && e.lc.dirty) {
			return true
		}
	}
	for _, e := range c.sessions {
		if e.dirty != 0 {
			return true
		}
	}
	return false
}

// flush writes every change the cache holds ahead of the database.
func (c *rowCache) flush(conn *sqlConn, t *touched) error {
	if err := c.flushTurns(conn, t); err != nil {
		return err
	}
	if err := c.flushTurnLC(conn, t); err != nil {
		return err
	}
	if err := c.flushLifecycle(conn, t); err != nil {
		return err
	}
	return c.flushSessions(conn, t)
}

// touched records what one fn did to the cache, to undo it if its writes
// are rolled back: the session entries as they were before its first
// change to each (nil: absent), the turn keys it put in or took out.
type touched struct {
	sessions     []sessionUndo
	turns        []turnUndo
	maxTurn      []maxTurnUndo
	maxLifecycle []maxLifecycleUndo
	// lifecycleSet: the fn changed the pending lifecycle events, which
	// were lifecycleLen long before (and, if it flushed them, were
	// lifecycleRows).
	lifecycleSet  bool
	lifecycleLen  int
	lifecycleRows []lifecycleRow
}

type maxLifecycleUndo struct {
	key   sessionKey
	prev  int64
	known bool
}

type sessionUndo struct {
	key  sessionKey
	prev *sessionEntry
}

type turnUndo struct {
	key  turnKey
	prev *turnEntry
}

type maxTurnUndo struct {
	key   sessionKey
	prev  int
	known bool
}

// setSession replaces (or, with e nil, removes) a session's entry,
// remembering in t its state before the fn's first change.
func (c *rowCache) setSession(t *touched, k sessionKey, e *sessionEntry) {
	if !slices.ContainsFunc(t.sessions, func(u sessionUndo) bool { return u.key == k }) {
		t.sessions = append(t.sessions, sessionUndo{k, c.sessions[k]})
	}
	if e == nil {
		delete(c.sessions, k)
		return
	}
	if c.sessions[k] == nil {
		c.evictClean()
	}
	c.sessions[k] = e
}

// undo reverts what one fn did to the cache.
func (c *rowCache) undo(t *touched) {
	for i := len(t.sessions) - 1; i >= 0; i-- {
		if u := t.sessions[i]; u.prev == nil {
			delete(c.sessions, u.key)
		} else {
			c.sessions[u.key] = u.prev
		}
	}
	for i := len(t.turns) - 1; i >= 0; i-- {
		if u := t.turns[i]; u.prev == nil {
			delete(c.turns, u.key)
		} else {
			c.turns[u.key] = u.prev
		}
	}
	for i := len(t.maxTurn) - 1; i >= 0; i-- {
		if u := t.maxTurn[i]; u.known {
			c.maxTurn[u.key] = u.prev
		} else {
			delete(c.maxTurn, u.key)
		}
	}
	for i := len(t.maxLifecycle) - 1; i >= 0; i-- {
		if u := t.maxLifecycle[i]; u.known {
			c.maxLifecycle[u.key] = u.prev
		} else {
			delete(c.maxLifecycle, u.key)
		}
	}
	if t.lifecycleSet {
		if t.lifecycleRows != nil { // the fn flushed them; the rollback took them back
			c.lifecycle = append(c.lifecycle[:0], t.lifecycleRows[:t.lifecycleLen]...)
		} else {
			c.lifecycle = c.lifecycle[:t.lifecycleLen]
		}
	}
}

// flushSessions writes the dirty session images to the database (in the
// writer's open transaction); t records the change when a fn is running.
func (c *rowCache) flushSessions(conn *sqlConn, t *touched) error {
	for k, e := range c.sessions {
		if e.dirty == 0 {
			continue
		}
		args, err := updateArgs(sessionColumns, e.dirty, e.img, k.tenant, k.id)
		if err != nil {
			return fmt.Errorf("update session %s: %w", k.id, err)
		}
		res, err := conn.exec(c.updateSQL(e.dirty, true), args...)
		if err != nil {
			return fmt.Errorf("update session %s: %w", k.id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("update session %s: %d rows, %v", k.id, n, err)
		}
		clean := &sessionEntry{img: e.img}
		if t != nil {
			c.setSession(t, k, clean)
		} else {
			c.sessions[k] = clean
		}
	}
	return nil
}

// column is one updatable column of a row type R: how to tell whether two
// images differ there, and its value to bind.
type column[R any] struct {
	name string
	same func(a, b *R) bool
	arg  func(r *R) (any, error)
}

var sessionColumns = []column[Session]{
	{"agent", func(a, b *Session) bool { return a.Agent == b.Agent }, func(r *Session) (any, error) { return r.Agent, nil }},
	{"status", func(a, b *Session) bool { return a.Status == b.Status }, func(r *Session) (any, error) { return string(r.Status), nil }},
	{"meta", func(a, b *Session) bool { return mapEqual(a.Meta, b.Meta) }, func(r *Session) (any, error) { return encJSON(r.Meta) }},
	{"plan_slug", func(a, b *Session) bool { return a.PlanSlug == b.PlanSlug }, func(r *Session) (any, error) { return r.PlanSlug, nil }},
	{"continued_from", func(a, b *Session) bool { return a.ContinuedFrom == b.ContinuedFrom }, func(r *Session) (any, error) { return r.ContinuedFrom, nil }},
	{"parent_id", func(a, b *Session) bool { return a.ParentID == b.ParentID }, func(r *Session) (any, error) { return r.ParentID, nil }},
	{"depth", func(a, b *Session) bool { return a.Depth == b.Depth }, func(r *Session) (any, error) { return r.Depth, nil }},
	{"context", func(a, b *Session) bool { return mapEqual(a.Context, b.Context) }, func(r *Session) (any, error) { return encJSON(r.Context) }},
	{"handoff", func(a, b *Session) bool { return handoffEqual(a.Handoff, b.Handoff) }, func(r *Session) (any, error) { return encJSON(r.Handoff) }},
	{"final_summary", func(a, b *Session) bool { return a.FinalSummary == b.FinalSummary }, func(r *Session) (any, error) { return r.FinalSummary, nil }},
	{"turn_count", func(a, b *Session) bool { return a.TurnCount == b.TurnCount }, func(r *Session) (any, error) { return r.TurnCount, nil }},
	{"action_count", func(a, b *Session) bool { return a.ActionCount == b.ActionCount }, func(r *Session) (any, error) { return r.ActionCount, nil }},
	{"artifact_count", func(a, b *Session) bool { return a.ArtifactCount == b.ArtifactCount }, func(r *Session) (any, error) { return r.ArtifactCount, nil }},
	{"last_event_seq", func(a, b *Session) bool { return a.LastEventSeq == b.LastEventSeq }, func(r *Session) (any, error) { return r.LastEventSeq, nil }},
	{"created_at", func(a, b *Session) bool { return a.CreatedAt.Equal(b.CreatedAt) }, func(r *Session) (any, error) { return fmtTime(r.CreatedAt), nil }},
	{"updated_at", func(a, b *Session) bool { return a.UpdatedAt.Equal(b.UpdatedAt) }, func(r *Session) (any, error) { return fmtTime(r.UpdatedAt), nil }},
	{"last_turn_at", func(a, b *Session) bool { return a.LastTurnAt.Equal(b.LastTurnAt) }, func(r *Session) (any, error) { return fmtTime(r.LastTurnAt), nil }},
	{"ended_at", func(a, b *Session) bool { return a.EndedAt.Equal(b.EndedAt) }, func(r *Session) (any, error) { return fmtTime(r.EndedAt), nil }},
	{"end_reason", func(a, b *Session) bool { return a.EndReason == b.EndReason }, func(r *Session) (any, error) { return string(r.EndReason), nil }},
	{"agent_options", func(a, b *Session) bool { return mapEqual(a.AgentOptions, b.AgentOptions) }, func(r *Session) (any, error) { return encJSON(r.AgentOptions) }},
	{"last_lifecycle_seq", func(a, b *Session) bool { return a.LastLifecycleSeq == b.LastLifecycleSeq }, func(r *Session) (any, error) { return r.LastLifecycleSeq, nil }},
}

var turnColumns = []column[Turn]{
	{"prompt", func(a, b *Turn) bool { return a.Prompt == b.Prompt }, func(r *Turn) (any, error) { return r.Prompt, nil }},
	{"files", func(a, b *Turn) bool { return sliceEqual(a.Files, b.Files) }, func(r *Turn) (any, error) { return encodeFiles(r.Files), nil }},
	{"busy_policy", func(a, b *Turn) bool { return a.BusyPolicy == b.BusyPolicy }, func(r *Turn) (any, error) { return string(r.BusyPolicy), nil }},
	{"timeout_ms", func(a, b *Turn) bool { return a.TimeoutMs == b.TimeoutMs }, func(r *Turn) (any, error) { return r.TimeoutMs, nil }},
	{"status", func(a, b *Turn) bool { return a.Status == b.Status }, func(r *Turn) (any, error) { return string(r.Status), nil }},
	{"stop_reason", func(a, b *Turn) bool { return a.StopReason == b.StopReason }, func(r *Turn) (any, error) { return string(r.StopReason), nil }},
	{"cancelled_by", func(a, b *Turn) bool { return a.CancelledBy == b.CancelledBy }, func(r *Turn) (any, error) { return string(r.CancelledBy), nil }},
	{"usage", func(a, b *Turn) bool { return usageEqual(a.Usage, b.Usage) }, func(r *Turn) (any, error) { return encodeUsage(r.Usage), nil }},
	{"event_count", func(a, b *Turn) bool { return a.EventCount == b.EventCount }, func(r *Turn) (any, error) { return r.EventCount, nil }},
	{"first_seq", func(a, b *Turn) bool { return a.FirstSeq == b.FirstSeq }, func(r *Turn) (any, error) { return r.FirstSeq, nil }},
	{"last_seq", func(a, b *Turn) bool { return a.LastSeq == b.LastSeq }, func(r *Turn) (any, error) { return r.LastSeq, nil }},
	{"created_at", func(a, b *Turn) bool { return a.CreatedAt.Equal(b.CreatedAt) }, func(r *Turn) (any, error) { return fmtTime(r.CreatedAt), nil }},
	{"started_at", func(a, b *Turn) bool { return a.StartedAt.Equal(b.StartedAt) }, func(r *Turn) (any, error) { return fmtTime(r.StartedAt), nil }},
	{"ended_at", func(a, b *Turn) bool { return a.EndedAt.Equal(b.EndedAt) }, func(r *Turn) (any, error) { return fmtTime(r.EndedAt), nil }},
	{"meta", func(a, b *Turn) bool { return mapEqual(a.Meta, b.Meta) }, func(r *Turn) (any, error) { return encodeMeta(r.Meta) }},
}

const (
	sessionWhere = `tenant = ? AND id = ?`
	turnWhere    = `tenant = ? AND session_id = ? AND idx = ?`
)

// allColumns is the mask of every column of a row type with n columns.
func allColumns(n int) uint64 { return 1<<n - 1 }

// changedColumns is the mask of the columns where old and new differ;
// every column when old is nil.
func changedColumns[R any](cols []column[R], old, new *R) uint64 {
	if old == nil {
		return allColumns(len(cols))
	}
	var mask uint64
	for i, c := range cols {
		if !c.same(old, new) {
			mask |= 1 << i
		}
	}
	return mask
}

// updateSQL is the UPDATE of table setting the columns of mask.
func updateSQL[R any](table string, cols []column[R], mask uint64, where string) string {
	var b strings.Builder
	b.WriteString("UPDATE " + table + " SET ")
	first := true
	for i, c := range cols {
		if mask&(1<<i) == 0 {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(c.name + " = ?")
	}
	b.WriteString(" WHERE " + where)
	return b.String()
}

// updateArgs are the values of mask's columns of r, then key.
func updateArgs[R any](cols []column[R], mask uint64, r *R, key ...any) ([]any, error) {
	args := make([]any, 0, len(cols)+len(key))
	for i, c := range cols {
		if mask&(1<<i) == 0 {
			continue
		}
		v, err := c.arg(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		args = append(args, v)
	}
	return append(args, key...), nil
}

// Full updates, prepared when the writer opens.
var (
	qUpdateSession = updateSQL("sessions", sessionColumns, allColumns(len(sessionColumns)), sessionWhere)
	qUpdateTurn    = updateSQL("turns", turnColumns, allColumns(len(turnColumns)), turnWhere)
)

// The equality of the stored forms: two values are equal when they encode
// to the same JSON (nil and empty stay distinct, as in the column).

func mapEqual(a, b map[string]any) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || !jsonEqual(va, vb) {
			return false
		}
	}
	return true
}

// jsonEqual compares normalized JSON values (what cloneValue returns).
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		b, ok := b.(string)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case float64:
		b, ok := b.(float64)
		return ok && a == b
	case map[string]any:
		b, ok := b.(map[string]any)
		return ok && mapEqual(a, b)
	case []any:
		b, ok := b.([]any)
		if !ok || (a == nil) != (b == nil) || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return false // not a normalized value: say "changed", which is always safe
}

func sliceEqual(a, b []string) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

func handoffEqual(a, b gen.Handoff) bool {
	return a.Summary == b.Summary && sliceEqual(a.Blockers, b.Blockers) && sliceEqual(a.NextSteps, b.NextSteps) &&
		mapEqual(a.ContextForNext, b.ContextForNext) && timeEqual(a.CreatedAt, b.CreatedAt)
}

func usageEqual(a, b gen.Usage) bool {
	return ptrEqual(a.InputTokens, b.InputTokens) && ptrEqual(a.OutputTokens, b.OutputTokens)
}

func ptrEqual[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func timeEqual(a, b time.Time) bool { return a.Equal(b) }

// updateSQL is the UPDATE of the session (or, with session false, turn)
// columns of mask. A nil cache (the readers, which never write) builds it
// each time.
func (c *rowCache) updateSQL(mask uint64, session bool) string {
	if session && mask == allColumns(len(sessionColumns)) {
		return qUpdateSession
	}
	if !session && mask == allColumns(len(turnColumns)) {
		return qUpdateTurn
	}
	if c == nil {
		if session {
			return updateSQL("sessions", sessionColumns, mask, sessionWhere)
		}
		return updateSQL("turns", turnColumns, mask, turnWhere)
	}
	m, table, where := c.turnSQL, "turns", turnWhere
	if session {
		m, table, where = c.sessionSQL, "sessions", sessionWhere
	}
	q, ok := m[mask]
	if !ok {
		if session {
			q = updateSQL(table, sessionColumns, mask, where)
		} else {
			q = updateSQL(table, turnColumns, mask, where)
		}
		m[mask] = q
	}
	return q
}
