package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
)

// A database written by a server of schema version 2 (contract 1.1) opens
// under migration 3: its sessions, turns and events read back as they were,
// with the new fields at their zero values, and take the new records.
func TestMigration3KeepsSchema2Data(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for v, m := range migrations[:2] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", v+1, err)
		}
	}
	// Rows as the 1.1 server wrote them, through its column lists.
	for _, q := range []string{
		`PRAGMA user_version = 2`,
		`INSERT INTO sessions (tenant, id, agent, status, meta, plan_slug, continued_from, parent_id, depth, context, handoff,
			final_summary, turn_count, action_count, artifact_count, last_event_seq, created_at, updated_at, last_turn_at, ended_at)
			VALUES ('t1', 's1', 'echo', 'completed', '{"app":"x"}', '', '', '', 0, '{}', '{"summary":"","next_steps":null,"blockers":null,"context_for_next":null,"created_at":"0001-01-01T00:00:00Z"}',
			'', 1, 0, 0, 1, '2026-01-02T03:04:05Z', '2026-01-02T03:04:06Z', '2026-01-02T03:04:05Z', '2026-01-02T03:04:07Z')`,
		`INSERT INTO turns (tenant, session_id, idx, prompt, files, busy_policy, timeout_ms, status, stop_reason, cancelled_by,
			usage, event_count, first_seq, last_seq, created_at, started_at, ended_at)
			VALUES ('t1', 's1', 1, 'hi', 'null', 'reject', 600000, 'completed', 'end_turn', '', '{}', 1, 1, 1,
			'2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z', '2026-01-02T03:04:06Z')`,
		`INSERT INTO events (tenant, session_id, seq, turn_index, event)
			VALUES ('t1', 's1', 1, 1, '{"content":"hi","created_at":"2026-01-02T03:04:05Z","seq":1,"turn_index":1,"type":"text"}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite of a schema-2 file: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	at := func(sec int) time.Time { return time.Date(2026, 1, 2, 3, 4, sec, 0, time.UTC) }
	err = s.View(ctx, func(tx Tx) error {
		sess, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		want := &Session{Tenant: "t1", ID: "s1", Agent: "echo", Status: gen.SessionStatusCompleted, Meta: map[string]any{"app": "x"},
			Context: map[string]any{}, TurnCount: 1, LastEventSeq: 1, CreatedAt: at(5), UpdatedAt: at(6), LastTurnAt: at(5),
			EndedAt: at(7), Ord: sess.Ord}
		if diff := cmp.Diff(want, sess); diff != "" {
			t.Errorf("the schema-2 session (-want +got):\n%s", diff)
		}
		tr, err := tx.GetTurn("t1", "s1", 1)
		if err != nil {
			return err
		}
		if tr.Meta != nil || tr.Prompt != "hi" || tr.StopReason != gen.StopReasonEndTurn {
			t.Errorf("the schema-2 turn: %+v", tr)
		}
		evs, _, err := tx.ListEvents("t1", "s1", EventQuery{})
		if err != nil || len(evs) != 1 || evs[0].Content != "hi" {
			t.Errorf("the schema-2 events: %+v, %v", evs, err)
		}
		lc, _, err := tx.ListLifecycleEvents("t1", "s1", LifecycleQuery{})
		if err != nil || len(lc) != 0 {
			t.Errorf("lifecycle events of a schema-2 session: %+v, %v", lc, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The migrated file takes the new records and fields.
	err = s.Update(ctx, func(tx Tx) error {
		sess, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		sess.EndReason, sess.AgentOptions, sess.LastLifecycleSeq = gen.EndReasonClosed, map[string]any{"prefix": ">"}, 1
		if err := tx.UpdateSession(sess); err != nil {
			return err
		}
		if err := tx.AppendLifecycleEvent("t1", "s1", gen.LifecycleEvent{LifecycleSeq: 1, AfterSeq: 1,
			Type: gen.LifecycleEventTypeStatusChanged, Status: gen.SessionStatusCompleted, CreatedAt: at(8)}); err != nil {
			return err
		}
		return tx.CreatePermissionRequest(&PermissionRequest{Tenant: "t1", SessionID: "s1", RequestID: "p1", TurnIndex: 1,
			Title: "t", Options: []gen.PermissionOption{}, Status: gen.PermissionStatusCancelled, CreatedAt: at(8)})
	})
	if err != nil {
		t.Fatalf("writing 1.2 records to the migrated file: %v", err)
	}
	var version int
	err = s.View(ctx, func(tx Tx) error {
		sess, err := tx.GetSession("t1", "s1")
		if err == nil && (sess.EndReason != gen.EndReasonClosed || sess.AgentOptions["prefix"] != ">") {
			t.Errorf("the session after the update: %+v", sess)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) || version < 3 {
		t.Errorf("user_version %d after migrating, want %d", version, len(migrations))
	}
}
