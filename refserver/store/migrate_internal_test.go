package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// A database of schema 1 is brought to the current schema on open, its
// data intact and the dropped indexes gone.
func TestMigrateFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA journal_mode = WAL", migrations[0], "PRAGMA user_version = 1",
		`INSERT INTO sessions (tenant, id, agent, status, meta, plan_slug, continued_from, parent_id, depth, context, handoff,
			final_summary, turn_count, action_count, artifact_count, last_event_seq, created_at, updated_at, last_turn_at, ended_at)
			VALUES ('t1', 's1', 'echo', 'active', 'null', '', '', '', 0, 'null', '{}', '', 3, 0, 0, 0, '', '', '', '')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	db.Close()
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx Tx) error {
		ss, err := tx.GetSession("t1", "s1")
		if err == nil && ss.TurnCount != 3 {
			t.Errorf("turn_count %d after the migration", ss.TurnCount)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var version int
	var indexes []string
	err = s.View(context.Background(), func(tx Tx) error {
		c := tx.(*sqliteTx)
		if err := c.queryRow("PRAGMA user_version").Scan(&version); err != nil {
			return err
		}
		rows, err := c.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			rows.Scan(&n)
			indexes = append(indexes, n)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Errorf("user_version %d, want %d", version, len(migrations))
	}
	if got := strings.Join(indexes, " "); strings.Contains(got, "turns_unfinished") || strings.Contains(got, "events_by_turn") ||
		!strings.Contains(got, "sessions_by_tenant") {
		t.Errorf("indexes after the migration: %s", got)
	}
}
