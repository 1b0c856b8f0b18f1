// Package store is the reference server's persistence layer: one interface
// with two implementations, an in-memory store for tests (NewMemory) and an
// embedded SQLite database (OpenSQLite) that survives restarts.
//
// Every read and write happens inside a transaction (Store.View or
// Store.Update), so the server can check a session's state, change it and
// record the idempotency key that protects the change atomically. Every
// lookup is scoped by tenant: a record of another tenant is ErrNotFound,
// never visible.
//
// Records returned by a Tx are copies; changing them changes nothing until
// they are written back with an Update* method inside Store.Update. Records
// passed in are copied too, and normalized the same way by both stores, so a
// record reads back identically from either: times in UTC without a
// monotonic reading (years 0..9999), free-form values (Meta, Context,
// Event.Args/Data/Result, ...) as encoding/json decodes them into an `any`
// (an int 3 reads back as float64 3; values JSON cannot hold are refused),
// an empty Event.Args or Event.Data as nil (the event's JSON omits it), an
// empty Idempotency.Body as nil. nil and empty maps and slices otherwise
// stay distinct.
//
// Records that belong to a session (turns, events, lifecycle events,
// permission requests, log entries, artifacts) can only be written, and
// listed, while that session exists for the tenant: otherwise the call fails
// with ErrNotFound.
//
// Paging: a list returns up to Limit items (0 or less means no limit) and
// the position to pass as AfterOrd (AfterSeq for events) for the next page:
// the Ord, index or seq of the last item returned when at least one more
// item matches, else 0. Ords are positive and grow with insertion order
// (per record type, across tenants); they never change.
//
// The storetest package holds the one test suite both implementations pass;
// a new implementation runs it too.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// Errors every implementation returns (possibly wrapped).
var (
	// ErrNotFound: no such record for this tenant.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a record with the same key already exists.
	ErrExists = errors.New("store: already exists")
	// ErrReadOnly: a write was attempted inside Store.View.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrTxDone: a Tx was used after the function it was passed to returned.
	ErrTxDone = errors.New("store: transaction already ended")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// Store opens transactions. Implementations are safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction; writes fail with ErrReadOnly.
	// A cancelled ctx fails it with an error wrapping ctx.Err().
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction. When fn returns an error
	// (or panics) nothing it wrote is kept and its error is returned as is
	// (a panic is re-raised); otherwise everything is committed at once,
	// and Update returns once it is. A ctx cancelled before the commit
	// fails it with an error wrapping ctx.Err(), and nothing is kept. fn
	// may run on another goroutine than Update's caller (the SQLite store
	// commits concurrent Updates together), so it must not call
	// runtime.Goexit (t.FailNow) or rely on goroutine-local state.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store; View and Update then fail with ErrClosed. It
	// is safe to call more than once.
	Close() error
}

// Deferrer is a Store whose writes may stay uncommitted for a moment, so
// that the next write commits them too: two writes that follow each other
// closely (a turn's acceptance and its first event or its end) then cost
// one commit. The SQLite store is one.
type Deferrer interface {
	// UpdateDeferred runs fn as Update does, but may return as soon as fn
	// has run: the writes are then committed with the next write, or after
	// maxDelay at the latest. An error is fn's (nothing was written) or
	// the store's. Once wait returns nil the writes are committed (durable
	// and visible to View); wait returns the commit's error otherwise.
	// Until then nothing may be acknowledged on the strength of them.
	UpdateDeferred(ctx context.Context, fn func(Tx) error, maxDelay time.Duration) (wait func() error, err error)
}

// UpdateDeferred calls s.UpdateDeferred when s is a Deferrer, else
// s.Update (whose writes are committed when it returns).
func UpdateDeferred(s Store, ctx context.Context, fn func(Tx) error, maxDelay time.Duration) (wait func() error, err error) {
	if d, ok := s.(Deferrer); ok {
		return d.UpdateDeferred(ctx, fn, maxDelay)
	}
	if err := s.Update(ctx, fn); err != nil {
		return nil, err
	}
	return committed, nil
}

func committed() error { return nil }

// Tx is one transaction. It must not be used after the function it was
// passed to returns (its methods then fail with ErrTxDone), nor from more
// than one goroutine. Transactions do not nest: calling View or Update from
// inside fn deadlocks.
type Tx interface {
	// CreateSession inserts s and sets s.Ord. ErrExists when the id is taken.
	CreateSession(s *Session) error
	GetSession(tenant, id string) (*Session, error)
	// UpdateSession replaces the stored session with the same tenant and id
	// (ErrNotFound when there is none). s.Ord is ignored: Ord never changes.
	UpdateSession(s *Session) error
	// ListSessions returns up to q.Limit sessions with Ord > q.AfterOrd in
	// Ord order, and the Ord to pass as AfterOrd for the next page (0 when
	// there are no more).
	ListSessions(tenant string, q SessionQuery) ([]*Session, int64, error)
	// CountSessions counts the sessions q matches, ignoring paging.
	CountSessions(tenant string, q SessionQuery) (int, error)

	// CreateTurn inserts t. ErrExists when the session has that index.
	CreateTurn(t *Turn) error
	GetTurn(tenant, sessionID string, index int) (*Turn, error)
	// UpdateTurn replaces the stored turn with the same tenant, session and
	// index (ErrNotFound when there is none).
	UpdateTurn(t *Turn) error
	// ListTurns pages a session's turns by index (AfterOrd is a turn index,
	// next is the last index returned), optionally in one status.
	ListTurns(tenant, sessionID string, q TurnQuery) ([]*Turn, int64, error)
	// UnfinishedTurns returns every queued or running turn of every tenant,
	// ordered by session (in session Ord order) then index; the server ends
	// them on start-up.
	UnfinishedTurns() ([]*Turn, error)

	// AppendEvent stores ev for the session. ev.Seq is chosen by the caller;
	// ErrExists when the session already has that seq.
	AppendEvent(tenant, sessionID string, ev gen.Event) error
	// ListEvents pages a session's events by seq (next is the last seq
	// returned), oldest first.
	ListEvents(tenant, sessionID string, q EventQuery) ([]gen.Event, int64, error)

	// AppendLifecycleEvent stores ev in the session's lifecycle log.
	// ev.LifecycleSeq is chosen by the caller; ErrExists when the session
	// already has that lifecycle_seq.
	AppendLifecycleEvent(tenant, sessionID string, ev gen.LifecycleEvent) error
	// ListLifecycleEvents pages a session's lifecycle events by
	// lifecycle_seq (next is the last lifecycle_seq returned).
	ListLifecycleEvents(tenant, sessionID string, q LifecycleQuery) ([]gen.LifecycleEvent, int64, error)

	// CreatePermissionRequest inserts r and sets r.Ord. ErrExists when the
	// session has a request with that id.
	CreatePermissionRequest(r *PermissionRequest) error
	GetPermissionRequest(tenant, sessionID, requestID string) (*PermissionRequest, error)
	// UpdatePermissionRequest replaces the stored request with the same
	// tenant, session and id (ErrNotFound when there is none); r.Ord is
	// ignored.
	UpdatePermissionRequest(r *PermissionRequest) error
	// ListPermissionRequests pages a session's permission requests by Ord
	// (oldest first), optionally in one status and of one turn.
	ListPermissionRequests(tenant, sessionID string, q PermissionQuery) ([]*PermissionRequest, int64, error)

	// AddLogEntry stores e (e.SessionID names the session) and returns its
	// Ord. e.ID is stored as given; it is not a key.
	AddLogEntry(tenant string, e gen.LogEntry) (int64, error)
	// ListLogEntries pages a session's work log by Ord, oldest first unless
	// q.NewestFirst.
	ListLogEntries(tenant, sessionID string, q LogQuery) ([]gen.LogEntry, int64, error)

	// AddArtifact stores a (a.SessionID names the session) and returns its Ord.
	AddArtifact(tenant string, a gen.Artifact) (int64, error)
	// ListArtifacts pages a session's artifacts by Ord, oldest first.
	ListArtifacts(tenant, sessionID string, q ArtifactQuery) ([]gen.Artifact, int64, error)

	// CreateFile stores a file's metadata and bytes under (tenant,
	// f.FileToken). ErrExists when the token is taken. The metadata is kept
	// as given (the store does not check SizeBytes or SHA256 against data).
	CreateFile(tenant string, f gen.File, data []byte) error
	GetFile(tenant, token string) (*gen.File, error)
	// FileData returns a copy of the file's bytes (never nil when found).
	FileData(tenant, token string) ([]byte, error)

	// GetIdempotency finds the record of (tenant, operation, key).
	GetIdempotency(tenant, operation, key string) (*Idempotency, error)
	// PutIdempotency inserts or replaces the record of (tenant, operation, key).
	PutIdempotency(r *Idempotency) error
}

// Session is a stored session. Zero values (times, strings, Handoff) mean
// "unset".
type Session struct {
	Tenant        string
	ID            string
	Agent         string
	Status        gen.SessionStatus
	Meta          map[string]any
	PlanSlug      string
	ContinuedFrom string
	ParentID      string
	Depth         int
	Context       map[string]any
	Handoff       gen.Handoff
	FinalSummary  string
	TurnCount     int
	ActionCount   int
	ArtifactCount int
	LastEventSeq  int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastTurnAt    time.Time
	EndedAt       time.Time
	// EndReason says why an ended session ended; "" for one that has not
	// (or that ended before the server recorded reasons).
	EndReason gen.EndReason
	// AgentOptions are the agent's options in force; nil when the agent
	// declares none.
	AgentOptions map[string]any
	// LastLifecycleSeq is the lifecycle_seq of the session's newest
	// lifecycle event; 0 before the first.
	LastLifecycleSeq int64
	// Ord is the insertion order, set by CreateSession; lists page by it.
	Ord int64
}

// Ended reports whether the session is completed or failed.
func (s *Session) Ended() bool {
	return s.Status == gen.SessionStatusCompleted || s.Status == gen.SessionStatusFailed
}

// Turn is a stored turn. Zero values mean "unset".
type Turn struct {
	Tenant      string
	SessionID   string
	Index       int
	Prompt      string
	Files       []string
	BusyPolicy  gen.BusyPolicy
	TimeoutMs   int
	Status      gen.TurnStatus
	StopReason  gen.StopReason
	CancelledBy gen.CancelledBy
	Usage       gen.Usage
	EventCount  int
	FirstSeq    int64
	LastSeq     int64
	CreatedAt   time.Time
	StartedAt   time.Time
	EndedAt     time.Time
	// Meta is the caller's meta the turn was sent with; nil without one.
	Meta map[string]any
}

// PermissionRequest is a stored permission request: what the agent asked
// and where it stands.
type PermissionRequest struct {
	Tenant     string
	SessionID  string
	RequestID  string
	TurnIndex  int
	ToolCallID string
	Title      string
	Options    []gen.PermissionOption
	Status     gen.PermissionStatus
	Outcome    gen.PermissionOutcome
	OptionID   string
	CreatedAt  time.Time
	AnsweredAt time.Time
	// Ord is the insertion order, set by CreatePermissionRequest.
	Ord int64
}

// Idempotency remembers the outcome of a request made with an Idempotency-Key.
type Idempotency struct {
	Tenant    string
	Operation string // the operationId
	Key       string
	// RequestHash is a digest of everything that makes two requests "the
	// same" (path parameters and body).
	RequestHash string
	// StatusCode and Body are the response to replay. A StatusCode of 0
	// means the first request is still being processed.
	StatusCode int
	Body       []byte
	// SessionID and TurnIndex point at the turn a sendTurn key created;
	// its result is rebuilt from the turn rather than stored in Body.
	SessionID string
	TurnIndex int
	CreatedAt time.Time
}

// Page selects one page of an Ord-ordered list.
type Page struct {
	AfterOrd int64
	// Limit is the page size; 0 means no limit.
	Limit int
}

// TurnQuery filters and pages a session's turns.
type TurnQuery struct {
	Page
	// Status, when set, keeps the turns in that status.
	Status gen.TurnStatus
}

// LifecycleQuery pages a session's lifecycle events.
type LifecycleQuery struct {
	// AfterSeq keeps events with LifecycleSeq > AfterSeq.
	AfterSeq int64
	// Limit is the page size; 0 means no limit.
	Limit int
}

// PermissionQuery filters and pages a session's permission requests.
type PermissionQuery struct {
	Page
	// Status, when set, keeps the requests in that status.
	Status gen.PermissionStatus
	// TurnIndex, when > 0, keeps one turn's requests.
	TurnIndex int
}

// SessionQuery filters and pages sessions. Empty fields match anything.
type SessionQuery struct {
	Page
	// Statuses matches any of them.
	Statuses []gen.SessionStatus
	Agent    string
	PlanSlug string
	// ParentID keeps the children of one session.
	ParentID string
}

// EventQuery filters and pages a session's events.
type EventQuery struct {
	// AfterSeq keeps events with Seq > AfterSeq.
	AfterSeq int64
	// TurnIndex, when > 0, keeps one turn's events.
	TurnIndex int
	// ThroughSeq, when > 0, keeps events with Seq <= ThroughSeq: with a
	// turn's last seq, the read stops at the turn's end.
	ThroughSeq int64
	// Limit is the page size; 0 means no limit.
	Limit int
}

// LogQuery filters and pages a session's work log.
type LogQuery struct {
	Page
	Type gen.LogEntryType
	// NewestFirst reverses the order; AfterOrd then means "before" (Ord <
	// AfterOrd, and 0 starts at the newest entry).
	NewestFirst bool
}

// ArtifactQuery filters and pages a session's artifacts.
type ArtifactQuery struct {
	Page
	Action gen.ArtifactAction
}
