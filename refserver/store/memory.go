package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/agentsession/agentsession/gen"
)

// NewMemory returns an empty store that keeps everything in memory, for
// tests. One RWMutex serializes writers; readers share it. Update keeps an
// undo log, so a failed (or panicking) fn leaves nothing behind. Records are
// copied on the way in and on the way out, so callers never alias its state.
func NewMemory() Store {
	return &memStore{tenants: map[string]*memTenant{}}
}

type memStore struct {
	mu     sync.RWMutex
	closed bool

	tenants map[string]*memTenant
	// sessions holds every tenant's sessions in Ord order (UnfinishedTurns).
	sessions []*memSession
	// Ord counters, one per "table", like SQLite's AUTOINCREMENT.
	sessionOrd, logOrd, artifactOrd, permOrd int64
}

type memTenant struct {
	sessions map[string]*memSession
	order    []*memSession // by Ord
	files    map[string]*memFile
	idem     map[idemKey]*Idempotency
}

type idemKey struct{ operation, key string }

type memSession struct {
	s         *Session
	turns     []*Turn     // by Index
	events    []gen.Event // by Seq
	lifecycle []gen.LifecycleEvent
	perms     []*PermissionRequest // by Ord
	logs      []memLog             // by ord
	artifacts []memArtifact
}

type memLog struct {
	ord   int64
	entry gen.LogEntry
}

type memArtifact struct {
	ord      int64
	artifact gen.Artifact
}

type memFile struct {
	meta gen.File
	data []byte
}

func (m *memStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: view: %w", err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: view: %w", err)
	}
	tx := &memTx{m: m, readOnly: true}
	defer tx.done.Store(true)
	return fn(tx)
}

func (m *memStore) Update(ctx context.Context, fn func(Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update: %w", err)
	}
	tx := &memTx{m: m}
	committed := false
	defer func() {
		tx.done.Store(true)
		if !committed { // fn failed or panicked: undo in reverse order
			for i := len(tx.undo) - 1; i >= 0; i-- {
				tx.undo[i]()
			}
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	// A transaction that outlived its context is not committed, as with SQLite.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update: %w", err)
	}
	committed = true
	return nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// memTx is one transaction on a memStore; the store's lock is held for its
// whole life.
type memTx struct {
	m        *memStore
	readOnly bool
	done     atomic.Bool
	undo     []func()
}

// check reports whether tx may run op (a write when write is true).
func (tx *memTx) check(op string, write bool) error {
	if tx.done.Load() {
		return fmt.Errorf("%s: %w", op, ErrTxDone)
	}
	if write && tx.readOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

func (tx *memTx) tenant(name string, create bool) *memTenant {
	t := tx.m.tenants[name]
	if t == nil && create {
		t = &memTenant{
			sessions: map[string]*memSession{},
			files:    map[string]*memFile{},
			idem:     map[idemKey]*Idempotency{},
		}
		tx.m.tenants[name] = t
		tx.undo = append(tx.undo, func() { delete(tx.m.tenants, name) })
	}
	return t
}

func (tx *memTx) session(tenant, id string) *memSession {
	t := tx.tenant(tenant, false)
	if t == nil {
		return nil
	}
	return t.sessions[id]
}

// --- sessions ---

func (tx *memTx) CreateSession(s *Session) error {
	if err := tx.check("create session", true); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("create session: nil session")
	}
	if tx.session(s.Tenant, s.ID) != nil {
		return fmt.Errorf("create session %s: %w", s.ID, ErrExists)
	}
	c, err := cloneSession(s)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	t := tx.tenant(s.Tenant, true)
	prevOrd := tx.m.sessionOrd
	tx.m.sessionOrd++
	c.Ord = tx.m.sessionOrd
	ms := &memSession{s: c}
	t.sessions[c.ID] = ms
	t.order = append(t.order, ms)
	tx.m.sessions = append(tx.m.sessions, ms)
	tx.undo = append(tx.undo, func() {
		delete(t.sessions, c.ID)
		t.order = t.order[:len(t.order)-1]
		tx.m.sessions = tx.m.sessions[:len(tx.m.sessions)-1]
		tx.m.sessionOrd = prevOrd
	})
	s.Ord = c.Ord
	return nil
}

func (tx *memTx) GetSession(tenant, id string) (*Session, error) {
	if err := tx.check("get session", false); err != nil {
		return nil, err
	}
	ms := tx.session(tenant, id)
	if ms == nil {
		return nil, fmt.Errorf("get session %s: %w", id, ErrNotFound)
	}
	return must(cloneSession(ms.s)), nil
}

func (tx *memTx) UpdateSession(s *Session) error {
	if err := tx.check("update session", true); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("update session: nil session")
	}
	ms := tx.session(s.Tenant, s.ID)
	if ms == nil {
		return fmt.Errorf("update session %s: %w", s.ID, ErrNotFound)
	}
	c, err := cloneSession(s)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	old := ms.s
	c.Ord = old.Ord // Ord never changes
	ms.s = c
	tx.undo = append(tx.undo, func() { ms.s = old })
	return nil
}

func (q SessionQuery) matches(s *Session) bool {
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, s.Status) {
		return false
	}
	return (q.Agent == "" || s.Agent == q.Agent) &&
		(q.PlanSlug == "" || s.PlanSlug == q.PlanSlug) &&
		(q.ParentID == "" || s.ParentID == q.ParentID)
}

func (tx *memTx) ListSessions(tenant string, q SessionQuery) ([]*Session, int64, error) {
	if err := tx.check("list sessions", false); err != nil {
		return nil, 0, err
	}
	t := tx.tenant(tenant, false)
	if t == nil {
		return nil, 0, nil
	}
	start, _ := slices.BinarySearchFunc(t.order, q.AfterOrd+1, func(ms *memSession, ord int64) int {
		return cmp.Compare(ms.s.Ord, ord)
	})
	var out []*Session
	for _, ms := range t.order[start:] {
		if !q.matches(ms.s) {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, out[len(out)-1].Ord, nil
		}
		out = append(out, must(cloneSession(ms.s)))
	}
	return out, 0, nil
}

func (tx *memTx) CountSessions(tenant string, q SessionQuery) (int, error) {
	if err := tx.check("count sessions", false); err != nil {
		return 0, err
	}
	t := tx.tenant(tenant, false)
	if t == nil {
		return 0, nil
	}
	n := 0
	for _, ms := range t.order {
		if q.matches(ms.s) {
			n++
		}
	}
	return n, nil
}

// --- turns ---

func (tx *memTx) turnPos(ms *memSession, index int) (int, bool) {
	return slices.BinarySearchFunc(ms.turns, index, func(t *Turn, i int) int { return cmp.Compare(t.Index, i) })
}

func (tx *memTx) CreateTurn(t *Turn) error {
	if err := tx.check("create turn", true); err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("create turn: nil turn")
	}
	ms := tx.session(t.Tenant, t.SessionID)
	if ms == nil {
		return fmt.Errorf("create turn %d: session %s: %w", t.Index, t.SessionID, ErrNotFound)
	}
	pos, found := tx.turnPos(ms, t.Index)
	if found {
		return fmt.Errorf("create turn %s/%d: %w", t.SessionID, t.Index, ErrExists)
	}
	c, err := cloneTurn(t)
	if err != nil {
		return fmt.Errorf("create turn: %w", err)
	}
	ms.turns = slices.Insert(ms.turns, pos, c)
	tx.undo = append(tx.undo, func() { ms.turns = slices.Delete(ms.turns, pos, pos+1) })
	return nil
}

func (tx *memTx) GetTurn(tenant, sessionID string, index int) (*Turn, error) {
	if err := tx.check("get turn", false); err != nil {
		return nil, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, fmt.Errorf("get turn %s/%d: %w", sessionID, index, ErrNotFound)
	}
	pos, found := tx.turnPos(ms, index)
	if !found {
		return nil, fmt.Errorf("get turn %s/%d: %w", sessionID, index, ErrNotFound)
	}
	return must(cloneTurn(ms.turns[pos])), nil
}

func (tx *memTx) UpdateTurn(t *Turn) error {
	if err := tx.check("update turn", true); err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("update turn: nil turn")
	}
	ms := tx.session(t.Tenant, t.SessionID)
	if ms == nil {
		return fmt.Errorf("update turn %s/%d: %w", t.SessionID, t.Index, ErrNotFound)
	}
	pos, found := tx.turnPos(ms, t.Index)
	if !found {
		return fmt.Errorf("update turn %s/%d: %w", t.SessionID, t.Index, ErrNotFound)
	}
	c, err := cloneTurn(t)
	if err != nil {
		return fmt.Errorf("update turn: %w", err)
	}
	old := ms.turns[pos]
	ms.turns[pos] = c
	tx.undo = append(tx.undo, func() { ms.turns[pos] = old })
	return nil
}

func (tx *memTx) ListTurns(tenant, sessionID string, q TurnQuery) ([]*Turn, int64, error) {
	if err := tx.check("list turns", false); err != nil {
		return nil, 0, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, 0, fmt.Errorf("list turns of %s: %w", sessionID, ErrNotFound)
	}
	start, _ := slices.BinarySearchFunc(ms.turns, q.AfterOrd+1, func(t *Turn, i int64) int {
		return cmp.Compare(int64(t.Index), i)
	})
	var out []*Turn
	for _, t := range ms.turns[start:] {
		if q.Status != "" && t.Status != q.Status {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, int64(out[len(out)-1].Index), nil
		}
		out = append(out, must(cloneTurn(t)))
	}
	return out, 0, nil
}

func (tx *memTx) UnfinishedTurns() ([]*Turn, error) {
	if err := tx.check("unfinished turns", false); err != nil {
		return nil, err
	}
	var out []*Turn
	for _, ms := range tx.m.sessions {
		for _, t := range ms.turns {
			if t.Status == gen.TurnStatusQueued || t.Status == gen.TurnStatusRunning {
				out = append(out, must(cloneTurn(t)))
			}
		}
	}
	return out, nil
}

// --- events ---

func (tx *memTx) AppendEvent(tenant, sessionID string, ev gen.Event) error {
	if err := tx.check("append event", true); err != nil {
		return err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return fmt.Errorf("append event %d: session %s: %w", ev.Seq, sessionID, ErrNotFound)
	}
	pos, found := slices.BinarySearchFunc(ms.events, ev.Seq, func(e gen.Event, seq int64) int { return cmp.Compare(e.Seq, seq) })
	if found {
		return fmt.Errorf("append event %s/%d: %w", sessionID, ev.Seq, ErrExists)
	}
	c, err := cloneEvent(ev)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	ms.events = slices.Insert(ms.events, pos, c)
	tx.undo = append(tx.undo, func() { ms.events = slices.Delete(ms.events, pos, pos+1) })
	return nil
}

func (tx *memTx) ListEvents(tenant, sessionID string, q EventQuery) ([]gen.Event, int64, error) {
	if err := tx.check("list events", false); err != nil {
		return nil, 0, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, 0, fmt.Errorf("list events of %s: %w", sessionID, ErrNotFound)
	}
	start, _ := slices.BinarySearchFunc(ms.events, q.AfterSeq+1, func(e gen.Event, seq int64) int { return cmp.Compare(e.Seq, seq) })
	var out []gen.Event
	for _, e := range ms.events[start:] {
		if q.ThroughSeq > 0 && e.Seq > q.ThroughSeq {
			break
		}
		if q.TurnIndex > 0 && int(e.TurnIndex) != q.TurnIndex {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, out[len(out)-1].Seq, nil
		}
		out = append(out, must(cloneEvent(e)))
	}
	return out, 0, nil
}

// --- lifecycle events ---

func (tx *memTx) AppendLifecycleEvent(tenant, sessionID string, ev gen.LifecycleEvent) error {
	if err := tx.check("append lifecycle event", true); err != nil {
		return err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return fmt.Errorf("append lifecycle event %d: session %s: %w", ev.LifecycleSeq, sessionID, ErrNotFound)
	}
	pos, found := slices.BinarySearchFunc(ms.lifecycle, ev.LifecycleSeq, compareLifecycleSeq)
	if found {
		return fmt.Errorf("append lifecycle event %s/%d: %w", sessionID, ev.LifecycleSeq, ErrExists)
	}
	c, err := cloneLifecycleEvent(ev)
	if err != nil {
		return fmt.Errorf("append lifecycle event: %w", err)
	}
	ms.lifecycle = slices.Insert(ms.lifecycle, pos, c)
	tx.undo = append(tx.undo, func() { ms.lifecycle = slices.Delete(ms.lifecycle, pos, pos+1) })
	return nil
}

func compareLifecycleSeq(e gen.LifecycleEvent, seq int64) int {
	return cmp.Compare(e.LifecycleSeq, seq)
}

func (tx *memTx) ListLifecycleEvents(tenant, sessionID string, q LifecycleQuery) ([]gen.LifecycleEvent, int64, error) {
	if err := tx.check("list lifecycle events", false); err != nil {
		return nil, 0, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, 0, fmt.Errorf("list lifecycle events of %s: %w", sessionID, ErrNotFound)
	}
	start, _ := slices.BinarySearchFunc(ms.lifecycle, q.AfterSeq+1, compareLifecycleSeq)
	rest := ms.lifecycle[start:]
	var next int64
	if q.Limit > 0 && len(rest) > q.Limit {
		rest = rest[:q.Limit]
		next = rest[len(rest)-1].LifecycleSeq
	}
	var out []gen.LifecycleEvent
	for _, e := range rest {
		out = append(out, must(cloneLifecycleEvent(e)))
	}
	return out, next, nil
}

// --- permission requests ---

func (tx *memTx) permPos(ms *memSession, requestID string) int {
	return slices.IndexFunc(ms.perms, func(r *PermissionRequest) bool { return r.RequestID == requestID })
}

func (tx *memTx) CreatePermissionRequest(r *PermissionRequest) error {
	if err := tx.check("create permission request", true); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("create permission request: nil request")
	}
	ms := tx.session(r.Tenant, r.SessionID)
	if ms == nil {
		return fmt.Errorf("create permission request %s: session %s: %w", r.RequestID, r.SessionID, ErrNotFound)
	}
	if tx.permPos(ms, r.RequestID) >= 0 {
		return fmt.Errorf("create permission request %s/%s: %w", r.SessionID, r.RequestID, ErrExists)
	}
	c, err := clonePermissionRequest(r)
	if err != nil {
		return fmt.Errorf("create permission request: %w", err)
	}
	prevOrd := tx.m.permOrd
	tx.m.permOrd++
	c.Ord = tx.m.permOrd
	ms.perms = append(ms.perms, c)
	tx.undo = append(tx.undo, func() {
		ms.perms = ms.perms[:len(ms.perms)-1]
		tx.m.permOrd = prevOrd
	})
	r.Ord = c.Ord
	return nil
}

func (tx *memTx) GetPermissionRequest(tenant, sessionID, requestID string) (*PermissionRequest, error) {
	if err := tx.check("get permission request", false); err != nil {
		return nil, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, fmt.Errorf("get permission request %s/%s: %w", sessionID, requestID, ErrNotFound)
	}
	i := tx.permPos(ms, requestID)
	if i < 0 {
		return nil, fmt.Errorf("get permission request %s/%s: %w", sessionID, requestID, ErrNotFound)
	}
	return must(clonePermissionRequest(ms.perms[i])), nil
}

func (tx *memTx) UpdatePermissionRequest(r *PermissionRequest) error {
	if err := tx.check("update permission request", true); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("update permission request: nil request")
	}
	ms := tx.session(r.Tenant, r.SessionID)
	i := -1
	if ms != nil {
		i = tx.permPos(ms, r.RequestID)
	}
	if i < 0 {
		return fmt.Errorf("update permission request %s/%s: %w", r.SessionID, r.RequestID, ErrNotFound)
	}
	c, err := clonePermissionRequest(r)
	if err != nil {
		return fmt.Errorf("update permission request: %w", err)
	}
	old := ms.perms[i]
	c.Ord = old.Ord // Ord never changes
	ms.perms[i] = c
	tx.undo = append(tx.undo, func() { ms.perms[i] = old })
	return nil
}

func (tx *memTx) ListPermissionRequests(tenant, sessionID string, q PermissionQuery) ([]*PermissionRequest, int64, error) {
	if err := tx.check("list permission requests", false); err != nil {
		return nil, 0, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, 0, fmt.Errorf("list permission requests of %s: %w", sessionID, ErrNotFound)
	}
	var out []*PermissionRequest
	for _, r := range ms.perms {
		if r.Ord <= q.AfterOrd || (q.Status != "" && r.Status != q.Status) || (q.TurnIndex > 0 && r.TurnIndex != q.TurnIndex) {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, out[len(out)-1].Ord, nil
		}
		out = append(out, must(clonePermissionRequest(r)))
	}
	return out, 0, nil
}

// --- work log and artifacts ---

func (tx *memTx) AddLogEntry(tenant string, e gen.LogEntry) (int64, error) {
	if err := tx.check("add log entry", true); err != nil {
		return 0, err
	}
	ms := tx.session(tenant, e.SessionID)
	if ms == nil {
		return 0, fmt.Errorf("add log entry: session %s: %w", e.SessionID, ErrNotFound)
	}
	c, err := cloneLogEntry(e)
	if err != nil {
		return 0, fmt.Errorf("add log entry: %w", err)
	}
	prevOrd := tx.m.logOrd
	tx.m.logOrd++
	ms.logs = append(ms.logs, memLog{ord: tx.m.logOrd, entry: c})
	tx.undo = append(tx.undo, func() {
		ms.logs = ms.logs[:len(ms.logs)-1]
		tx.m.logOrd = prevOrd
	})
	return tx.m.logOrd, nil
}

func (tx *memTx) ListLogEntries(tenant, sessionID string, q LogQuery) ([]gen.LogEntry, int64, error) {
	if err := tx.check("list log entries", false); err != nil {
		return nil, 0, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, 0, fmt.Errorf("list log entries of %s: %w", sessionID, ErrNotFound)
	}
	var out []gen.LogEntry
	var lastOrd int64
	// visit returns false once the page is full and another match exists.
	visit := func(l memLog) bool {
		if q.Type != "" && l.entry.Type != q.Type {
			return true
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return false
		}
		out = append(out, must(cloneLogEntry(l.entry)))
		lastOrd = l.ord
		return true
	}
	if q.NewestFirst {
		end := len(ms.logs)
		if q.AfterOrd > 0 {
			end, _ = slices.BinarySearchFunc(ms.logs, q.AfterOrd, compareLogOrd)
		}
		for i := end - 1; i >= 0; i-- {
			if !visit(ms.logs[i]) {
				return out, lastOrd, nil
			}
		}
		return out, 0, nil
	}
	start, _ := slices.BinarySearchFunc(ms.logs, q.AfterOrd+1, compareLogOrd)
	for _, l := range ms.logs[start:] {
		if !visit(l) {
			return out, lastOrd, nil
		}
	}
	return out, 0, nil
}

func compareLogOrd(l memLog, ord int64) int { return cmp.Compare(l.ord, ord) }

func (tx *memTx) AddArtifact(tenant string, a gen.Artifact) (int64, error) {
	if err := tx.check("add artifact", true); err != nil {
		return 0, err
	}
	ms := tx.session(tenant, a.SessionID)
	if ms == nil {
		return 0, fmt.Errorf("add artifact: session %s: %w", a.SessionID, ErrNotFound)
	}
	c, err := cloneArtifact(a)
	if err != nil {
		return 0, fmt.Errorf("add artifact: %w", err)
	}
	prevOrd := tx.m.artifactOrd
	tx.m.artifactOrd++
	ms.artifacts = append(ms.artifacts, memArtifact{ord: tx.m.artifactOrd, artifact: c})
	tx.undo = append(tx.undo, func() {
		ms.artifacts = ms.artifacts[:len(ms.artifacts)-1]
		tx.m.artifactOrd = prevOrd
	})
	return tx.m.artifactOrd, nil
}

func (tx *memTx) ListArtifacts(tenant, sessionID string, q ArtifactQuery) ([]gen.Artifact, int64, error) {
	if err := tx.check("list artifacts", false); err != nil {
		return nil, 0, err
	}
	ms := tx.session(tenant, sessionID)
	if ms == nil {
		return nil, 0, fmt.Errorf("list artifacts of %s: %w", sessionID, ErrNotFound)
	}
	start, _ := slices.BinarySearchFunc(ms.artifacts, q.AfterOrd+1, func(a memArtifact, ord int64) int { return cmp.Compare(a.ord, ord) })
	var out []gen.Artifact
	var lastOrd int64
	for _, a := range ms.artifacts[start:] {
		if q.Action != "" && a.artifact.Action != q.Action {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, lastOrd, nil
		}
		out = append(out, must(cloneArtifact(a.artifact)))
		lastOrd = a.ord
	}
	return out, 0, nil
}

// --- files ---

func (tx *memTx) CreateFile(tenant string, f gen.File, data []byte) error {
	if err := tx.check("create file", true); err != nil {
		return err
	}
	if t := tx.tenant(tenant, false); t != nil && t.files[f.FileToken] != nil {
		return fmt.Errorf("create file: %w", ErrExists)
	}
	c, err := cloneFile(f)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	t := tx.tenant(tenant, true)
	t.files[f.FileToken] = &memFile{meta: c, data: append(make([]byte, 0, len(data)), data...)}
	tx.undo = append(tx.undo, func() { delete(t.files, f.FileToken) })
	return nil
}

func (tx *memTx) file(op, tenant, token string) (*memFile, error) {
	if err := tx.check(op, false); err != nil {
		return nil, err
	}
	if t := tx.tenant(tenant, false); t != nil && t.files[token] != nil {
		return t.files[token], nil
	}
	return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
}

func (tx *memTx) GetFile(tenant, token string) (*gen.File, error) {
	f, err := tx.file("get file", tenant, token)
	if err != nil {
		return nil, err
	}
	meta := f.meta
	return &meta, nil
}

func (tx *memTx) FileData(tenant, token string) ([]byte, error) {
	f, err := tx.file("file data", tenant, token)
	if err != nil {
		return nil, err
	}
	return append(make([]byte, 0, len(f.data)), f.data...), nil
}

// --- idempotency ---

func (tx *memTx) GetIdempotency(tenant, operation, key string) (*Idempotency, error) {
	if err := tx.check("get idempotency record", false); err != nil {
		return nil, err
	}
	if t := tx.tenant(tenant, false); t != nil {
		if r := t.idem[idemKey{operation, key}]; r != nil {
			return must(cloneIdempotency(r)), nil
		}
	}
	return nil, fmt.Errorf("get idempotency record of %s: %w", operation, ErrNotFound)
}

func (tx *memTx) PutIdempotency(r *Idempotency) error {
	if err := tx.check("put idempotency record", true); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("put idempotency record: nil record")
	}
	c, err := cloneIdempotency(r)
	if err != nil {
		return fmt.Errorf("put idempotency record: %w", err)
	}
	t := tx.tenant(r.Tenant, true)
	k := idemKey{r.Operation, r.Key}
	old, had := t.idem[k]
	t.idem[k] = c
	tx.undo = append(tx.undo, func() {
		if had {
			t.idem[k] = old
		} else {
			delete(t.idem, k)
		}
	})
	return nil
}

// must unwraps the result of copying a record that was validated when it
// was stored, which cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic("store: stored record no longer copies: " + err.Error())
	}
	return v
}
