package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// commits records the SQLite store's write transactions.
type commits struct {
	mu  sync.Mutex
	all []store.CommitInfo
}

func (c *commits) observe(ci store.CommitInfo) {
	c.mu.Lock()
	c.all = append(c.all, ci)
	c.mu.Unlock()
}

func (c *commits) snapshot() []store.CommitInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]store.CommitInfo(nil), c.all...)
}

func openObserved(t *testing.T, opts ...store.SQLiteOption) (store.Store, *commits) {
	t.Helper()
	c := &commits{}
	s, err := store.OpenSQLite(filepath.Join(t.TempDir(), "store.db"), append(opts, store.WithCommitObserver(c.observe))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func sessionExists(t *testing.T, s store.Store, tenant, id string) bool {
	t.Helper()
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.GetSession(tenant, id); return err })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// Concurrent writes are committed in groups, and each caller returns only
// once its own writes are committed; a failing write loses only its own.
func TestSQLiteGroupCommit(t *testing.T) {
	s, c := openObserved(t)
	const writers = 32
	hold := make(chan struct{})
	first := make(chan struct{})
	go func() { // keeps the writer busy so that the others queue up
		s.Update(context.Background(), func(tx store.Tx) error {
			close(first)
			<-hold
			return tx.CreateSession(testSession("t1", "first"))
		})
	}()
	<-first
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.CreateSession(testSession("t1", fmt.Sprint("s", i))); err != nil {
					return err
				}
				if i%4 == 3 {
					return errBoom
				}
				return nil
			})
			// Returned: committed, so a reader sees it.
			if errs[i] == nil && !sessionExists(t, s, "t1", fmt.Sprint("s", i)) {
				t.Errorf("writer %d returned before its commit", i)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the first
	close(hold)
	wg.Wait()
	for i, err := range errs {
		want := error(nil)
		if i%4 == 3 {
			want = errBoom
		}
		if !errors.Is(err, want) && err != want {
			t.Errorf("writer %d: %v, want %v", i, err, want)
		}
		if got := sessionExists(t, s, "t1", fmt.Sprint("s", i)); got != (want == nil) {
			t.Errorf("session of writer %d exists = %v", i, got)
		}
	}
	total, biggest := 0, 0
	for _, ci := range c.snapshot() {
		if ci.Err != nil {
			t.Errorf("commit error %v", ci.Err)
		}
		total += ci.Updates
		biggest = max(biggest, ci.Updates)
	}
	if total != 1+writers-writers/4 {
		t.Errorf("%d writes committed, want %d", total, 1+writers-writers/4)
	}
	if biggest < 2 {
		t.Errorf("no two writes were committed together: %+v", c.snapshot())
	}
}

// A panicking write in a group is re-raised in its own caller; the others
// of the group are committed.
func TestSQLiteGroupCommitPanic(t *testing.T) {
	s, _ := openObserved(t)
	hold, first := make(chan struct{}), make(chan struct{})
	go s.Update(context.Background(), func(tx store.Tx) error { close(first); <-hold; return nil })
	<-first
	var wg sync.WaitGroup
	wg.Add(2)
	var recovered any
	go func() {
		defer wg.Done()
		defer func() { recovered = recover() }()
		s.Update(context.Background(), func(tx store.Tx) error {
			tx.CreateSession(testSession("t1", "panics"))
			panic(errBoom)
		})
	}()
	var err error
	go func() {
		defer wg.Done()
		err = s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "fine")) })
	}()
	time.Sleep(50 * time.Millisecond)
	close(hold)
	wg.Wait()
	if recovered != errBoom {
		t.Errorf("recovered %v, want the panic value in the panicking caller", recovered)
	}
	if err != nil || !sessionExists(t, s, "t1", "fine") || sessionExists(t, s, "t1", "panics") {
		t.Errorf("err %v; fine exists %v, panics exists %v", err, sessionExists(t, s, "t1", "fine"), sessionExists(t, s, "t1", "panics"))
	}
}

// A deferred write returns before its commit; the next write commits both
// in one transaction; wait then reports the commit.
func TestSQLiteUpdateDeferredJoinsTheNextWrite(t *testing.T) {
	s, c := openObserved(t)
	ctx := context.Background()
	wait, err := store.UpdateDeferred(s, ctx, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "deferred")) }, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if sessionExists(t, s, "t1", "deferred") {
		t.Fatal("a reader sees the deferred write before its commit")
	}
	// The next write sees the deferred one (same transaction), and commits it.
	mustUpdate(t, s, func(tx store.Tx) error {
		ss, err := tx.GetSession("t1", "deferred")
		if err != nil {
			return err
		}
		ss.TurnCount = 7
		return tx.UpdateSession(ss)
	})
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if !sessionExists(t, s, "t1", "deferred") {
		t.Fatal("the deferred write is not committed")
	}
	all := c.snapshot()
	if len(all) != 1 || all[0].Updates != 2 {
		t.Errorf("commits %+v, want one of 2 writes", all)
	}
}

// Alone, a deferred write is committed by its timer.
func TestSQLiteUpdateDeferredTimer(t *testing.T) {
	s, c := openObserved(t)
	start := time.Now()
	wait, err := store.UpdateDeferred(s, context.Background(), func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) }, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("committed after %v, before its delay: not deferred", d)
	}
	if !sessionExists(t, s, "t1", "s1") || len(c.snapshot()) != 1 {
		t.Errorf("commits %+v", c.snapshot())
	}
}

// A deferred write whose fn fails returns the error at once and keeps
// nothing; a failing write after a deferred one does not undo it.
func TestSQLiteUpdateDeferredFailures(t *testing.T) {
	s, _ := openObserved(t)
	ctx := context.Background()
	_, err := store.UpdateDeferred(s, ctx, func(tx store.Tx) error {
		tx.CreateSession(testSession("t1", "lost"))
		return errBoom
	}, time.Minute)
	if !errors.Is(err, errBoom) {
		t.Fatalf("err %v, want the fn's", err)
	}
	wait, err := store.UpdateDeferred(s, ctx, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "kept")) }, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		tx.CreateSession(testSession("t1", "also lost"))
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err %v", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return nil }) // commits the open transaction
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"lost": false, "kept": true, "also lost": false} {
		if got := sessionExists(t, s, "t1", id); got != want {
			t.Errorf("session %q exists = %v, want %v", id, got, want)
		}
	}
}

// Close commits deferred writes.
func TestSQLiteUpdateDeferredClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	wait, err := store.UpdateDeferred(s, context.Background(), func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) }, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if !sessionExists(t, openSQLite(t, path), "t1", "s1") {
		t.Error("the deferred write was lost at Close")
	}
}

// The memory store has no deferred writes: UpdateDeferred is Update.
func TestUpdateDeferredOnMemory(t *testing.T) {
	s := store.NewMemory()
	wait, err := store.UpdateDeferred(s, context.Background(), func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) }, time.Hour)
	if err != nil || wait() != nil || !sessionExists(t, s, "t1", "s1") {
		t.Errorf("err %v", err)
	}
}

// The writer's row cache follows writes by another store on the same file
// (data_version), and rollbacks.
func TestSQLiteRowCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	a := openSQLite(t, path)
	mustUpdate(t, a, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	count := func(s store.Store) (n int) {
		mustUpdate(t, s, func(tx store.Tx) error { // a write transaction: read from the cache
			ss, err := tx.GetSession("t1", "s1")
			n = ss.TurnCount
			return err
		})
		return n
	}
	set := func(s store.Store, n int, fail bool) {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			ss, err := tx.GetSession("t1", "s1")
			if err != nil {
				return err
			}
			ss.TurnCount = n
			if err := tx.UpdateSession(ss); err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatal(err)
		}
	}
	set(a, 1, false)
	set(a, 2, true) // rolled back: the cache must not keep 2
	if n := count(a); n != 1 {
		t.Fatalf("after a rolled-back write: turn_count %d, want 1", n)
	}
	b := openSQLite(t, path) // another store on the file
	set(b, 5, false)
	if n := count(a); n != 5 {
		t.Errorf("after another store's write: turn_count %d, want 5", n)
	}
	set(a, 6, false)
	if n := count(b); n != 6 {
		t.Errorf("the other store reads turn_count %d, want 6", n)
	}
	// Only changed columns are written, but every column round-trips.
	now := time.Now().UTC()
	mustUpdate(t, a, func(tx store.Tx) error {
		ss, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		ss.Meta = map[string]any{"k": []any{1.0, "two"}}
		ss.Handoff = gen.Handoff{Summary: "h", NextSteps: []string{}, CreatedAt: now}
		ss.EndedAt = now
		return tx.UpdateSession(ss)
	})
	view(t, b, func(tx store.Tx) error {
		ss, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		if ss.TurnCount != 6 || ss.Handoff.Summary != "h" || ss.Handoff.NextSteps == nil || !ss.EndedAt.Equal(now) || ss.Meta["k"].([]any)[1] != "two" {
			t.Errorf("read back %+v", ss)
		}
		return nil
	})
}

var errBoom = errors.New("boom")

func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// A session's changes from several writes of one transaction reach the
// database together; a failing write among them loses only its own, and
// queries inside the transaction see them all.
func TestSQLiteSessionChangesInOneTransaction(t *testing.T) {
	s, c := openObserved(t)
	ctx := context.Background()
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	change := func(fn func(*store.Session)) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			ss, err := tx.GetSession("t1", "s1")
			if err != nil {
				return err
			}
			fn(ss)
			return tx.UpdateSession(ss)
		}
	}
	wait, err := store.UpdateDeferred(s, ctx, change(func(ss *store.Session) { ss.TurnCount = 1 }), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wait2, err := store.UpdateDeferred(s, ctx, change(func(ss *store.Session) { ss.PlanSlug = "plan" }), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Fails after changing the session: only its change is lost.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := change(func(ss *store.Session) { ss.TurnCount, ss.FinalSummary = 99, "lost" })(tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	// Queries see the changes not yet written.
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := change(func(ss *store.Session) { ss.Status = gen.SessionStatusPaused })(tx); err != nil {
			return err
		}
		n, err := tx.CountSessions("t1", store.SessionQuery{Statuses: []gen.SessionStatus{gen.SessionStatusPaused}, PlanSlug: "plan"})
		if err != nil || n != 1 {
			t.Errorf("CountSessions inside the transaction = %d, %v; want 1", n, err)
		}
		list, _, err := tx.ListSessions("t1", store.SessionQuery{})
		if err != nil || len(list) != 1 || list[0].TurnCount != 1 || list[0].Status != gen.SessionStatusPaused {
			t.Errorf("ListSessions inside the transaction = %+v, %v", list, err)
		}
		return nil
	})
	if wait() != nil || wait2() != nil {
		t.Fatal("deferred writes not committed")
	}
	view(t, s, func(tx store.Tx) error {
		ss, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		if ss.TurnCount != 1 || ss.PlanSlug != "plan" || ss.Status != gen.SessionStatusPaused || ss.FinalSummary != "" {
			t.Errorf("after the commit: %+v", ss)
		}
		return nil
	})
	for _, ci := range c.snapshot() {
		if ci.Err != nil {
			t.Errorf("commit error: %v", ci.Err)
		}
	}
}

// A new turn is inserted with the transaction's other writes; until then
// the transaction sees it, duplicates are refused, and a failing write
// takes its turn away.
func TestSQLiteTurnsInsertedAtCommit(t *testing.T) {
	s, _ := openObserved(t)
	ctx := context.Background()
	newTurn := func(i int) *store.Turn {
		return &store.Turn{Tenant: "t1", SessionID: "s1", Index: i, Prompt: fmt.Sprint("p", i), BusyPolicy: gen.BusyPolicyReject,
			Status: gen.TurnStatusRunning, CreatedAt: time.Now()}
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.CreateTurn(newTurn(1)); err != nil {
			return err
		}
		if err := tx.CreateTurn(newTurn(1)); !errors.Is(err, store.ErrExists) {
			t.Errorf("second CreateTurn of index 1 in the transaction: %v, want ErrExists", err)
		}
		tr, err := tx.GetTurn("t1", "s1", 1)
		if err != nil || tr.Prompt != "p1" {
			t.Errorf("GetTurn of the new turn: %+v, %v", tr, err)
		}
		tr.Status, tr.StopReason, tr.EventCount = gen.TurnStatusCompleted, gen.StopReasonEndTurn, 2
		if err := tx.UpdateTurn(tr); err != nil {
			return err
		}
		list, _, err := tx.ListTurns("t1", "s1", store.TurnQuery{})
		if err != nil || len(list) != 1 || list[0].StopReason != gen.StopReasonEndTurn {
			t.Errorf("ListTurns inside the transaction: %+v, %v", list, err)
		}
		return tx.CreateTurn(newTurn(2))
	})
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateTurn(newTurn(2)) }); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateTurn of committed index 2: %v, want ErrExists", err)
	}
	// A failing write's turn is gone, and its index free again.
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateTurn(newTurn(3)); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	wait, err := store.UpdateDeferred(s, ctx, func(tx store.Tx) error { return tx.CreateTurn(newTurn(3)) }, time.Minute)
	if err != nil {
		t.Fatalf("CreateTurn of index 3 after its rollback: %v", err)
	}
	// A write joining the deferred one fails: turn 3 stays.
	if err := s.Update(ctx, func(tx store.Tx) error {
		tr, err := tx.GetTurn("t1", "s1", 3)
		if err != nil {
			return err
		}
		tr.Prompt = "changed"
		if err := tx.UpdateTurn(tr); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return nil })
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	// Below the largest index, a free index still works.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateTurn(newTurn(7)) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateTurn(newTurn(5)) })
	view(t, s, func(tx store.Tx) error {
		list, _, err := tx.ListTurns("t1", "s1", store.TurnQuery{})
		if err != nil {
			return err
		}
		var got []string
		for _, tr := range list {
			got = append(got, fmt.Sprint(tr.Index, ":", tr.Prompt, ":", tr.Status))
		}
		want := []string{"1:p1:completed", "2:p2:running", "3:p3:running", "5:p5:running", "7:p7:running"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("turns %v, want %v", got, want)
		}
		return nil
	})
}

// Another store's turns on the same file are seen (data_version): an
// index it took is not taken again.
func TestSQLiteTurnsOfAnotherStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	turn := func(i int) *store.Turn {
		return &store.Turn{Tenant: "t1", SessionID: "s1", Index: i, Status: gen.TurnStatusQueued, CreatedAt: time.Now()}
	}
	mustUpdate(t, a, func(tx store.Tx) error {
		if err := tx.CreateSession(testSession("t1", "s1")); err != nil {
			return err
		}
		return tx.CreateTurn(turn(1))
	})
	mustUpdate(t, b, func(tx store.Tx) error { return tx.CreateTurn(turn(2)) })
	if err := a.Update(context.Background(), func(tx store.Tx) error { return tx.CreateTurn(turn(2)) }); !errors.Is(err, store.ErrExists) {
		t.Errorf("index 2, taken by the other store: %v, want ErrExists", err)
	}
	mustUpdate(t, a, func(tx store.Tx) error { return tx.CreateTurn(turn(3)) })
}
