package store_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
	"github.com/agentsession/agentsession/refserver/store/storetest"
)

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	})
}

func mustUpdate(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func testSession(tenant, id string) *store.Session {
	now := time.Now()
	return &store.Session{Tenant: tenant, ID: id, Agent: "echo", Status: gen.SessionStatusActive, CreatedAt: now, UpdatedAt: now}
}

// Every record type survives Close and reopen, and Ords keep growing.
func TestSQLitePersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openSQLite(t, path)
	storetest.Seed(t, s)
	var lastOrd, lastLog int64
	mustUpdate(t, s, func(tx store.Tx) error {
		ss := testSession("t1", "s2")
		if err := tx.CreateSession(ss); err != nil {
			return err
		}
		lastOrd = ss.Ord
		var err error
		lastLog, err = tx.AddLogEntry("t1", gen.LogEntry{SessionID: "s2", Type: gen.LogEntryTypeInfo})
		return err
	})
	before := storetest.Snapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openSQLite(t, path)
	if diff := cmp.Diff(before, storetest.Snapshot(t, s)); diff != "" {
		t.Errorf("after reopen (-before +after):\n%s", diff)
	}
	for _, want := range []string{"t1/s1", "t1/s2", "t2/s1"} {
		found := false
		for _, ss := range before.Sessions {
			found = found || ss.Tenant+"/"+ss.ID == want
		}
		if !found {
			t.Errorf("snapshot lacks session %s: the test checks nothing", want)
		}
	}
	if len(before.Turns["t1/s1"]) == 0 || len(before.Events["t1/s1"]) == 0 || len(before.Logs["t1/s1"]) == 0 ||
		len(before.Artifacts["t1/s1"]) == 0 || len(before.FileData) == 0 || len(before.Idem) == 0 {
		t.Errorf("snapshot misses a record type: %+v", before)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		ss := testSession("t1", "s3")
		if err := tx.CreateSession(ss); err != nil {
			return err
		}
		if ss.Ord <= lastOrd {
			t.Errorf("Ord after reopen = %d, want > %d", ss.Ord, lastOrd)
		}
		ord, err := tx.AddLogEntry("t1", gen.LogEntry{SessionID: "s3", Type: gen.LogEntryTypeInfo})
		if ord <= lastLog {
			t.Errorf("log Ord after reopen = %d, want > %d", ord, lastLog)
		}
		return err
	})
}

// A committed Update is on disk without Close: a second store on the same
// file (as after a crash and restart) sees it.
func TestSQLiteCommittedWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	crashed := openSQLite(t, path)
	mustUpdate(t, crashed, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	restarted := openSQLite(t, path)
	err := restarted.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetSession("t1", "s1")
		return err
	})
	if err != nil {
		t.Fatalf("session written before the 'crash': %v", err)
	}
	mustUpdate(t, restarted, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s2")) })
}

func schemaOf(t *testing.T, path string) (version int, schema string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		b.WriteString(typ + " " + name + ": " + text + "\n")
	}
	return version, b.String()
}

func TestSQLiteSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openSQLite(t, path)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	s.Close()
	version, schema := schemaOf(t, path)
	if version < 1 {
		t.Fatalf("user_version = %d, want >= 1", version)
	}
	for _, table := range []string{"sessions", "turns", "events", "log_entries", "artifacts", "files", "idempotency"} {
		if !strings.Contains(schema, "table "+table+":") {
			t.Errorf("schema has no table %s:\n%s", table, schema)
		}
	}

	t.Run("reopen is a no-op", func(t *testing.T) {
		s := openSQLite(t, path)
		s.Close()
		v2, schema2 := schemaOf(t, path)
		if v2 != version {
			t.Errorf("user_version %d after reopen, want %d", v2, version)
		}
		if diff := cmp.Diff(schema, schema2); diff != "" {
			t.Errorf("schema changed on reopen (-before +after):\n%s", diff)
		}
	})

	t.Run("newer schema is refused", func(t *testing.T) {
		newer := filepath.Join(t.TempDir(), "newer.db")
		db, err := sql.Open("sqlite", newer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err := store.OpenSQLite(newer)
		if err == nil {
			s.Close()
			t.Fatal("OpenSQLite of a newer schema: no error")
		}
		if !strings.Contains(err.Error(), "999") {
			t.Errorf("error %q does not name the version", err)
		}
	})

	t.Run("not a database", func(t *testing.T) {
		junk := filepath.Join(t.TempDir(), "junk.db")
		if err := os.WriteFile(junk, []byte(strings.Repeat("not sqlite ", 100)), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := store.OpenSQLite(junk)
		if err == nil {
			s.Close()
			t.Fatal("OpenSQLite of a junk file: no error")
		}
		if !strings.Contains(err.Error(), junk) {
			t.Errorf("error %q does not name the file", err)
		}
	})
}

func TestSQLiteBadPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "dir", "store.db")
	_, err := store.OpenSQLite(missing)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, "no", "such", "dir")+" does not exist") {
		t.Errorf("missing directory: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenSQLite created the missing directory: %v", err)
	}
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := store.OpenSQLite(p); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q): no error", p)
		}
	}
	// A path with characters that mean something in a URI works.
	odd := filepath.Join(dir, "a b?c#d%20.db")
	s := openSQLite(t, odd)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	s.Close()
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("database not at %q: %v", odd, err)
	}
}

func TestSQLiteIndependentStores(t *testing.T) {
	dir := t.TempDir()
	a := openSQLite(t, filepath.Join(dir, "a.db"))
	b := openSQLite(t, filepath.Join(dir, "b.db"))
	mustUpdate(t, a, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	err := b.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetSession("t1", "s1")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("b sees a's session: err = %v", err)
	}
	// Same key in b is its own record; closing a leaves b working.
	mustUpdate(t, b, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	mustUpdate(t, b, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s2")) })
}

// Readers never wait for the writer and never see its uncommitted work; a
// second writer waits, and gives up when its ctx ends.
func TestSQLiteReadersDoNotBlock(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "s1")) })

	inside, release := make(chan struct{}), make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		writerDone <- s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.CreateSession(testSession("t1", "uncommitted")); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside

	err := s.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.GetSession("t1", "s1"); err != nil {
			return err
		}
		if _, err := tx.GetSession("t1", "uncommitted"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("reader saw uncommitted work: err = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("View while a writer is open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Update(ctx, func(tx store.Tx) error { return tx.CreateSession(testSession("t1", "second")) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second writer: err = %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.GetSession("t1", "uncommitted"); err != nil {
			return err
		}
		_, err := tx.GetSession("t1", "second")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("timed-out writer committed: err = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
