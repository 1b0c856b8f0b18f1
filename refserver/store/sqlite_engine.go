package store

// The SQLite store's connections, transactions and group commit.
//
// Every statement runs on a connection the store holds for its whole life
// (a *sql.Conn), through statements prepared once on that connection, with
// a context that is never cancelled. That keeps database/sql's pool and the
// driver's per-call cancellation goroutines off the hot path: a turn runs
// a dozen statements, and each of those goroutines cost as much as the
// statement itself. Contexts are checked when a transaction starts and,
// for Update, before it commits.
//
// Writes: one writer connection. Concurrent Update calls queue; the first
// in the queue becomes the leader and runs every queued fn (up to
// maxBatch, taking in those that arrive meanwhile) in one transaction,
// then commits once and wakes the others. Each caller returns only after
// the commit that holds its writes, so "Update returned nil" still means
// "durable", while N concurrent sessions pay for one COMMIT instead of N.
// A caller alone in the queue runs its fn on its own goroutine, with no
// hand-off.
//
// A failing fn loses only its own writes: its changes to the row cache
// are undone, and its statements are rolled back, to a savepoint set at
// its first statement when the transaction already held statements, or
// wholly when it began the transaction. The transaction begins at the
// first statement, so writes held in the row cache (sqlite_cache.go) need
// neither BEGIN nor savepoint until the commit writes them.
//
// UpdateDeferred may leave the transaction open when nothing else waits:
// the next write continues it and commits both, or a timer commits it.
// A turn's acceptance and its end are then one commit.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SQLiteOption tunes OpenSQLite.
type SQLiteOption func(*sqliteConfig)

type sqliteConfig struct {
	busyTimeout time.Duration
	readConns   int
	maxBatch    int
	onCommit    func(CommitInfo)
}

// WithBusyTimeout sets how long a statement waits for a lock held by another
// process before it fails (default 5s). Within one store, writers queue in
// Go and never wait on SQLite's lock.
func WithBusyTimeout(d time.Duration) SQLiteOption {
	return func(c *sqliteConfig) { c.busyTimeout = d }
}

// WithReadConns sets the size of the read pool View uses (default 4).
func WithReadConns(n int) SQLiteOption {
	return func(c *sqliteConfig) {
		if n > 0 {
			c.readConns = n
		}
	}
}

// WithMaxBatch caps how many queued Update calls one transaction commits
// together (default 64; 1 turns group commit off).
func WithMaxBatch(n int) SQLiteOption {
	return func(c *sqliteConfig) {
		if n > 0 {
			c.maxBatch = n
		}
	}
}

// WithCommitObserver has f called after every write transaction (from the
// goroutine that ran it; f must be quick), for metrics.
func WithCommitObserver(f func(CommitInfo)) SQLiteOption {
	return func(c *sqliteConfig) { c.onCommit = f }
}

// CommitInfo describes one write transaction of the SQLite store.
type CommitInfo struct {
	// Updates is the number of Update calls the transaction committed
	// together (group commit); failed ones are not counted.
	Updates int
	// Transaction is the time from BEGIN to the end of COMMIT; Commit the
	// COMMIT alone (writing the WAL).
	Transaction, Commit time.Duration
	// Err is the error of BEGIN or COMMIT, if any.
	Err error
}

const defaultMaxBatch = 64

// maxCachedStmts bounds the statements a connection keeps prepared beyond
// the fixed ones (lists build their SQL from their filters).
const maxCachedStmts = 256

// Transaction control, prepared on every connection like the queries.
const (
	qBeginImmediate = `BEGIN IMMEDIATE`
	qBegin          = `BEGIN`
	qCommit         = `COMMIT`
	qRollback       = `ROLLBACK`
	qSavepoint      = `SAVEPOINT upd`
	qRelease        = `RELEASE upd`
	qRollbackTo     = `ROLLBACK TO upd`
	qDataVersion    = `PRAGMA data_version`
)

// bg is the context of every statement (see the file comment).
var bg = context.Background()

type sqliteStore struct {
	cfg      sqliteConfig
	writerDB *sql.DB // one connection: Update
	readerDB *sql.DB // read-only connections: View
	writer   *sqlConn
	readers  chan *sqlConn
	// cache is the writer's row cache (sqlite_cache.go); only the leader
	// of the running batch touches it.
	cache *rowCache

	// The write queue (group commit); mu guards it, leading and closing.
	mu      sync.Mutex
	queue   []*writeReq
	leading bool
	closing bool
	idle    chan struct{} // closed when no leader runs once closing
	// open is the transaction deferred writes left open, if any.
	open *openTx

	// file counts the stores of this process open on the same file.
	file *openFile

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// openFiles are the database files the stores of this process have open.
// The unix-excl VFS keeps other processes out of a file while it is open,
// so only another store of this process can write behind the writer's row
// cache; while there is none, the writer need not ask data_version.
var openFiles struct {
	sync.Mutex
	files []*openFile
}

type openFile struct {
	info   os.FileInfo
	stores int
	// shared is set once a second store opened the file, and stays set.
	shared atomic.Bool
}

func registerFile(path string) (*openFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	openFiles.Lock()
	defer openFiles.Unlock()
	for _, f := range openFiles.files {
		if os.SameFile(f.info, fi) {
			f.stores++
			f.shared.Store(true)
			return f, nil
		}
	}
	f := &openFile{info: fi, stores: 1}
	openFiles.files = append(openFiles.files, f)
	return f, nil
}

func (f *openFile) release() {
	openFiles.Lock()
	defer openFiles.Unlock()
	if f.stores--; f.stores == 0 {
		openFiles.files = slices.DeleteFunc(openFiles.files, func(o *openFile) bool { return o == f })
	}
}

// OpenSQLite opens (creating it if needed) the database file at path and
// brings its schema up to date. The directory must exist.
//
// Durability: the database runs in WAL mode with synchronous=NORMAL. A
// committed Update survives the process crashing or being killed, and the
// file is never corrupted; a power loss or an OS crash may lose the last
// transactions committed before it (SQLite syncs the WAL at checkpoints, not
// at every commit). That is the right trade for a reference server: FULL
// would add an fsync to every turn.
func OpenSQLite(path string, opts ...SQLiteOption) (Store, error) {
	cfg := sqliteConfig{busyTimeout: 5 * time.Second, readConns: 4, maxBatch: defaultMaxBatch}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite store: %q is not a file path (use NewMemory for an in-memory store)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open sqlite store %s: directory %s does not exist: %w", path, dir, err)
		}
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open sqlite store %s: %s is not a directory", path, dir)
	}

	// A file: URI, so that any character in the path is escaped; the driver
	// runs the _pragma values on every new connection.
	dsn := func(pragmas ...string) string {
		q := url.Values{}
		q.Add("vfs", "unix-excl")
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
		for _, p := range pragmas {
			q.Add("_pragma", p)
		}
		p := filepath.ToSlash(abs)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // file:///C:/dir/x.db on Windows
		}
		return (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()
	}
	fail := func(err error) (Store, error) { return nil, fmt.Errorf("open sqlite store %s: %w", path, err) }
	s := &sqliteStore{cfg: cfg, readers: make(chan *sqlConn, cfg.readConns), cache: newRowCache()}
	// The writer's page cache holds the hot pages of every session with a
	// turn running (-16000: 16 MB; the default is 2 MB). Foreign keys are
	// checked by the store (requireSession), mostly from its row cache.
	s.writerDB, err = sql.Open("sqlite", dsn("journal_mode(WAL)", "synchronous(NORMAL)", "cache_size(-16000)"))
	if err != nil {
		return fail(err)
	}
	s.writerDB.SetMaxOpenConns(1)
	s.writerDB.SetMaxIdleConns(1)
	s.writerDB.SetConnMaxIdleTime(0)
	s.writerDB.SetConnMaxLifetime(0)
	if err := migrate(s.writerDB); err != nil {
		s.writerDB.Close()
		return fail(err)
	}
	// The file exists now (migrate created it).
	if s.file, err = registerFile(abs); err != nil {
		s.writerDB.Close()
		return fail(err)
	}
	s.readerDB, err = sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		s.writerDB.Close()
		s.file.release()
		return fail(err)
	}
	s.readerDB.SetMaxOpenConns(cfg.readConns)
	s.readerDB.SetMaxIdleConns(cfg.readConns)
	s.readerDB.SetConnMaxIdleTime(0)
	s.readerDB.SetConnMaxLifetime(0)
	if s.writer, err = openConn(s.writerDB, writeQueries); err != nil {
		s.Close()
		return fail(err)
	}
	for range cfg.readConns {
		c, err := openConn(s.readerDB, readQueries)
		if err != nil {
			s.Close()
			return fail(err)
		}
		s.readers <- c
	}
	return s, nil
}

// migrate applies the migrations the database has not seen yet.
func migrate(db *sql.DB) error {
	ctx := context.Background()
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program's %d", version, len(migrations))
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	for v := version; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		// user_version is part of the transaction: a step is applied wholly or not at all.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
	}
	return nil
}

// sqlConn is one connection the store holds, with its prepared statements.
// One goroutine uses it at a time.
type sqlConn struct {
	conn   *sql.Conn
	stmts  map[string]*sql.Stmt
	cached int // statements prepared on first use
}

func openConn(db *sql.DB, queries []string) (*sqlConn, error) {
	conn, err := db.Conn(bg)
	if err != nil {
		return nil, err
	}
	c := &sqlConn{conn: conn, stmts: make(map[string]*sql.Stmt, len(queries)+8)}
	for _, q := range queries {
		st, err := conn.PrepareContext(bg, q)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		c.stmts[q] = st
	}
	return c, nil
}

// stmt returns the prepared statement of query, preparing and keeping it
// on first use; nil when the cache is full or preparing failed (the caller
// then runs the SQL unprepared, which reports the error).
func (c *sqlConn) stmt(query string) *sql.Stmt {
	if st := c.stmts[query]; st != nil {
		return st
	}
	if c.cached >= maxCachedStmts {
		return nil
	}
	st, err := c.conn.PrepareContext(bg, query)
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	c.cached++
	return st
}

func (c *sqlConn) exec(query string, args ...any) (sql.Result, error) {
	if st := c.stmt(query); st != nil {
		return st.ExecContext(bg, args...)
	}
	return c.conn.ExecContext(bg, query, args...)
}

func (c *sqlConn) query(query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(query); st != nil {
		return st.QueryContext(bg, args...)
	}
	return c.conn.QueryContext(bg, query, args...)
}

func (c *sqlConn) queryRow(query string, args ...any) *sql.Row {
	if st := c.stmt(query); st != nil {
		return st.QueryRowContext(bg, args...)
	}
	return c.conn.QueryRowContext(bg, query, args...)
}

func (c *sqlConn) close() error {
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, c.conn.Close())...)
}

// --- reads ---

func (s *sqliteStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: view: %w", err)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	var c *sqlConn
	select {
	case c = <-s.readers:
	case <-ctx.Done():
		return fmt.Errorf("store: view: %w", ctx.Err())
	}
	defer s.putReader(c)
	if s.closed.Load() {
		return ErrClosed
	}
	if _, err := c.exec(qBegin); err != nil {
		return fmt.Errorf("store: view: begin: %w", err)
	}
	stx := &sqliteTx{c: c, readOnly: true}
	defer func() {
		stx.done.Store(true)
		c.exec(qRollback) // nothing to keep
	}()
	return fn(stx)
}

// putReader returns c to the pool, or closes it once the store is closed.
func (s *sqliteStore) putReader(c *sqlConn) {
	if s.closed.Load() {
		c.close()
		return
	}
	s.readers <- c
	if s.closed.Load() { // Close may have drained the pool before c came back
		s.drainReaders()
	}
}

func (s *sqliteStore) drainReaders() (errs []error) {
	for {
		select {
		case c := <-s.readers:
			errs = append(errs, c.close())
		default:
			return errs
		}
	}
}

// --- writes (group commit) ---

// writeReq is one Update call waiting in, or running from, the queue.
type writeReq struct {
	ctx context.Context
	fn  func(Tx) error
	// deferred (UpdateDeferred) may return before its commit, within delay.
	deferred bool
	delay    time.Duration
	// wake receives true when the request is to lead (run the next
	// batch), false once err is its answer.
	wake chan bool
	// committed receives the commit's outcome of a deferred request whose
	// fn succeeded.
	committed chan error
	taken     bool // in a batch (under sqliteStore.mu)
	chosen    bool // told to lead (under sqliteStore.mu)
	err       error
	panicked  bool
	panicVal  any
	ok        bool // fn succeeded inside the current transaction
}

// openTx is a write transaction that deferred writes left open: the next
// leader continues it, or its timer commits it.
type openTx struct {
	waiters  []*writeReq // deferred requests whose writes it holds
	deadline time.Time   // when it must be committed at the latest
	started  time.Time
	timer    *time.Timer
	// expired: its timer fired while a leader ran; the leader commits it
	// when it hands off with nothing queued.
	expired bool
	// sqlOpen: BEGIN was run (the writes may all be in the row cache).
	sqlOpen bool
}

var errAborted = errors.New("store: update: the goroutine running the transaction exited")

func (s *sqliteStore) Update(ctx context.Context, fn func(Tx) error) error {
	return s.submit(&writeReq{ctx: ctx, fn: fn, wake: make(chan bool, 1)})
}

// UpdateDeferred implements Deferrer: fn runs like Update's, but the call
// may return before the commit, leaving the transaction open for the next
// write to continue and commit (one commit instead of two); a timer
// commits it after maxDelay at the latest.
func (s *sqliteStore) UpdateDeferred(ctx context.Context, fn func(Tx) error, maxDelay time.Duration) (func() error, error) {
	r := &writeReq{ctx: ctx, fn: fn, wake: make(chan bool, 1), deferred: true, delay: maxDelay, committed: make(chan error, 1)}
	if err := s.submit(r); err != nil {
		return nil, err
	}
	var once sync.Once
	var cerr error
	return func() error {
		once.Do(func() { cerr = <-r.committed })
		return cerr
	}, nil
}

// submit queues r, runs or waits for its batch, and returns its answer.
func (s *sqliteStore) submit(r *writeReq) error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("store: update: %w", err)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	s.queue = append(s.queue, r)
	lead := !s.leading
	s.leading = true
	s.mu.Unlock()
	if !lead {
		select {
		case lead = <-r.wake:
		case <-r.ctx.Done():
			s.mu.Lock()
			if !r.taken && !r.chosen {
				s.dequeue(r)
				s.mu.Unlock()
				return fmt.Errorf("store: update: %w", r.ctx.Err())
			}
			s.mu.Unlock()
			lead = <-r.wake // chosen to lead, or already in a batch
		}
	}
	if lead {
		s.lead()
	}
	if r.panicked {
		panic(r.panicVal)
	}
	return r.err
}

// dequeue removes r, waiting and not chosen to lead, from the queue (s.mu
// held).
func (s *sqliteStore) dequeue(r *writeReq) {
	for i, q := range s.queue {
		if q == r {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			return
		}
	}
}

// takeLocked moves up to n requests from the head of the queue (s.mu held).
func (s *sqliteStore) takeLocked(n int) []*writeReq {
	n = min(len(s.queue), n)
	batch := make([]*writeReq, n)
	copy(batch, s.queue)
	s.queue = append(s.queue[:0], s.queue[n:]...)
	for _, r := range batch {
		r.taken = true
	}
	return batch
}

// handOff passes the lead to the next request waiting, or ends it, after
// committing the open transaction if its time is up.
func (s *sqliteStore) handOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.queue) > 0 {
			s.queue[0].chosen = true
			s.queue[0].wake <- true
			return
		}
		o := s.open
		if o == nil || !o.expired {
			break
		}
		s.open = nil
		s.mu.Unlock()
		s.commit(&writeTx{waiters: o.waiters, open: o.sqlOpen, started: o.started})
		s.mu.Lock()
	}
	s.leading = false
	if s.closing && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// writeTx is one write transaction as a leader runs it.
type writeTx struct {
	// reqs are the requests the leader ran in it; when own, reqs[0] is the
	// leader's own request, which is not woken: it returns by itself.
	reqs []*writeReq
	own  bool
	// waiters are the deferred requests an earlier leader ran in it.
	waiters []*writeReq
	open    bool // BEGIN done
	started time.Time
	// deadline is the latest commit its deferred requests allow.
	deadline time.Time
}

// lead runs the head of the queue, the leader's own request first, in the
// writer's transaction (continuing one left open), takes in the requests
// that arrive meanwhile, then commits, or leaves the transaction open when
// every write in it is deferred and nothing waits, and hands the lead on.
func (s *sqliteStore) lead() {
	s.mu.Lock()
	tx := &writeTx{reqs: s.takeLocked(s.cfg.maxBatch), own: true}
	if o := s.open; o != nil {
		s.open = nil
		o.timer.Stop() // its callback, if it runs, finds s.open changed
		tx.waiters, tx.open, tx.started, tx.deadline = o.waiters, o.sqlOpen, o.started, o.deadline
	}
	s.mu.Unlock()
	done := false
	defer func() {
		if !done { // runtime.Goexit in an fn: fail everyone, keep nothing
			s.fail(tx, errAborted)
		}
		s.handOff()
	}()
	s.run(tx)
	done = true
}

// run runs tx's requests, and those that arrive meanwhile, and ends tx.
func (s *sqliteStore) run(tx *writeTx) {
	batch := tx.reqs
	for {
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = fmt.Errorf("store: update: %w", err)
				continue
			}
			// Another store may have written the file: the transaction must
			// begin (and check data_version) before fn reads the cache.
			if !tx.open && s.file.shared.Load() {
				if err := s.begin(tx); err != nil {
					s.fail(tx, err)
					return
				}
			}
			if err := s.runOne(tx, r); err != nil {
				s.fail(tx, err)
				return
			}
			if r.ok && r.deferred {
				if d := time.Now().Add(r.delay); tx.deadline.IsZero() || d.Before(tx.deadline) {
					tx.deadline = d
				}
			}
		}
		s.mu.Lock()
		if more := s.cfg.maxBatch - len(tx.reqs); more > 0 && len(s.queue) > 0 && !s.closing {
			batch = s.takeLocked(more) // they arrived meanwhile: same commit
			tx.reqs = append(tx.reqs, batch...)
			s.mu.Unlock()
			continue
		}
		if s.leaveOpenLocked(tx) {
			s.mu.Unlock()
			s.wake(tx)
			return
		}
		s.mu.Unlock()
		s.commit(tx)
		return
	}
}

// begin opens the writer's transaction.
func (s *sqliteStore) begin(tx *writeTx) error {
	w := s.writer
	if s.closed.Load() {
		return ErrClosed
	}
	tx.started = time.Now()
	if _, err := w.exec(qBeginImmediate); err != nil {
		return fmt.Errorf("store: update: begin: %w", err)
	}
	tx.open = true
	if s.file.shared.Load() {
		var version int64
		if err := w.queryRow(qDataVersion).Scan(&version); err != nil {
			return fmt.Errorf("store: update: read data_version: %w", err)
		}
		if version != s.cache.dataVersion { // another store wrote the file
			if s.cache.ahead() {
				// Writes already made from the cache may rest on what it
				// wrote: give them up (a store opened on the file while this
				// one had a transaction going).
				return errors.New("store: update: another store on the same file wrote during the transaction")
			}
			s.cache.clear()
			s.cache.dataVersion = version
		}
	}
	return nil
}

// runOne runs r's fn in tx; an error means the transaction itself failed.
//
// Nothing is done in SQL before fn's first statement: the transaction
// begins there if it has not yet (the writes before it are all in the
// row cache, see sqlite_cache.go), and otherwise a savepoint is set, so
// that fn's failure rolls back fn's own statements and nothing else. A
// turn's acceptance runs no statement at all; its end begins the
// transaction and needs no savepoint.
func (s *sqliteStore) runOne(tx *writeTx, r *writeReq) error {
	w := s.writer
	began, savepoint := false, false
	first := func() error {
		if !tx.open {
			if err := s.begin(tx); err != nil {
				return err
			}
			began = true
			return nil
		}
		if _, err := w.exec(qSavepoint); err != nil {
			return fmt.Errorf("store: update: savepoint: %w", err)
		}
		savepoint = true
		return nil
	}
	s.runFn(r, first)
	switch {
	case savepoint && r.ok:
		if _, err := w.exec(qRelease); err != nil {
			return fmt.Errorf("store: update: release: %w", err)
		}
	case savepoint:
		_, err1 := w.exec(qRollbackTo)
		_, err2 := w.exec(qRelease)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("store: update: roll back to savepoint: %w", err)
		}
	case began && !r.ok: // the transaction held nothing else in SQL
		w.exec(qRollback)
		tx.open = false
	}
	return nil
}

// leaveOpenLocked leaves tx open when every write in it is deferred,
// nothing waits for the writer and its deadline has not passed; its timer
// then commits it (s.mu held).
func (s *sqliteStore) leaveOpenLocked(tx *writeTx) bool {
	if s.closing || len(s.queue) > 0 {
		return false
	}
	waiters := tx.waiters
	for _, r := range tx.reqs {
		switch {
		case r.ok && !r.deferred:
			return false // its caller waits for the commit
		case r.ok:
			waiters = append(waiters, r)
		}
	}
	wait := time.Until(tx.deadline)
	if len(waiters) == 0 || wait <= 0 {
		return false
	}
	o := &openTx{waiters: waiters, deadline: tx.deadline, started: tx.started, sqlOpen: tx.open}
	s.open = o
	o.timer = time.AfterFunc(wait, func() { s.flush(o) })
	return true
}

// flush commits o, a transaction left open, unless a leader took it over.
func (s *sqliteStore) flush(o *openTx) {
	s.mu.Lock()
	if s.open != o {
		s.mu.Unlock()
		return // a leader continues it
	}
	if s.leading {
		o.expired = true // the leader continues it or, handing off, commits it
		s.mu.Unlock()
		return
	}
	s.open = nil
	s.leading = true
	s.mu.Unlock()
	defer s.handOff()
	s.commit(&writeTx{waiters: o.waiters, open: o.sqlOpen, started: o.started})
}

// commit commits tx (if anything in it succeeded) and answers everyone.
func (s *sqliteStore) commit(tx *writeTx) {
	n := len(tx.waiters)
	for _, r := range tx.reqs {
		if r.ok {
			n++
		}
	}
	if n == 0 {
		if tx.open {
			s.writer.exec(qRollback) // nothing to keep
		}
		s.wake(tx)
		return
	}
	if !tx.open && s.cache.ahead() {
		if err := s.begin(tx); err != nil {
			s.fail(tx, err)
			return
		}
	}
	if !tx.open { // nothing was written: nothing to commit
		s.answerCommitted(tx)
		return
	}
	if err := s.cache.flush(s.writer, nil); err != nil {
		s.fail(tx, fmt.Errorf("store: commit: %w", err))
		return
	}
	commitStart := time.Now()
	_, err := s.writer.exec(qCommit)
	end := time.Now()
	if err != nil {
		s.writer.exec(qRollback) // the transaction may still be open after a failed COMMIT
		s.fail(tx, fmt.Errorf("store: commit: %w", err))
		return
	}
	s.observe(CommitInfo{Updates: n, Transaction: end.Sub(tx.started), Commit: end.Sub(commitStart)})
	s.answerCommitted(tx)
}

// answerCommitted answers everyone of a committed tx.
func (s *sqliteStore) answerCommitted(tx *writeTx) {
	for _, r := range tx.waiters {
		r.committed <- nil
	}
	for _, r := range tx.reqs {
		if r.ok && r.deferred {
			r.committed <- nil
		}
	}
	s.wake(tx)
}

// fail rolls tx back and gives err to everyone whose writes it held.
func (s *sqliteStore) fail(tx *writeTx, err error) {
	if tx.open {
		s.writer.exec(qRollback)
	}
	s.cache.clear()
	s.observe(CommitInfo{Err: err})
	for _, r := range tx.waiters {
		r.committed <- err
	}
	for _, r := range tx.reqs {
		if r.ok || (r.err == nil && !r.panicked) {
			r.err, r.ok = err, false
		}
	}
	s.wake(tx)
}

// wake answers tx's requests, all but the leader's own.
func (s *sqliteStore) wake(tx *writeTx) {
	for i, r := range tx.reqs {
		if i == 0 && tx.own {
			continue
		}
		r.wake <- false
	}
}

// runFn runs r.fn in the open transaction and records its outcome: ok, an
// error, or a panic to re-raise in r's own goroutine.
func (s *sqliteStore) runFn(r *writeReq, first func() error) {
	stx := &sqliteTx{c: s.writer, cache: s.cache, touched: &touched{}, first: first}
	defer func() {
		stx.done.Store(true)
		if v := recover(); v != nil {
			r.panicked, r.panicVal, r.ok = true, v, false
		}
		if !r.ok { // its writes are rolled back: so is what it did to the cache
			s.cache.undo(stx.touched)
		}
	}()
	if err := r.fn(stx); err != nil {
		r.err = err
		return
	}
	// A transaction that outlived its context is not committed.
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("store: update: %w", err)
		return
	}
	r.ok = true
}

func (s *sqliteStore) observe(ci CommitInfo) {
	if s.cfg.onCommit != nil {
		s.cfg.onCommit(ci)
	}
}

// Close waits for the write transaction in progress, if any, commits
// deferred writes, then closes the connections; a View still running
// closes its connection when it ends. Later calls fail with ErrClosed.
func (s *sqliteStore) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		for s.leading {
			idle := make(chan struct{})
			s.idle = idle
			s.mu.Unlock()
			<-idle
			s.mu.Lock()
		}
		o := s.open // deferred writes: commit them
		s.open = nil
		s.mu.Unlock()
		if o != nil {
			o.timer.Stop()
			s.commit(&writeTx{waiters: o.waiters, open: o.sqlOpen, started: o.started})
		}
		s.closed.Store(true)
		// Readers first: the last connection to close checkpoints the WAL.
		errs := s.drainReaders()
		if s.writer != nil {
			errs = append(errs, s.writer.close())
		}
		errs = append(errs, s.readerDB.Close(), s.writerDB.Close())
		if s.file != nil {
			s.file.release()
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// sqliteTx is one transaction on a sqliteStore: its connection, in a
// transaction (and, for a batched Update, a savepoint).
type sqliteTx struct {
	c        *sqlConn
	readOnly bool
	done     atomic.Bool
	// first, in a write, runs before its first statement (see runOne).
	first func() error
	// cache and touched are the writer's row cache and what this
	// transaction put in it; nil in a View.
	cache   *rowCache
	touched *touched
}

func (t *sqliteTx) check(op string, write bool) error {
	if t.done.Load() {
		return fmt.Errorf("%s: %w", op, ErrTxDone)
	}
	if write && t.readOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

// start runs t.first once, before t's first statement.
func (t *sqliteTx) start() error {
	if f := t.first; f != nil {
		t.first = nil
		return f()
	}
	return nil
}

func (t *sqliteTx) exec(query string, args ...any) (sql.Result, error) {
	if err := t.start(); err != nil {
		return nil, err
	}
	return t.c.exec(query, args...)
}

func (t *sqliteTx) query(query string, args ...any) (*sql.Rows, error) {
	if err := t.start(); err != nil {
		return nil, err
	}
	return t.c.query(query, args...)
}

func (t *sqliteTx) queryRow(query string, args ...any) scanner {
	if err := t.start(); err != nil {
		return errRow{err}
	}
	return t.c.queryRow(query, args...)
}

// errRow is a row whose query could not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// readQueries and writeQueries are what the readers and the writer prepare
// when they open.
var (
	txQueries   = []string{qBegin, qCommit, qRollback}
	readQueries = append([]string{qSessionExists, qGetSession, qGetTurn, qListTurns, qListTurnsByStatus, qListEvents,
		qListTurnEvents, qListLifecycle, qGetPermission, qGetFile, qFileData, qGetIdempotency}, txQueries...)
	writeQueries = append([]string{qInsertSession, qUpdateSession, qInsertTurn, qUpdateTurn, qInsertEvent,
		qInsertLifecycle, qInsertPermission, qUpdatePermission,
		qInsertLogEntry, qInsertArtifact, qInsertFile, qPutIdempotency,
		qBeginImmediate, qSavepoint, qRelease, qRollbackTo, qDataVersion, qMaxTurn, qMaxLifecycle,
		lifecycleInsertSQL(2)}, readQueries...)
)
