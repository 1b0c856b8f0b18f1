package store

// The SQLite store keeps everything in one database file, through the pure-Go
// driver modernc.org/sqlite (no cgo).
//
// Schema (see migrations; PRAGMA user_version is the number of migrations
// applied, and OpenSQLite applies the missing ones, each in its own
// transaction):
//
//	sessions     ord INTEGER PRIMARY KEY AUTOINCREMENT, UNIQUE (tenant, id);
//	             one column per Session field; Meta, Context, Handoff as JSON
//	turns        PRIMARY KEY (tenant, session_id, idx); Files, Usage as JSON
//	events       PRIMARY KEY (tenant, session_id, seq); the event as JSON
//
// No secondary index on turns or events: each would cost every turn or
// event an extra B-tree insert and its commit an extra page in the WAL
// (migration 2 dropped the two there were).
//	lifecycle_events  PRIMARY KEY (tenant, session_id, lifecycle_seq); the event as JSON
//	permission_requests  ord INTEGER PRIMARY KEY AUTOINCREMENT, UNIQUE (tenant,
//	             session_id, request_id); Options as JSON
//	log_entries  ord INTEGER PRIMARY KEY AUTOINCREMENT; Data as JSON
//	artifacts    ord INTEGER PRIMARY KEY AUTOINCREMENT; Metadata as JSON
//	files        UNIQUE (tenant, token); the bytes as a BLOB
//	idempotency  PRIMARY KEY (tenant, operation, key); the body as a BLOB
//
// Turns, events, log entries and artifacts reference their session with a
// foreign key (tenant, session_id), so a record can never name another
// tenant's session; the store checks it on insert (requireSession) rather
// than SQLite, mostly from the writer's row cache. Every query is scoped by
// tenant. Times are RFC 3339 text
// in UTC with nanoseconds ("" for the zero time), which round-trips exactly.
// Idempotency records live in the same database as the data they protect and
// are written in the same transaction.
//
// Concurrency: one writer connection, whose Update calls are committed in
// groups (sqlite_engine.go), and a separate pool of read-only connections
// for View. In WAL mode readers see the last committed state and never wait
// for the writer. The file is opened with the unix-excl VFS: the process
// holds it exclusively while the store is open (another process gets
// "database is locked"), and the WAL index lives in the process's memory
// instead of a -shm file, so transactions take no file locks.

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agentsession/agentsession/gen"
)

// migrations is the schema history: migrations[i] takes user_version i to
// i+1. Append new steps; never edit a step that has shipped.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE sessions (
	ord            INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant         TEXT NOT NULL,
	id             TEXT NOT NULL,
	agent          TEXT NOT NULL,
	status         TEXT NOT NULL,
	meta           TEXT NOT NULL,
	plan_slug      TEXT NOT NULL,
	continued_from TEXT NOT NULL,
	parent_id      TEXT NOT NULL,
	depth          INTEGER NOT NULL,
	context        TEXT NOT NULL,
	handoff        TEXT NOT NULL,
	final_summary  TEXT NOT NULL,
	turn_count     INTEGER NOT NULL,
	action_count   INTEGER NOT NULL,
	artifact_count INTEGER NOT NULL,
	last_event_seq INTEGER NOT NULL,
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL,
	last_turn_at   TEXT NOT NULL,
	ended_at       TEXT NOT NULL,
	UNIQUE (tenant, id)
);
CREATE INDEX sessions_by_tenant ON sessions (tenant, ord);
CREATE INDEX sessions_by_parent ON sessions (tenant, parent_id, ord);

CREATE TABLE turns (
	tenant       TEXT NOT NULL,
	session_id   TEXT NOT NULL,
	idx          INTEGER NOT NULL,
	prompt       TEXT NOT NULL,
	files        TEXT NOT NULL,
	busy_policy  TEXT NOT NULL,
	timeout_ms   INTEGER NOT NULL,
	status       TEXT NOT NULL,
	stop_reason  TEXT NOT NULL,
	cancelled_by TEXT NOT NULL,
	usage        TEXT NOT NULL,
	event_count  INTEGER NOT NULL,
	first_seq    INTEGER NOT NULL,
	last_seq     INTEGER NOT NULL,
	created_at   TEXT NOT NULL,
	started_at   TEXT NOT NULL,
	ended_at     TEXT NOT NULL,
	PRIMARY KEY (tenant, session_id, idx),
	FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id)
) WITHOUT ROWID;
CREATE INDEX turns_unfinished ON turns (status) WHERE status IN ('queued', 'running');

CREATE TABLE events (
	tenant     TEXT NOT NULL,
	session_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	turn_index INTEGER NOT NULL,
	event      TEXT NOT NULL,
	PRIMARY KEY (tenant, session_id, seq),
	FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id)
) WITHOUT ROWID;
CREATE INDEX events_by_turn ON events (tenant, session_id, turn_index, seq);

CREATE TABLE log_entries (
	ord        INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant     TEXT NOT NULL,
	session_id TEXT NOT NULL,
	id         TEXT NOT NULL,
	type       TEXT NOT NULL,
	message    TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id)
);
CREATE INDEX log_entries_by_session ON log_entries (tenant, session_id, ord);

CREATE TABLE artifacts (
	ord        INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant     TEXT NOT NULL,
	session_id TEXT NOT NULL,
	id         TEXT NOT NULL,
	path       TEXT NOT NULL,
	action     TEXT NOT NULL,
	metadata   TEXT NOT NULL,
	created_at TEXT NOT NULL,
	FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id)
);
CREATE INDEX artifacts_by_session ON artifacts (tenant, session_id, ord);

CREATE TABLE files (
	tenant       TEXT NOT NULL,
	token        TEXT NOT NULL,
	filename     TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size_bytes   INTEGER NOT NULL,
	sha256       TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	data         BLOB NOT NULL,
	UNIQUE (tenant, token)
);

CREATE TABLE idempotency (
	tenant       TEXT NOT NULL,
	operation    TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status_code  INTEGER NOT NULL,
	body         BLOB,
	session_id   TEXT NOT NULL,
	turn_index   INTEGER NOT NULL,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (tenant, operation, key)
) WITHOUT ROWID;
`,
	// 2: drop the indexes a turn paid for on every write: turns_unfinished
	// (insert and delete per turn; UnfinishedTurns, run once at start-up,
	// scans turns instead) and events_by_turn (an insert per event; a
	// turn's events are read by seq range, EventQuery.ThroughSeq).
	`
DROP INDEX turns_unfinished;
DROP INDEX events_by_turn;
`,
	// 3: contract 1.2. Sessions say why they ended and which agent options
	// are in force, and number their lifecycle events; turns keep their
	// meta. A turn's own lifecycle events (queued, started, ended) live on
	// its row (lc_*, see AppendLifecycleEvent), the others in
	// lifecycle_events. Rows of earlier versions read back with the
	// defaults: no end reason (it was never recorded), no options, no
	// lifecycle events, no meta.
	`
ALTER TABLE sessions ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN agent_options TEXT NOT NULL DEFAULT 'null';
ALTER TABLE sessions ADD COLUMN last_lifecycle_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE turns ADD COLUMN meta TEXT NOT NULL DEFAULT 'null';
ALTER TABLE turns ADD COLUMN lc_queued TEXT NOT NULL DEFAULT '';
ALTER TABLE turns ADD COLUMN lc_started TEXT NOT NULL DEFAULT '';
ALTER TABLE turns ADD COLUMN lc_ended TEXT NOT NULL DEFAULT '';
ALTER TABLE turns ADD COLUMN lc_max INTEGER NOT NULL DEFAULT 0;

CREATE TABLE lifecycle_events (
	tenant        TEXT NOT NULL,
	session_id    TEXT NOT NULL,
	lifecycle_seq INTEGER NOT NULL,
	event         TEXT NOT NULL,
	PRIMARY KEY (tenant, session_id, lifecycle_seq),
	FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id)
) WITHOUT ROWID;

CREATE TABLE permission_requests (
	ord          INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant       TEXT NOT NULL,
	session_id   TEXT NOT NULL,
	request_id   TEXT NOT NULL,
	turn_index   INTEGER NOT NULL,
	tool_call_id TEXT NOT NULL,
	title        TEXT NOT NULL,
	options      TEXT NOT NULL,
	status       TEXT NOT NULL,
	outcome      TEXT NOT NULL,
	option_id    TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	answered_at  TEXT NOT NULL,
	UNIQUE (tenant, session_id, request_id),
	FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id)
);
CREATE INDEX permission_requests_by_session ON permission_requests (tenant, session_id, ord);
`,
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// insertErr maps a failed INSERT: a taken key is ErrExists and a missing
// session (foreign key) is ErrNotFound.
func insertErr(what string, err error) error {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%s: %w", what, ErrExists)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%s: session: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// requireSession is the foreign key check of a record of the session: the
// writer does not have SQLite enforce the schema's foreign keys, which would
// look the session up again for every insert, while the session a turn
// writes to is nearly always in its row cache.
func (t *sqliteTx) requireSession(tenant, id string) error {
	if t.cache != nil && t.cache.session(sessionKey{tenant, id}) != nil {
		return nil
	}
	ok, err := t.sessionExists(tenant, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("session: %w", ErrNotFound)
	}
	return nil
}

// sessionExists reports whether the tenant has the session; lists use it to
// tell an empty list from a missing session.
func (t *sqliteTx) sessionExists(tenant, id string) (bool, error) {
	var one int
	err := t.queryRow(qSessionExists, tenant, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// emptyListErr is the error of a list that found nothing: ErrNotFound when
// the session does not exist.
func (t *sqliteTx) emptyListErr(what, tenant, sessionID string) error {
	ok, err := t.sessionExists(tenant, sessionID)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", what, sessionID, err)
	}
	if !ok {
		return fmt.Errorf("%s of %s: %w", what, sessionID, ErrNotFound)
	}
	return nil
}

// sqlLimit is the LIMIT for a page: one more than asked, to learn whether
// there is a next page; -1 (no limit) for 0.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit + 1
}

// --- encoding ---

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseTimes parses pairs of (text, destination).
func parseTimes(pairs ...any) error {
	for i := 0; i < len(pairs); i += 2 {
		t, err := parseTime(pairs[i].(string))
		if err != nil {
			return err
		}
		*pairs[i+1].(*time.Time) = t
	}
	return nil
}

func encJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func decJSON(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("stored JSON: %w", err)
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// The statements every store prepares once on open (see prepared): the ones
// a turn runs, and the other fixed ones. Lists with optional filters are
// built per call.
const (
	qSessionExists = `SELECT 1 FROM sessions WHERE tenant = ? AND id = ?`
	qInsertSession = `INSERT INTO sessions (` + sessionCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	qGetSession    = `SELECT ord, ` + sessionCols + ` FROM sessions WHERE tenant = ? AND id = ?`
	qInsertTurn    = `INSERT INTO turns (` + turnCols + `, ` + turnLCCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	qGetTurn       = `SELECT ` + turnCols + ` FROM turns WHERE tenant = ? AND session_id = ? AND idx = ?`
	qMaxTurn       = `SELECT coalesce(max(idx), 0) FROM turns WHERE tenant = ? AND session_id = ?`
	qListTurns     = `SELECT ` + turnCols + ` FROM turns WHERE tenant = ? AND session_id = ? AND idx > ? ORDER BY idx LIMIT ?`
	// With a status: a session's turns are few to scan, and an index by
	// status would cost every turn's writes.
	qListTurnsByStatus = `SELECT ` + turnCols + ` FROM turns WHERE tenant = ? AND session_id = ? AND idx > ? AND status = ?
		ORDER BY idx LIMIT ?`
	qInsertEvent = `INSERT INTO events (tenant, session_id, seq, turn_index, event) VALUES (?,?,?,?,?)`
	qListEvents  = `SELECT event FROM events WHERE tenant = ? AND session_id = ? AND seq > ? AND seq <= ?
		ORDER BY seq LIMIT ?`
	// A turn's events are read by seq range (the primary key) and filtered:
	// they are (nearly) contiguous, and an index by turn would cost every
	// event a second insert and the commit a page.
	qListTurnEvents = `SELECT event FROM events WHERE tenant = ? AND session_id = ? AND seq > ? AND seq <= ?
		AND turn_index = ? ORDER BY seq LIMIT ?`
	qInsertLifecycle = `INSERT INTO lifecycle_events (tenant, session_id, lifecycle_seq, event) VALUES (?,?,?,?)`
	qListLifecycle   = `SELECT event FROM lifecycle_events WHERE tenant = ? AND session_id = ? AND lifecycle_seq > ?
		ORDER BY lifecycle_seq LIMIT ?`
	qMaxLifecycle = `SELECT max((SELECT coalesce(max(lifecycle_seq), 0) FROM lifecycle_events WHERE tenant = ?1 AND session_id = ?2),
		(SELECT coalesce(max(lc_max), 0) FROM turns WHERE tenant = ?1 AND session_id = ?2))`
	// A turn's lifecycle events: the session's turns are scanned, which
	// lifecycle reads (rare next to turn writes) pay so that a turn's start
	// and end cost no row and no page of their own.
	qListTurnLifecycle = `SELECT lc_queued, lc_started, lc_ended FROM turns WHERE tenant = ? AND session_id = ? AND lc_max > ?`
	qUpdateTurnLC      = `UPDATE turns SET ` + turnLCSet + ` WHERE ` + turnWhere
	qInsertPermission  = `INSERT INTO permission_requests (` + permissionCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`
	qGetPermission     = `SELECT ord, ` + permissionCols + ` FROM permission_requests
		WHERE tenant = ? AND session_id = ? AND request_id = ?`
	qUpdatePermission = `UPDATE permission_requests SET turn_index = ?, tool_call_id = ?, title = ?, options = ?,
		status = ?, outcome = ?, option_id = ?, created_at = ?, answered_at = ?
		WHERE tenant = ? AND session_id = ? AND request_id = ?`
	qInsertLogEntry = `INSERT INTO log_entries (tenant, session_id, id, type, message, data, created_at)
		VALUES (?,?,?,?,?,?,?)`
	qInsertArtifact = `INSERT INTO artifacts (tenant, session_id, id, path, action, metadata, created_at)
		VALUES (?,?,?,?,?,?,?)`
	qInsertFile = `INSERT INTO files (tenant, token, filename, content_type, size_bytes, sha256, created_at, data)
		VALUES (?,?,?,?,?,?,?,?)`
	qGetFile        = `SELECT token, filename, content_type, size_bytes, sha256, created_at FROM files WHERE tenant = ? AND token = ?`
	qFileData       = `SELECT data FROM files WHERE tenant = ? AND token = ?`
	qGetIdempotency = `SELECT request_hash, status_code, body, session_id, turn_index, created_at FROM idempotency
		WHERE tenant = ? AND operation = ? AND key = ?`
	qPutIdempotency = `INSERT OR REPLACE INTO idempotency
		(tenant, operation, key, request_hash, status_code, body, session_id, turn_index, created_at)
		VALUES (?,?,?,?,?,?,?,?,?)`
)

// --- sessions ---

const sessionCols = `tenant, id, agent, status, meta, plan_slug, continued_from, parent_id, depth,
	context, handoff, final_summary, turn_count, action_count, artifact_count, last_event_seq,
	created_at, updated_at, last_turn_at, ended_at, end_reason, agent_options, last_lifecycle_seq`

// sessionArgs returns c's column values in sessionCols order after tenant
// and id.
func sessionArgs(c *Session) ([]any, error) {
	meta, err := encJSON(c.Meta)
	if err != nil {
		return nil, err
	}
	ctxt, err := encJSON(c.Context)
	if err != nil {
		return nil, err
	}
	handoff, err := encJSON(c.Handoff)
	if err != nil {
		return nil, err
	}
	opts, err := encJSON(c.AgentOptions)
	if err != nil {
		return nil, err
	}
	return []any{c.Agent, string(c.Status), meta, c.PlanSlug, c.ContinuedFrom, c.ParentID, c.Depth,
		ctxt, handoff, c.FinalSummary, c.TurnCount, c.ActionCount, c.ArtifactCount, c.LastEventSeq,
		fmtTime(c.CreatedAt), fmtTime(c.UpdatedAt), fmtTime(c.LastTurnAt), fmtTime(c.EndedAt),
		string(c.EndReason), opts, c.LastLifecycleSeq}, nil
}

func scanSession(sc scanner) (*Session, error) {
	var s Session
	var status, meta, ctxt, handoff, created, updated, lastTurn, ended, endReason, opts string
	if err := sc.Scan(&s.Ord, &s.Tenant, &s.ID, &s.Agent, &status, &meta, &s.PlanSlug, &s.ContinuedFrom,
		&s.ParentID, &s.Depth, &ctxt, &handoff, &s.FinalSummary, &s.TurnCount, &s.ActionCount,
		&s.ArtifactCount, &s.LastEventSeq, &created, &updated, &lastTurn, &ended,
		&endReason, &opts, &s.LastLifecycleSeq); err != nil {
		return nil, err
	}
	s.Status, s.EndReason = gen.SessionStatus(status), gen.EndReason(endReason)
	if err := decJSON(opts, &s.AgentOptions); err != nil {
		return nil, err
	}
	if err := decJSON(meta, &s.Meta); err != nil {
		return nil, err
	}
	if err := decJSON(ctxt, &s.Context); err != nil {
		return nil, err
	}
	if err := decJSON(handoff, &s.Handoff); err != nil {
		return nil, err
	}
	if err := parseTimes(created, &s.CreatedAt, updated, &s.UpdatedAt, lastTurn, &s.LastTurnAt, ended, &s.EndedAt); err != nil {
		return nil, err
	}
	return &s, nil
}

func (t *sqliteTx) CreateSession(s *Session) error {
	if err := t.check("create session", true); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("create session: nil session")
	}
	c, err := cloneSession(s)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	args, err := sessionArgs(c)
	if err != nil {
		return fmt.Errorf("create session %s: %w", s.ID, err)
	}
	res, err := t.exec(qInsertSession,
		append([]any{c.Tenant, c.ID}, args...)...)
	if err != nil {
		return insertErr("create session "+s.ID, err)
	}
	ord, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create session %s: %w", s.ID, err)
	}
	s.Ord = ord
	c.Ord = ord
	t.cacheSession(c)
	return nil
}

func (t *sqliteTx) GetSession(tenant, id string) (*Session, error) {
	if err := t.check("get session", false); err != nil {
		return nil, err
	}
	if t.cache != nil {
		if c := t.cache.session(sessionKey{tenant, id}); c != nil {
			return cloneSession(c)
		}
	}
	s, err := scanSession(t.queryRow(qGetSession, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get session %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get session %s: %w", id, err)
	}
	if t.cache != nil {
		c, err := cloneSession(s)
		if err != nil {
			return nil, fmt.Errorf("get session %s: %w", id, err)
		}
		t.cacheSession(c)
	}
	return s, nil
}

// cacheSession records c, a normalized image of the row as the database
// has it, in the writer's cache (writes only).
func (t *sqliteTx) cacheSession(c *Session) {
	if t.cache == nil {
		return
	}
	t.cache.setSession(t.touched, sessionKey{c.Tenant, c.ID}, &sessionEntry{img: c})
}

// flush writes what the writer's cache holds ahead of the database (dirty
// sessions, pending turns) before a query that could read it.
func (t *sqliteTx) flush() error {
	if t.cache == nil || !t.cache.ahead() {
		return nil
	}
	if err := t.start(); err != nil {
		return err
	}
	return t.cache.flush(t.c, t.touched)
}

func (t *sqliteTx) UpdateSession(s *Session) error {
	if err := t.check("update session", true); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("update session: nil session")
	}
	k := sessionKey{s.Tenant, s.ID}
	var entry *sessionEntry
	if t.cache != nil {
		entry = t.cache.sessions[k]
	}
	clone := cloneSession
	if entry != nil {
		clone = func(s *Session) (*Session, error) { return cloneSessionLike(s, entry.img) }
	}
	c, err := clone(s)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if entry != nil {
		// Cached, so the row exists: the change goes into the image, and to
		// the database with the transaction's other changes to the row.
		mask := changedColumns(sessionColumns, entry.img, c)
		if mask != 0 {
			c.Ord = entry.img.Ord
			t.cache.setSession(t.touched, k, &sessionEntry{img: c, dirty: entry.dirty | mask})
		}
		return nil
	}
	mask := allColumns(len(sessionColumns))
	args, err := updateArgs(sessionColumns, mask, c, c.Tenant, c.ID)
	if err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	res, err := t.exec(t.cache.updateSQL(mask, true), args...)
	if err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	} else if n == 0 {
		return fmt.Errorf("update session %s: %w", s.ID, ErrNotFound)
	}
	return nil // not cached: Ord is not known here
}

// sessionFilter returns the WHERE clause and arguments of q's filters.
func sessionFilter(tenant string, q SessionQuery) (string, []any) {
	var b strings.Builder
	b.WriteString("tenant = ?")
	args := []any{tenant}
	if len(q.Statuses) > 0 {
		b.WriteString(" AND status IN (?")
		b.WriteString(strings.Repeat(",?", len(q.Statuses)-1))
		b.WriteString(")")
		for _, st := range q.Statuses {
			args = append(args, string(st))
		}
	}
	for _, f := range []struct{ col, val string }{{"agent", q.Agent}, {"plan_slug", q.PlanSlug}, {"parent_id", q.ParentID}} {
		if f.val != "" {
			b.WriteString(" AND " + f.col + " = ?")
			args = append(args, f.val)
		}
	}
	return b.String(), args
}

func (t *sqliteTx) ListSessions(tenant string, q SessionQuery) ([]*Session, int64, error) {
	if err := t.check("list sessions", false); err != nil {
		return nil, 0, err
	}
	if err := t.flush(); err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	where, args := sessionFilter(tenant, q)
	rows, err := t.query(`SELECT ord, `+sessionCols+` FROM sessions WHERE `+where+` AND ord > ? ORDER BY ord LIMIT ?`,
		append(args, q.AfterOrd, sqlLimit(q.Limit))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
		return out, out[len(out)-1].Ord, nil
	}
	return out, 0, nil
}

func (t *sqliteTx) CountSessions(tenant string, q SessionQuery) (int, error) {
	if err := t.check("count sessions", false); err != nil {
		return 0, err
	}
	if err := t.flush(); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	where, args := sessionFilter(tenant, q)
	var n int
	if err := t.queryRow(`SELECT count(*) FROM sessions WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// --- turns ---

const turnCols = `tenant, session_id, idx, prompt, files, busy_policy, timeout_ms, status, stop_reason,
	cancelled_by, usage, event_count, first_seq, last_seq, created_at, started_at, ended_at, meta`

// turnArgs returns c's column values in turnCols order after the key.
func turnArgs(c *Turn) ([]any, error) {
	files, usage := encodeFiles(c.Files), encodeUsage(c.Usage)
	meta, err := encodeMeta(c.Meta)
	if err != nil {
		return nil, err
	}
	return []any{c.Prompt, files, string(c.BusyPolicy), c.TimeoutMs, string(c.Status), string(c.StopReason),
		string(c.CancelledBy), usage, c.EventCount, c.FirstSeq, c.LastSeq,
		fmtTime(c.CreatedAt), fmtTime(c.StartedAt), fmtTime(c.EndedAt), meta}, nil
}

// encodeMeta is encJSON for a turn's meta, which most turns do not have.
func encodeMeta(m map[string]any) (string, error) {
	if m == nil {
		return "null", nil
	}
	return encJSON(m)
}

func scanTurn(sc scanner) (*Turn, error) {
	var tr Turn
	var files, busy, status, stop, cancelledBy, usage, created, started, ended, meta string
	if err := sc.Scan(&tr.Tenant, &tr.SessionID, &tr.Index, &tr.Prompt, &files, &busy, &tr.TimeoutMs, &status,
		&stop, &cancelledBy, &usage, &tr.EventCount, &tr.FirstSeq, &tr.LastSeq, &created, &started, &ended, &meta); err != nil {
		return nil, err
	}
	if meta != "null" {
		if err := decJSON(meta, &tr.Meta); err != nil {
			return nil, err
		}
	}
	tr.BusyPolicy, tr.Status = gen.BusyPolicy(busy), gen.TurnStatus(status)
	tr.StopReason, tr.CancelledBy = gen.StopReason(stop), gen.CancelledBy(cancelledBy)
	if err := decJSON(files, &tr.Files); err != nil {
		return nil, err
	}
	if err := decJSON(usage, &tr.Usage); err != nil {
		return nil, err
	}
	if err := parseTimes(created, &tr.CreatedAt, started, &tr.StartedAt, ended, &tr.EndedAt); err != nil {
		return nil, err
	}
	return &tr, nil
}

func scanTurns(rows *sql.Rows) ([]*Turn, error) {
	defer rows.Close()
	var out []*Turn
	for rows.Next() {
		tr, err := scanTurn(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, rows.Err()
}

func (t *sqliteTx) CreateTurn(tr *Turn) error {
	if err := t.check("create turn", true); err != nil {
		return err
	}
	if tr == nil {
		return fmt.Errorf("create turn: nil turn")
	}
	what := func() string { return fmt.Sprintf("create turn %s/%d", tr.SessionID, tr.Index) } // only on errors
	c, err := cloneTurn(tr)
	if err != nil {
		return fmt.Errorf("create turn: %w", err)
	}
	if err := t.requireSession(c.Tenant, c.SessionID); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if t.cache != nil {
		// Insert it with the transaction's other writes, if its index is
		// known to be new.
		k, sk := turnKey{c.Tenant, c.SessionID, c.Index}, sessionKey{c.Tenant, c.SessionID}
		if t.cache.turns[k] != nil {
			return fmt.Errorf("%s: %w", what(), ErrExists)
		}
		top, known := t.cache.maxTurn[sk]
		if !known {
			if err := t.queryRow(qMaxTurn, c.Tenant, c.SessionID).Scan(&top); err != nil {
				return fmt.Errorf("%s: %w", what(), err)
			}
			t.cache.setMaxTurn(t.touched, sk, top)
		}
		if c.Index > top {
			t.cache.setTurn(t.touched, k, &turnEntry{img: c, pending: true, lc: &turnLC{}})
			t.cache.setMaxTurn(t.touched, sk, c.Index)
			return nil
		}
	}
	args, err := turnArgs(c)
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if _, err := t.exec(qInsertTurn,
		append(append([]any{c.Tenant, c.SessionID, c.Index}, args...), (*turnLC)(nil).args()...)...); err != nil {
		return insertErr(what(), err)
	}
	t.cacheTurn(c)
	return nil
}

// cacheTurn records c, a normalized image of the row as the database has
// it, in the writer's cache (writes only). An ended turn is dropped
// instead: it is seldom written again.
func (t *sqliteTx) cacheTurn(c *Turn) {
	if t.cache == nil {
		return
	}
	var e *turnEntry
	if c.Status != gen.TurnStatusCompleted {
		e = &turnEntry{img: c}
	}
	t.cache.setTurn(t.touched, turnKey{c.Tenant, c.SessionID, c.Index}, e)
}

func (t *sqliteTx) GetTurn(tenant, sessionID string, index int) (*Turn, error) {
	if err := t.check("get turn", false); err != nil {
		return nil, err
	}
	if t.cache != nil {
		if c := t.cache.turn(turnKey{tenant, sessionID, index}); c != nil {
			return cloneTurn(c)
		}
	}
	tr, err := scanTurn(t.queryRow(qGetTurn, tenant, sessionID, index))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get turn %s/%d: %w", sessionID, index, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get turn %s/%d: %w", sessionID, index, err)
	}
	if t.cache != nil {
		c, err := cloneTurn(tr)
		if err != nil {
			return nil, fmt.Errorf("get turn %s/%d: %w", sessionID, index, err)
		}
		t.cacheTurn(c)
	}
	return tr, nil
}

func (t *sqliteTx) UpdateTurn(tr *Turn) error {
	if err := t.check("update turn", true); err != nil {
		return err
	}
	if tr == nil {
		return fmt.Errorf("update turn: nil turn")
	}
	what := func() string { return fmt.Sprintf("update turn %s/%d", tr.SessionID, tr.Index) } // only on errors
	c, err := cloneTurn(tr)
	if err != nil {
		return fmt.Errorf("update turn: %w", err)
	}
	var old *Turn
	var prevLC, lc *turnLC // the row's lifecycle events as cached; lc when this write is to carry them
	if t.cache != nil {
		k := turnKey{c.Tenant, c.SessionID, c.Index}
		if e := t.cache.turns[k]; e != nil && e.pending {
			t.cache.setTurn(t.touched, k, &turnEntry{img: c, pending: true, lc: e.lc}) // inserted as it is now
			return nil
		} else if e != nil {
			old, prevLC = e.img, e.lc
			if e.lc != nil && e.lc.dirty {
				lc = e.lc
			}
		}
	}
	mask := changedColumns(turnColumns, old, c)
	if mask == 0 && lc == nil {
		return nil // the row (which exists: it is cached) already holds tr
	}
	args, err := updateArgs(turnColumns, mask, c, c.Tenant, c.SessionID, c.Index)
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	query := t.cache.updateSQL(mask, false)
	if lc != nil {
		query, args = withTurnLC(query, mask, args, lc)
	}
	res, err := t.exec(query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what(), ErrNotFound)
	}
	t.cacheTurn(c)
	if prevLC != nil { // known (and now written): keep them while the turn stays cached
		k := turnKey{c.Tenant, c.SessionID, c.Index}
		if e := t.cache.turns[k]; e != nil {
			clean := *prevLC
			clean.dirty = false
			t.cache.setTurn(t.touched, k, &turnEntry{img: e.img, lc: &clean})
		}
	}
	return nil
}

func (t *sqliteTx) ListTurns(tenant, sessionID string, p TurnQuery) ([]*Turn, int64, error) {
	if err := t.check("list turns", false); err != nil {
		return nil, 0, err
	}
	if err := t.flush(); err != nil {
		return nil, 0, fmt.Errorf("list turns of %s: %w", sessionID, err)
	}
	query, args := qListTurns, []any{tenant, sessionID, p.AfterOrd, sqlLimit(p.Limit)}
	if p.Status != "" {
		query, args = qListTurnsByStatus, []any{tenant, sessionID, p.AfterOrd, string(p.Status), sqlLimit(p.Limit)}
	}
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list turns of %s: %w", sessionID, err)
	}
	out, err := scanTurns(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("list turns of %s: %w", sessionID, err)
	}
	if len(out) == 0 {
		return nil, 0, t.emptyListErr("list turns", tenant, sessionID)
	}
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
		return out, int64(out[len(out)-1].Index), nil
	}
	return out, 0, nil
}

func (t *sqliteTx) UnfinishedTurns() ([]*Turn, error) {
	if err := t.check("unfinished turns", false); err != nil {
		return nil, err
	}
	if err := t.flush(); err != nil {
		return nil, fmt.Errorf("unfinished turns: %w", err)
	}
	rows, err := t.query(`SELECT ` + prefixCols("t.", turnCols) + ` FROM turns t
		JOIN sessions s ON s.tenant = t.tenant AND s.id = t.session_id
		WHERE t.status IN ('queued', 'running') ORDER BY s.ord, t.idx`)
	if err != nil {
		return nil, fmt.Errorf("unfinished turns: %w", err)
	}
	out, err := scanTurns(rows)
	if err != nil {
		return nil, fmt.Errorf("unfinished turns: %w", err)
	}
	return out, nil
}

// prefixCols qualifies every column of a column list with prefix.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// --- events ---

func (t *sqliteTx) AppendEvent(tenant, sessionID string, ev gen.Event) error {
	if err := t.check("append event", true); err != nil {
		return err
	}
	what := func() string { return fmt.Sprintf("append event %s/%d", sessionID, ev.Seq) } // only on errors
	c, err := cloneEvent(ev)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	data, err := encodeEvent(c)
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if err := t.requireSession(tenant, sessionID); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if _, err := t.exec(qInsertEvent,
		tenant, sessionID, c.Seq, c.TurnIndex, data); err != nil {
		return insertErr(what(), err)
	}
	return nil
}

func (t *sqliteTx) ListEvents(tenant, sessionID string, q EventQuery) ([]gen.Event, int64, error) {
	if err := t.check("list events", false); err != nil {
		return nil, 0, err
	}
	through := int64(math.MaxInt64)
	if q.ThroughSeq > 0 {
		through = q.ThroughSeq
	}
	query, args := qListEvents, []any{tenant, sessionID, q.AfterSeq, through, sqlLimit(q.Limit)}
	if q.TurnIndex > 0 {
		query, args = qListTurnEvents, []any{tenant, sessionID, q.AfterSeq, through, q.TurnIndex, sqlLimit(q.Limit)}
	}
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list events of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []gen.Event
	var data string
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			return nil, 0, fmt.Errorf("list events of %s: %w", sessionID, err)
		}
		var ev gen.Event
		if err := decJSON(data, &ev); err != nil {
			return nil, 0, fmt.Errorf("list events of %s: %w", sessionID, err)
		}
		ev.CreatedAt = ev.CreatedAt.UTC()
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list events of %s: %w", sessionID, err)
	}
	if len(out) == 0 {
		return nil, 0, t.emptyListErr("list events", tenant, sessionID)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
		return out, out[len(out)-1].Seq, nil
	}
	return out, 0, nil
}

// --- lifecycle events ---

func (t *sqliteTx) AppendLifecycleEvent(tenant, sessionID string, ev gen.LifecycleEvent) error {
	if err := t.check("append lifecycle event", true); err != nil {
		return err
	}
	what := func() string { return fmt.Sprintf("append lifecycle event %s/%d", sessionID, ev.LifecycleSeq) } // only on errors
	c, err := cloneLifecycleEvent(ev)
	if err != nil {
		return fmt.Errorf("append lifecycle event: %w", err)
	}
	data, err := encodeLifecycleEvent(c)
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if err := t.requireSession(tenant, sessionID); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if t.cache != nil {
		// Insert it at the commit, with the transaction's others, if its
		// lifecycle_seq is known to be new.
		sk := sessionKey{tenant, sessionID}
		top, known := t.cache.maxLifecycle[sk]
		if !known {
			if err := t.queryRow(qMaxLifecycle, tenant, sessionID).Scan(&top); err != nil {
				return fmt.Errorf("%s: %w", what(), err)
			}
			t.cache.setMaxLifecycle(t.touched, sk, top)
		}
		if c.LifecycleSeq > top {
			if !t.cache.attachLifecycle(t.touched, turnKey{tenant, sessionID, int(c.TurnIndex)}, c, data) {
				t.cache.addLifecycle(t.touched, lifecycleRow{tenant: tenant, session: sessionID, seq: c.LifecycleSeq, data: data})
			}
			t.cache.setMaxLifecycle(t.touched, sk, c.LifecycleSeq)
			return nil
		}
	}
	// Not known to be new: it may be taken on a turn's row, which the
	// table's key does not see.
	if err := t.flush(); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	taken, err := t.turnLifecycleTaken(tenant, sessionID, c.LifecycleSeq)
	if err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if taken {
		return fmt.Errorf("%s: %w", what(), ErrExists)
	}
	if _, err := t.exec(qInsertLifecycle, tenant, sessionID, c.LifecycleSeq, data); err != nil {
		return insertErr(what(), err)
	}
	return nil
}

// turnLifecycleTaken reports whether a turn's row of the session holds a
// lifecycle event with lifecycle_seq seq.
func (t *sqliteTx) turnLifecycleTaken(tenant, sessionID string, seq int64) (bool, error) {
	rows, err := t.query(qListTurnLifecycle, tenant, sessionID, seq-1)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var slots [3]string
	for rows.Next() {
		if err := rows.Scan(&slots[0], &slots[1], &slots[2]); err != nil {
			return false, err
		}
		for _, d := range slots {
			var ev struct {
				Seq int64 `json:"lifecycle_seq"`
			}
			if d != "" && json.Unmarshal([]byte(d), &ev) == nil && ev.Seq == seq {
				return true, nil
			}
		}
	}
	return false, rows.Err()
}

func (t *sqliteTx) ListLifecycleEvents(tenant, sessionID string, q LifecycleQuery) ([]gen.LifecycleEvent, int64, error) {
	if err := t.check("list lifecycle events", false); err != nil {
		return nil, 0, err
	}
	if err := t.flush(); err != nil {
		return nil, 0, fmt.Errorf("list lifecycle events of %s: %w", sessionID, err)
	}
	fail := func(err error) ([]gen.LifecycleEvent, int64, error) {
		return nil, 0, fmt.Errorf("list lifecycle events of %s: %w", sessionID, err)
	}
	var out []gen.LifecycleEvent
	decode := func(data string) error {
		var ev gen.LifecycleEvent
		if err := decJSON(data, &ev); err != nil {
			return err
		}
		if ev.LifecycleSeq > q.AfterSeq {
			ev.CreatedAt = ev.CreatedAt.UTC()
			out = append(out, ev)
		}
		return nil
	}
	rows, err := t.query(qListLifecycle, tenant, sessionID, q.AfterSeq, sqlLimit(q.Limit))
	if err != nil {
		return fail(err)
	}
	var data string
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return fail(err)
		}
		if err := decode(data); err != nil {
			rows.Close()
			return fail(err)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail(err)
	}
	rows, err = t.query(qListTurnLifecycle, tenant, sessionID, q.AfterSeq)
	if err != nil {
		return fail(err)
	}
	var slots [3]string
	for rows.Next() {
		if err := rows.Scan(&slots[0], &slots[1], &slots[2]); err != nil {
			rows.Close()
			return fail(err)
		}
		for _, d := range slots {
			if d == "" {
				continue
			}
			if err := decode(d); err != nil {
				rows.Close()
				return fail(err)
			}
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail(err)
	}
	slices.SortFunc(out, func(a, b gen.LifecycleEvent) int { return cmp.Compare(a.LifecycleSeq, b.LifecycleSeq) })
	if len(out) == 0 {
		return nil, 0, t.emptyListErr("list lifecycle events", tenant, sessionID)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
		return out, out[len(out)-1].LifecycleSeq, nil
	}
	return out, 0, nil
}

// --- permission requests ---

const permissionCols = `tenant, session_id, request_id, turn_index, tool_call_id, title, options, status, outcome,
	option_id, created_at, answered_at`

// permissionArgs returns c's column values in permissionCols order after
// the key (tenant, session_id, request_id).
func permissionArgs(c *PermissionRequest) ([]any, error) {
	opts, err := encJSON(c.Options)
	if err != nil {
		return nil, err
	}
	return []any{c.TurnIndex, c.ToolCallID, c.Title, opts, string(c.Status), string(c.Outcome), c.OptionID,
		fmtTime(c.CreatedAt), fmtTime(c.AnsweredAt)}, nil
}

func scanPermission(sc scanner) (*PermissionRequest, error) {
	var r PermissionRequest
	var opts, status, outcome, created, answered string
	if err := sc.Scan(&r.Ord, &r.Tenant, &r.SessionID, &r.RequestID, &r.TurnIndex, &r.ToolCallID, &r.Title, &opts,
		&status, &outcome, &r.OptionID, &created, &answered); err != nil {
		return nil, err
	}
	r.Status, r.Outcome = gen.PermissionStatus(status), gen.PermissionOutcome(outcome)
	if err := decJSON(opts, &r.Options); err != nil {
		return nil, err
	}
	if err := parseTimes(created, &r.CreatedAt, answered, &r.AnsweredAt); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *sqliteTx) CreatePermissionRequest(r *PermissionRequest) error {
	if err := t.check("create permission request", true); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("create permission request: nil request")
	}
	what := "create permission request " + r.SessionID + "/" + r.RequestID
	c, err := clonePermissionRequest(r)
	if err != nil {
		return fmt.Errorf("create permission request: %w", err)
	}
	args, err := permissionArgs(c)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := t.requireSession(c.Tenant, c.SessionID); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	res, err := t.exec(qInsertPermission, append([]any{c.Tenant, c.SessionID, c.RequestID}, args...)...)
	if err != nil {
		return insertErr(what, err)
	}
	if r.Ord, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (t *sqliteTx) GetPermissionRequest(tenant, sessionID, requestID string) (*PermissionRequest, error) {
	if err := t.check("get permission request", false); err != nil {
		return nil, err
	}
	r, err := scanPermission(t.queryRow(qGetPermission, tenant, sessionID, requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get permission request %s/%s: %w", sessionID, requestID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get permission request %s/%s: %w", sessionID, requestID, err)
	}
	return r, nil
}

func (t *sqliteTx) UpdatePermissionRequest(r *PermissionRequest) error {
	if err := t.check("update permission request", true); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("update permission request: nil request")
	}
	what := "update permission request " + r.SessionID + "/" + r.RequestID
	c, err := clonePermissionRequest(r)
	if err != nil {
		return fmt.Errorf("update permission request: %w", err)
	}
	args, err := permissionArgs(c)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	res, err := t.exec(qUpdatePermission, append(args, c.Tenant, c.SessionID, c.RequestID)...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

func (t *sqliteTx) ListPermissionRequests(tenant, sessionID string, q PermissionQuery) ([]*PermissionRequest, int64, error) {
	if err := t.check("list permission requests", false); err != nil {
		return nil, 0, err
	}
	query := `SELECT ord, ` + permissionCols + ` FROM permission_requests WHERE tenant = ? AND session_id = ? AND ord > ?`
	args := []any{tenant, sessionID, q.AfterOrd}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, string(q.Status))
	}
	if q.TurnIndex > 0 {
		query += ` AND turn_index = ?`
		args = append(args, q.TurnIndex)
	}
	rows, err := t.query(query+` ORDER BY ord LIMIT ?`, append(args, sqlLimit(q.Limit))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list permission requests of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []*PermissionRequest
	for rows.Next() {
		r, err := scanPermission(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list permission requests of %s: %w", sessionID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list permission requests of %s: %w", sessionID, err)
	}
	if len(out) == 0 {
		return nil, 0, t.emptyListErr("list permission requests", tenant, sessionID)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
		return out, out[len(out)-1].Ord, nil
	}
	return out, 0, nil
}

// --- work log and artifacts ---

func (t *sqliteTx) AddLogEntry(tenant string, e gen.LogEntry) (int64, error) {
	if err := t.check("add log entry", true); err != nil {
		return 0, err
	}
	c, err := cloneLogEntry(e)
	if err != nil {
		return 0, fmt.Errorf("add log entry: %w", err)
	}
	data, err := encJSON(c.Data)
	if err != nil {
		return 0, fmt.Errorf("add log entry %s: %w", e.ID, err)
	}
	if err := t.requireSession(tenant, c.SessionID); err != nil {
		return 0, fmt.Errorf("add log entry to %s: %w", e.SessionID, err)
	}
	res, err := t.exec(qInsertLogEntry, tenant, c.SessionID, c.ID, string(c.Type), c.Message, data, fmtTime(c.CreatedAt))
	if err != nil {
		return 0, insertErr("add log entry to "+e.SessionID, err)
	}
	return res.LastInsertId()
}

func (t *sqliteTx) ListLogEntries(tenant, sessionID string, q LogQuery) ([]gen.LogEntry, int64, error) {
	if err := t.check("list log entries", false); err != nil {
		return nil, 0, err
	}
	query := `SELECT ord, session_id, id, type, message, data, created_at FROM log_entries
		WHERE tenant = ? AND session_id = ?`
	args := []any{tenant, sessionID}
	order := "ASC"
	switch {
	case q.NewestFirst && q.AfterOrd > 0:
		query += ` AND ord < ?`
		args = append(args, q.AfterOrd)
	case !q.NewestFirst:
		query += ` AND ord > ?`
		args = append(args, q.AfterOrd)
	}
	if q.NewestFirst {
		order = "DESC"
	}
	if q.Type != "" {
		query += ` AND type = ?`
		args = append(args, string(q.Type))
	}
	rows, err := t.query(query+` ORDER BY ord `+order+` LIMIT ?`, append(args, sqlLimit(q.Limit))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list log entries of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []gen.LogEntry
	var ords []int64
	for rows.Next() {
		var e gen.LogEntry
		var ord int64
		var typ, data, created string
		if err := rows.Scan(&ord, &e.SessionID, &e.ID, &typ, &e.Message, &data, &created); err != nil {
			return nil, 0, fmt.Errorf("list log entries of %s: %w", sessionID, err)
		}
		e.Type = gen.LogEntryType(typ)
		if err := decJSON(data, &e.Data); err != nil {
			return nil, 0, fmt.Errorf("list log entries of %s: %w", sessionID, err)
		}
		if err := parseTimes(created, &e.CreatedAt); err != nil {
			return nil, 0, fmt.Errorf("list log entries of %s: %w", sessionID, err)
		}
		out, ords = append(out, e), append(ords, ord)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list log entries of %s: %w", sessionID, err)
	}
	if len(out) == 0 {
		return nil, 0, t.emptyListErr("list log entries", tenant, sessionID)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		return out[:q.Limit], ords[q.Limit-1], nil
	}
	return out, 0, nil
}

func (t *sqliteTx) AddArtifact(tenant string, a gen.Artifact) (int64, error) {
	if err := t.check("add artifact", true); err != nil {
		return 0, err
	}
	c, err := cloneArtifact(a)
	if err != nil {
		return 0, fmt.Errorf("add artifact: %w", err)
	}
	meta, err := encJSON(c.Metadata)
	if err != nil {
		return 0, fmt.Errorf("add artifact %s: %w", a.ID, err)
	}
	if err := t.requireSession(tenant, c.SessionID); err != nil {
		return 0, fmt.Errorf("add artifact to %s: %w", a.SessionID, err)
	}
	res, err := t.exec(qInsertArtifact, tenant, c.SessionID, c.ID, c.Path, string(c.Action), meta, fmtTime(c.CreatedAt))
	if err != nil {
		return 0, insertErr("add artifact to "+a.SessionID, err)
	}
	return res.LastInsertId()
}

func (t *sqliteTx) ListArtifacts(tenant, sessionID string, q ArtifactQuery) ([]gen.Artifact, int64, error) {
	if err := t.check("list artifacts", false); err != nil {
		return nil, 0, err
	}
	query := `SELECT ord, session_id, id, path, action, metadata, created_at FROM artifacts
		WHERE tenant = ? AND session_id = ? AND ord > ?`
	args := []any{tenant, sessionID, q.AfterOrd}
	if q.Action != "" {
		query += ` AND action = ?`
		args = append(args, string(q.Action))
	}
	rows, err := t.query(query+` ORDER BY ord LIMIT ?`, append(args, sqlLimit(q.Limit))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list artifacts of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []gen.Artifact
	var ords []int64
	for rows.Next() {
		var a gen.Artifact
		var ord int64
		var action, meta, created string
		if err := rows.Scan(&ord, &a.SessionID, &a.ID, &a.Path, &action, &meta, &created); err != nil {
			return nil, 0, fmt.Errorf("list artifacts of %s: %w", sessionID, err)
		}
		a.Action = gen.ArtifactAction(action)
		if err := decJSON(meta, &a.Metadata); err != nil {
			return nil, 0, fmt.Errorf("list artifacts of %s: %w", sessionID, err)
		}
		if err := parseTimes(created, &a.CreatedAt); err != nil {
			return nil, 0, fmt.Errorf("list artifacts of %s: %w", sessionID, err)
		}
		out, ords = append(out, a), append(ords, ord)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list artifacts of %s: %w", sessionID, err)
	}
	if len(out) == 0 {
		return nil, 0, t.emptyListErr("list artifacts", tenant, sessionID)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		return out[:q.Limit], ords[q.Limit-1], nil
	}
	return out, 0, nil
}

// --- files ---

func (t *sqliteTx) CreateFile(tenant string, f gen.File, data []byte) error {
	if err := t.check("create file", true); err != nil {
		return err
	}
	c, err := cloneFile(f)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	if data == nil {
		data = []byte{} // the column is NOT NULL
	}
	if _, err := t.exec(qInsertFile, tenant, c.FileToken, c.Filename, c.ContentType, c.SizeBytes, c.SHA256,
		fmtTime(c.CreatedAt), data); err != nil {
		return insertErr("create file", err)
	}
	return nil
}

func (t *sqliteTx) GetFile(tenant, token string) (*gen.File, error) {
	if err := t.check("get file", false); err != nil {
		return nil, err
	}
	var f gen.File
	var created string
	err := t.queryRow(qGetFile, tenant, token).Scan(&f.FileToken, &f.Filename, &f.ContentType, &f.SizeBytes, &f.SHA256, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get file: %w", ErrNotFound)
	}
	if err == nil {
		err = parseTimes(created, &f.CreatedAt)
	}
	if err != nil {
		return nil, fmt.Errorf("get file: %w", err)
	}
	return &f, nil
}

func (t *sqliteTx) FileData(tenant, token string) ([]byte, error) {
	if err := t.check("file data", false); err != nil {
		return nil, err
	}
	var data []byte
	err := t.queryRow(qFileData, tenant, token).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("file data: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file data: %w", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// --- idempotency ---

func (t *sqliteTx) GetIdempotency(tenant, operation, key string) (*Idempotency, error) {
	if err := t.check("get idempotency record", false); err != nil {
		return nil, err
	}
	r := Idempotency{Tenant: tenant, Operation: operation, Key: key}
	var created string
	err := t.queryRow(qGetIdempotency, tenant, operation, key).
		Scan(&r.RequestHash, &r.StatusCode, &r.Body, &r.SessionID, &r.TurnIndex, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get idempotency record of %s: %w", operation, ErrNotFound)
	}
	if err == nil {
		err = parseTimes(created, &r.CreatedAt)
	}
	if err != nil {
		return nil, fmt.Errorf("get idempotency record of %s: %w", operation, err)
	}
	if len(r.Body) == 0 {
		r.Body = nil
	}
	return &r, nil
}

func (t *sqliteTx) PutIdempotency(r *Idempotency) error {
	if err := t.check("put idempotency record", true); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("put idempotency record: nil record")
	}
	c, err := cloneIdempotency(r)
	if err != nil {
		return fmt.Errorf("put idempotency record: %w", err)
	}
	var body any // NULL for no body
	if c.Body != nil {
		body = c.Body
	}
	if _, err := t.exec(qPutIdempotency, c.Tenant, c.Operation, c.Key, c.RequestHash, c.StatusCode, body,
		c.SessionID, c.TurnIndex, fmtTime(c.CreatedAt)); err != nil {
		return fmt.Errorf("put idempotency record of %s: %w", r.Operation, err)
	}
	return nil
}
