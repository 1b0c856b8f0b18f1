// Package storetest is the one test suite every store.Store implementation
// must pass. An implementation's tests call Run with a function that opens a
// fresh, empty store:
//
//	func TestMemory(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := store.NewMemory()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// Run runs the whole suite; open must return a new, empty store each time
// and arrange for it to be closed (Run also closes some stores itself, so
// Close must be safe to call twice).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Sessions", testSessions},
		{"Turns", testTurns},
		{"Events", testEvents},
		{"LifecycleEvents", testLifecycleEvents},
		{"TurnLifecycleEvents", testTurnLifecycleEvents},
		{"PermissionRequests", testPermissionRequests},
		{"TurnsByStatus", testTurnsByStatus},
		{"LogEntries", testLogEntries},
		{"Artifacts", testArtifacts},
		{"Files", testFiles},
		{"Idempotency", testIdempotency},
		{"Normalization", testNormalization},
		{"TenantIsolation", testTenantIsolation},
		{"PagingSessions", testPagingSessions},
		{"PagingTurns", testPagingTurns},
		{"PagingEvents", testPagingEvents},
		{"PagingLogEntries", testPagingLogEntries},
		{"PagingArtifacts", testPagingArtifacts},
		{"PagingLifecycleEvents", testPagingLifecycleEvents},
		{"PagingPermissionRequests", testPagingPermissionRequests},
		{"Rollback", testRollback},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ReadOnly", testReadOnly},
		{"TxDone", testTxDone},
		{"CopiesOut", testCopiesOut},
		{"CopiesIn", testCopiesIn},
		{"UnfinishedTurns", testUnfinishedTurns},
		{"Concurrency", testConcurrency},
		{"ContextCancelled", testContextCancelled},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// --- fixtures and helpers ---

// base is a fixed instant with nanoseconds, in a non-UTC zone, so that the
// suite checks times round-trip exactly.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*3600))

func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

func ptr[T any](v T) *T { return &v }

var errBoom = errors.New("storetest: boom")

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// fullSession has every field set.
func fullSession(tenant, id string) *store.Session {
	return &store.Session{
		Tenant:        tenant,
		ID:            id,
		Agent:         "echo",
		Status:        gen.SessionStatusActive,
		Meta:          map[string]any{"team": "core", "n": 3.0, "tags": []any{"a", "b"}, "nested": map[string]any{"x": true, "y": nil}},
		PlanSlug:      "plan-1",
		ContinuedFrom: "sess_prev",
		ParentID:      "sess_parent",
		Depth:         1,
		Context:       map[string]any{"goal": "ship", "files": []any{"a.go"}},
		Handoff: gen.Handoff{
			Summary:        "half done",
			NextSteps:      []string{"test", "ship"},
			Blockers:       []string{},
			ContextForNext: map[string]any{"branch": "main"},
			CreatedAt:      at(5),
		},
		FinalSummary:     "done",
		TurnCount:        4,
		ActionCount:      5,
		ArtifactCount:    6,
		LastEventSeq:     7,
		CreatedAt:        at(0),
		UpdatedAt:        at(1),
		LastTurnAt:       at(2),
		EndedAt:          at(3),
		EndReason:        gen.EndReasonParentClosed,
		AgentOptions:     map[string]any{"model": "fast", "budget": 2.5, "verbose": false},
		LastLifecycleSeq: 8,
	}
}

func newSession(tenant, id string) *store.Session {
	return &store.Session{Tenant: tenant, ID: id, Agent: "echo", Status: gen.SessionStatusActive, CreatedAt: at(0), UpdatedAt: at(0)}
}

func fullTurn(tenant, sessionID string, index int) *store.Turn {
	return &store.Turn{
		Tenant:      tenant,
		SessionID:   sessionID,
		Index:       index,
		Prompt:      "hello",
		Files:       []string{"file_1", "file_2"},
		BusyPolicy:  gen.BusyPolicyEnqueue,
		TimeoutMs:   30000,
		Status:      gen.TurnStatusCompleted,
		StopReason:  gen.StopReasonCancelled,
		CancelledBy: gen.CancelledByTimeout,
		Usage:       gen.Usage{InputTokens: ptr[int64](10), OutputTokens: ptr[int64](20)},
		EventCount:  2,
		FirstSeq:    1,
		LastSeq:     2,
		CreatedAt:   at(10),
		StartedAt:   at(11),
		EndedAt:     at(12),
		Meta:        map[string]any{"ticket": "OPS-42", "n": 1.0, "tags": []any{"a"}},
	}
}

func newTurn(tenant, sessionID string, index int, status gen.TurnStatus) *store.Turn {
	return &store.Turn{Tenant: tenant, SessionID: sessionID, Index: index, Prompt: "p", Status: status, BusyPolicy: gen.BusyPolicyReject, CreatedAt: at(index)}
}

func fullEvent(seq int64, turn int32) gen.Event {
	return gen.Event{
		Seq:        seq,
		TurnIndex:  turn,
		Type:       gen.EventTypeToolCall,
		Content:    "calling",
		Name:       "read_file",
		ToolCallID: "call_1",
		Status:     gen.ToolCallStatusInProgress,
		Args:       gen.JSONObject{"path": "a.go", "opts": map[string]any{"n": 2.0}},
		Data:       gen.JSONObject{"k": []any{1.0, "two"}},
		Result:     []any{"ok", 1.5, nil, map[string]any{"z": false}},
		CreatedAt:  at(20 + int(seq)),
	}
}

// permissionEvent is a permission_request event, every member set.
func permissionEvent(seq int64, turn int32) gen.Event {
	return gen.Event{Seq: seq, TurnIndex: turn, Type: gen.EventTypePermissionRequest, RequestID: "perm_1", ToolCallID: "call_1",
		Title: "Deploy?", Options: []gen.PermissionOption{{OptionID: "yes", Name: "Yes", Kind: gen.PermissionOptionKindAllowOnce}},
		CreatedAt: at(20 + int(seq))}
}

func lifecycleEvent(seq, after int64, typ gen.LifecycleEventType) gen.LifecycleEvent {
	return gen.LifecycleEvent{LifecycleSeq: seq, AfterSeq: after, Type: typ, TurnIndex: 1, CreatedAt: at(int(seq))}
}

// fullPermission has every field set.
func fullPermission(tenant, sessionID, id string, turn int) *store.PermissionRequest {
	return &store.PermissionRequest{
		Tenant: tenant, SessionID: sessionID, RequestID: id, TurnIndex: turn, ToolCallID: "call_7", Title: "Drop the table?",
		Options: []gen.PermissionOption{
			{OptionID: "allow", Name: "Allow", Kind: gen.PermissionOptionKindAllowOnce},
			{OptionID: "deny", Name: "Deny", Kind: gen.PermissionOptionKindRejectAlways},
		},
		Status: gen.PermissionStatusAnswered, Outcome: gen.PermissionOutcomeSelected, OptionID: "allow",
		CreatedAt: at(70), AnsweredAt: at(71),
	}
}

func pendingPermission(tenant, sessionID, id string, turn int) *store.PermissionRequest {
	return &store.PermissionRequest{Tenant: tenant, SessionID: sessionID, RequestID: id, TurnIndex: turn, Title: "t",
		Options: []gen.PermissionOption{{OptionID: "o", Name: "O", Kind: gen.PermissionOptionKindAllowOnce}},
		Status:  gen.PermissionStatusPending, CreatedAt: at(72)}
}

func textEvent(seq int64, turn int32) gen.Event {
	return gen.Event{Seq: seq, TurnIndex: turn, Type: gen.EventTypeText, Content: fmt.Sprint("text ", seq), CreatedAt: at(int(seq))}
}

func logEntry(sessionID, id string, typ gen.LogEntryType) gen.LogEntry {
	return gen.LogEntry{ID: id, SessionID: sessionID, Type: typ, Message: "msg " + id, Data: map[string]any{"id": id}, CreatedAt: at(30)}
}

func artifact(sessionID, id string, action gen.ArtifactAction) gen.Artifact {
	return gen.Artifact{ID: id, SessionID: sessionID, Path: "dir/" + id, Action: action, Metadata: map[string]any{"id": id}, CreatedAt: at(40)}
}

func file(token string, data []byte) gen.File {
	return gen.File{FileToken: token, Filename: token + ".txt", ContentType: "text/plain", SizeBytes: int64(len(data)), SHA256: "00ff", CreatedAt: at(50)}
}

func idem(tenant, op, key string) *store.Idempotency {
	return &store.Idempotency{Tenant: tenant, Operation: op, Key: key, RequestHash: "h-" + key, StatusCode: 201, Body: []byte(`{"ok":true}`), SessionID: "s1", TurnIndex: 2, CreatedAt: at(60)}
}

// --- CRUD ---

func testSessions(t *testing.T, s store.Store) {
	in := fullSession("t1", "s1")
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(in) })
	if in.Ord <= 0 {
		t.Fatalf("CreateSession set Ord = %d, want > 0", in.Ord)
	}
	want := fullSession("t1", "s1")
	want.Ord = in.Ord
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetSession (-want +got):\n%s", diff)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
		}
		return nil
	})

	// Update replaces every field but Ord.
	second := newSession("t1", "s2")
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(second) })
	if second.Ord <= in.Ord {
		t.Errorf("second Ord = %d, want > %d", second.Ord, in.Ord)
	}
	changed := newSession("t1", "s1")
	changed.Status = gen.SessionStatusCompleted
	changed.Ord = 999
	update(t, s, func(tx store.Tx) error { return tx.UpdateSession(changed) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		want := newSession("t1", "s1")
		want.Status = gen.SessionStatusCompleted
		want.Ord = in.Ord
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after UpdateSession (-want +got):\n%s", diff)
		}
		if !got.Ended() {
			t.Error("Ended() = false for a completed session")
		}
		return nil
	})

	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	wantErr(t, "CreateSession duplicate", err, store.ErrExists)
	err = s.Update(context.Background(), func(tx store.Tx) error { return tx.UpdateSession(newSession("t1", "nope")) })
	wantErr(t, "UpdateSession missing", err, store.ErrNotFound)
	err = s.View(context.Background(), func(tx store.Tx) error { _, err := tx.GetSession("t1", "nope"); return err })
	wantErr(t, "GetSession missing", err, store.ErrNotFound)
}

func testTurns(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	update(t, s, func(tx store.Tx) error { return tx.CreateTurn(fullTurn("t1", "s1", 1)) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetTurn("t1", "s1", 1)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(fullTurn("t1", "s1", 1), got); diff != "" {
			t.Errorf("GetTurn (-want +got):\n%s", diff)
		}
		return nil
	})
	changed := newTurn("t1", "s1", 1, gen.TurnStatusRunning)
	update(t, s, func(tx store.Tx) error { return tx.UpdateTurn(changed) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetTurn("t1", "s1", 1)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(newTurn("t1", "s1", 1, gen.TurnStatusRunning), got); diff != "" {
			t.Errorf("after UpdateTurn (-want +got):\n%s", diff)
		}
		return nil
	})

	ctx := context.Background()
	wantErr(t, "CreateTurn duplicate index", s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateTurn(newTurn("t1", "s1", 1, gen.TurnStatusQueued))
	}), store.ErrExists)
	wantErr(t, "CreateTurn missing session", s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateTurn(newTurn("t1", "nope", 1, gen.TurnStatusQueued))
	}), store.ErrNotFound)
	wantErr(t, "UpdateTurn missing index", s.Update(ctx, func(tx store.Tx) error {
		return tx.UpdateTurn(newTurn("t1", "s1", 2, gen.TurnStatusQueued))
	}), store.ErrNotFound)
	wantErr(t, "GetTurn missing index", s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetTurn("t1", "s1", 2)
		return err
	}), store.ErrNotFound)
	wantErr(t, "ListTurns missing session", s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.ListTurns("t1", "nope", store.TurnQuery{})
		return err
	}), store.ErrNotFound)
}

func testEvents(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	want := []gen.Event{fullEvent(1, 1), textEvent(2, 1), {Seq: 3, TurnIndex: 2, Type: "some_future_type", CreatedAt: at(3)},
		permissionEvent(4, 2),
		{Seq: 5, TurnIndex: 2, Type: gen.EventTypePermissionResponse, RequestID: "perm_1", Outcome: gen.PermissionOutcomeSelected, OptionID: "yes", CreatedAt: at(5)}}
	update(t, s, func(tx store.Tx) error {
		for _, ev := range want {
			if err := tx.AppendEvent("t1", "s1", ev); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListEvents("t1", "s1", store.EventQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListEvents (-want +got):\n%s", diff)
		}
		if next != 0 {
			t.Errorf("next = %d, want 0", next)
		}
		return nil
	})
	ctx := context.Background()
	wantErr(t, "AppendEvent duplicate seq", s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendEvent("t1", "s1", textEvent(2, 3))
	}), store.ErrExists)
	wantErr(t, "AppendEvent missing session", s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendEvent("t1", "nope", textEvent(1, 1))
	}), store.ErrNotFound)
	wantErr(t, "ListEvents missing session", s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.ListEvents("t1", "nope", store.EventQuery{})
		return err
	}), store.ErrNotFound)
}

func testLifecycleEvents(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	want := []gen.LifecycleEvent{
		lifecycleEvent(1, 0, gen.LifecycleEventTypeTurnStarted),
		{LifecycleSeq: 2, AfterSeq: 3, Type: gen.LifecycleEventTypeTurnQueued, TurnIndex: 2, QueuePosition: 1, CreatedAt: at(2)},
		{LifecycleSeq: 3, AfterSeq: 5, Type: gen.LifecycleEventTypeTurnEnded, TurnIndex: 1, StopReason: gen.StopReasonCancelled, CreatedAt: at(3)},
		{LifecycleSeq: 4, AfterSeq: 5, Type: gen.LifecycleEventTypeStatusChanged, Status: gen.SessionStatusPaused, CreatedAt: at(4)},
		{LifecycleSeq: 5, AfterSeq: 5, Type: gen.LifecycleEventTypeChildSpawned, ChildSessionID: "sess_c", CreatedAt: at(5)},
		{LifecycleSeq: 6, AfterSeq: 5, Type: "some_future_type", CreatedAt: at(6)},
	}
	update(t, s, func(tx store.Tx) error {
		for _, ev := range want {
			if err := tx.AppendLifecycleEvent("t1", "s1", ev); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListLifecycleEvents (-want +got):\n%s", diff)
		}
		if next != 0 {
			t.Errorf("next = %d, want 0", next)
		}
		got, _, err = tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{AfterSeq: 4})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want[4:], got); diff != "" {
			t.Errorf("ListLifecycleEvents after 4 (-want +got):\n%s", diff)
		}
		return nil
	})
	// A session without lifecycle events lists none.
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s2")) })
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListLifecycleEvents("t1", "s2", store.LifecycleQuery{})
		if err != nil || len(got) != 0 || next != 0 {
			t.Errorf("empty log: %v, %d, %v", got, next, err)
		}
		return nil
	})
	ctx := context.Background()
	wantErr(t, "AppendLifecycleEvent duplicate seq", s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendLifecycleEvent("t1", "s1", lifecycleEvent(3, 9, gen.LifecycleEventTypeHandoff))
	}), store.ErrExists)
	wantErr(t, "AppendLifecycleEvent missing session", s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendLifecycleEvent("t1", "nope", lifecycleEvent(1, 0, gen.LifecycleEventTypeHandoff))
	}), store.ErrNotFound)
	wantErr(t, "ListLifecycleEvents missing session", s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.ListLifecycleEvents("t1", "nope", store.LifecycleQuery{})
		return err
	}), store.ErrNotFound)
}

// A turn's lifecycle events, written with the turn's own writes as the
// server writes them (a store may keep them on the turn), read back in
// lifecycle_seq order with the session's others.
func testTurnLifecycleEvents(t *testing.T, s store.Store) {
	lc := func(seq, after int64, typ gen.LifecycleEventType, turn int32) gen.LifecycleEvent {
		ev := gen.LifecycleEvent{LifecycleSeq: seq, AfterSeq: after, Type: typ, TurnIndex: turn, CreatedAt: at(int(seq))}
		switch typ {
		case gen.LifecycleEventTypeTurnEnded:
			ev.StopReason = gen.StopReasonEndTurn
		case gen.LifecycleEventTypeTurnQueued:
			ev.QueuePosition = 1
		case gen.LifecycleEventTypeStatusChanged:
			ev.Status = gen.SessionStatusPaused
		}
		return ev
	}
	var want []gen.LifecycleEvent
	appendLC := func(tx store.Tx, ev gen.LifecycleEvent) error {
		want = append(want, ev)
		return tx.AppendLifecycleEvent("t1", "s1", ev)
	}
	turn := func(tx store.Tx, index int, status gen.TurnStatus) error {
		tr, err := tx.GetTurn("t1", "s1", index)
		if err != nil {
			return err
		}
		tr.Status = status
		return tx.UpdateTurn(tr)
	}
	// Turn 1 is accepted and started with a session event; it ends later.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t1", "s1")); err != nil {
			return err
		}
		if err := tx.CreateTurn(newTurn("t1", "s1", 1, gen.TurnStatusRunning)); err != nil {
			return err
		}
		if err := appendLC(tx, lc(1, 0, gen.LifecycleEventTypeTurnStarted, 1)); err != nil {
			return err
		}
		return appendLC(tx, lc(2, 0, gen.LifecycleEventTypeStatusChanged, 0))
	})
	update(t, s, func(tx store.Tx) error {
		// Turn 2 queues behind it.
		if err := tx.CreateTurn(newTurn("t1", "s1", 2, gen.TurnStatusQueued)); err != nil {
			return err
		}
		return appendLC(tx, lc(3, 0, gen.LifecycleEventTypeTurnQueued, 2))
	})
	update(t, s, func(tx store.Tx) error {
		if err := appendLC(tx, lc(4, 3, gen.LifecycleEventTypeTurnEnded, 1)); err != nil {
			return err
		}
		return turn(tx, 1, gen.TurnStatusCompleted)
	})
	update(t, s, func(tx store.Tx) error { // started: the turn is written first
		if err := turn(tx, 2, gen.TurnStatusRunning); err != nil {
			return err
		}
		return appendLC(tx, lc(5, 3, gen.LifecycleEventTypeTurnStarted, 2))
	})
	// Turn 3 runs and ends in one transaction; one event of a turn the
	// session does not have, one of a turn whose slot is taken.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateTurn(newTurn("t1", "s1", 3, gen.TurnStatusQueued)); err != nil {
			return err
		}
		for _, ev := range []gen.LifecycleEvent{lc(6, 3, gen.LifecycleEventTypeTurnQueued, 3),
			lc(7, 4, gen.LifecycleEventTypeTurnEnded, 2), lc(8, 4, gen.LifecycleEventTypeTurnStarted, 3),
			lc(9, 4, gen.LifecycleEventTypeTurnStarted, 9), lc(10, 4, gen.LifecycleEventTypeTurnStarted, 3)} {
			if err := appendLC(tx, ev); err != nil {
				return err
			}
		}
		if err := turn(tx, 2, gen.TurnStatusCompleted); err != nil {
			return err
		}
		if err := appendLC(tx, lc(11, 5, gen.LifecycleEventTypeTurnEnded, 3)); err != nil {
			return err
		}
		return turn(tx, 3, gen.TurnStatusCompleted)
	})
	// A write that fails takes its events with it.
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateTurn(newTurn("t1", "s1", 4, gen.TurnStatusRunning)); err != nil {
			return err
		}
		if err := tx.AppendLifecycleEvent("t1", "s1", lc(12, 5, gen.LifecycleEventTypeTurnStarted, 4)); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "failed write", err, errBoom)
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" || next != 0 {
			t.Errorf("ListLifecycleEvents (-want +got), next %d:\n%s", next, diff)
		}
		for _, limit := range []int{1, 2, 3, 5} {
			page := pageAll(t, limit, func(after int64) ([]gen.LifecycleEvent, int64, error) {
				return tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{AfterSeq: after, Limit: limit})
			})
			if diff := cmp.Diff(want, page); diff != "" {
				t.Errorf("paged by %d (-want +got):\n%s", limit, diff)
			}
		}
		got, _, err = tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{AfterSeq: 7, Limit: 2})
		if err == nil && !cmp.Equal(want[7:9], got) {
			t.Errorf("after 7, limit 2: %+v", got)
		}
		return err
	})
	for _, seq := range []int64{1, 4, 5, 8, 9, 11} { // on a turn, or in the table
		err := s.Update(context.Background(), func(tx store.Tx) error {
			return tx.AppendLifecycleEvent("t1", "s1", lc(seq, 9, gen.LifecycleEventTypeHandoff, 0))
		})
		wantErr(t, fmt.Sprintf("AppendLifecycleEvent of the taken %d", seq), err, store.ErrExists)
	}
	// The turns read back as they were written.
	view(t, s, func(tx store.Tx) error {
		turns, _, err := tx.ListTurns("t1", "s1", store.TurnQuery{})
		if err != nil {
			return err
		}
		if len(turns) != 3 || turns[2].Status != gen.TurnStatusCompleted || turns[0].Prompt != "p" {
			t.Errorf("turns %+v", turns)
		}
		return nil
	})
}

func testPermissionRequests(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	in := fullPermission("t1", "s1", "perm_1", 2)
	update(t, s, func(tx store.Tx) error { return tx.CreatePermissionRequest(in) })
	if in.Ord <= 0 {
		t.Fatalf("CreatePermissionRequest set Ord = %d, want > 0", in.Ord)
	}
	want := fullPermission("t1", "s1", "perm_1", 2)
	want.Ord = in.Ord
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetPermissionRequest("t1", "s1", "perm_1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetPermissionRequest (-want +got):\n%s", diff)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
		}
		return nil
	})
	// Update replaces every field but Ord; a second request gets a later Ord.
	second := pendingPermission("t1", "s1", "perm_2", 3)
	update(t, s, func(tx store.Tx) error { return tx.CreatePermissionRequest(second) })
	if second.Ord <= in.Ord {
		t.Errorf("second Ord = %d, want > %d", second.Ord, in.Ord)
	}
	changed := pendingPermission("t1", "s1", "perm_2", 3)
	changed.Status, changed.Outcome, changed.AnsweredAt, changed.Ord = gen.PermissionStatusCancelled, gen.PermissionOutcomeCancelled, at(80), 999
	update(t, s, func(tx store.Tx) error { return tx.UpdatePermissionRequest(changed) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetPermissionRequest("t1", "s1", "perm_2")
		if err != nil {
			return err
		}
		want := pendingPermission("t1", "s1", "perm_2", 3)
		want.Status, want.Outcome, want.AnsweredAt, want.Ord = gen.PermissionStatusCancelled, gen.PermissionOutcomeCancelled, at(80), second.Ord
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after UpdatePermissionRequest (-want +got):\n%s", diff)
		}
		return nil
	})
	// Lists filter by status and by turn.
	update(t, s, func(tx store.Tx) error { return tx.CreatePermissionRequest(pendingPermission("t1", "s1", "perm_3", 3)) })
	view(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			q    store.PermissionQuery
			want []string
		}{
			{store.PermissionQuery{}, []string{"perm_1", "perm_2", "perm_3"}},
			{store.PermissionQuery{Status: gen.PermissionStatusPending}, []string{"perm_3"}},
			{store.PermissionQuery{Status: gen.PermissionStatusCancelled}, []string{"perm_2"}},
			{store.PermissionQuery{TurnIndex: 3}, []string{"perm_2", "perm_3"}},
			{store.PermissionQuery{TurnIndex: 2, Status: gen.PermissionStatusPending}, nil},
		} {
			got, next, err := tx.ListPermissionRequests("t1", "s1", tc.q)
			if err != nil {
				return err
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.RequestID)
			}
			if !slices.Equal(ids, tc.want) || next != 0 {
				t.Errorf("ListPermissionRequests(%+v) = %v, next %d; want %v", tc.q, ids, next, tc.want)
			}
		}
		return nil
	})
	ctx := context.Background()
	wantErr(t, "CreatePermissionRequest duplicate id", s.Update(ctx, func(tx store.Tx) error {
		return tx.CreatePermissionRequest(pendingPermission("t1", "s1", "perm_1", 9))
	}), store.ErrExists)
	wantErr(t, "CreatePermissionRequest missing session", s.Update(ctx, func(tx store.Tx) error {
		return tx.CreatePermissionRequest(pendingPermission("t1", "nope", "perm_1", 1))
	}), store.ErrNotFound)
	wantErr(t, "UpdatePermissionRequest missing id", s.Update(ctx, func(tx store.Tx) error {
		return tx.UpdatePermissionRequest(pendingPermission("t1", "s1", "perm_9", 1))
	}), store.ErrNotFound)
	wantErr(t, "GetPermissionRequest missing id", s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetPermissionRequest("t1", "s1", "perm_9")
		return err
	}), store.ErrNotFound)
	wantErr(t, "GetPermissionRequest of another session", s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetPermissionRequest("t1", "s2", "perm_1")
		return err
	}), store.ErrNotFound)
	wantErr(t, "ListPermissionRequests missing session", s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.ListPermissionRequests("t1", "nope", store.PermissionQuery{})
		return err
	}), store.ErrNotFound)
	// The same request id in another session is another request.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t1", "s2")); err != nil {
			return err
		}
		return tx.CreatePermissionRequest(pendingPermission("t1", "s2", "perm_1", 1))
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetPermissionRequest("t1", "s1", "perm_1")
		if err == nil && got.Status != gen.PermissionStatusAnswered {
			t.Errorf("s1's perm_1 changed: %+v", got)
		}
		return err
	})
}

func testTurnsByStatus(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t1", "s1")); err != nil {
			return err
		}
		for i, st := range []gen.TurnStatus{gen.TurnStatusCompleted, gen.TurnStatusRunning, gen.TurnStatusQueued,
			gen.TurnStatusCompleted, gen.TurnStatusQueued, gen.TurnStatusQueued} {
			if err := tx.CreateTurn(newTurn("t1", "s1", i+1, st)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			q        store.TurnQuery
			want     []int
			wantNext int64
		}{
			{store.TurnQuery{Status: gen.TurnStatusQueued}, []int{3, 5, 6}, 0},
			{store.TurnQuery{Status: gen.TurnStatusCompleted}, []int{1, 4}, 0},
			{store.TurnQuery{Status: gen.TurnStatusRunning}, []int{2}, 0},
			{store.TurnQuery{Status: gen.TurnStatusQueued, Page: store.Page{Limit: 2}}, []int{3, 5}, 5},
			{store.TurnQuery{Status: gen.TurnStatusQueued, Page: store.Page{AfterOrd: 5, Limit: 2}}, []int{6}, 0},
			{store.TurnQuery{Status: gen.TurnStatusQueued, Page: store.Page{AfterOrd: 3, Limit: 2}}, []int{5, 6}, 0},
			{store.TurnQuery{Page: store.Page{AfterOrd: 4}}, []int{5, 6}, 0},
		} {
			got, next, err := tx.ListTurns("t1", "s1", tc.q)
			if err != nil {
				return err
			}
			var idx []int
			for _, tr := range got {
				idx = append(idx, tr.Index)
			}
			if !slices.Equal(idx, tc.want) || next != tc.wantNext {
				t.Errorf("ListTurns(%+v) = %v next %d, want %v next %d", tc.q, idx, next, tc.want, tc.wantNext)
			}
		}
		return nil
	})
	// The status the cache holds is the one a filtered list finds, inside the
	// writing transaction too.
	update(t, s, func(tx store.Tx) error {
		tr, err := tx.GetTurn("t1", "s1", 3)
		if err != nil {
			return err
		}
		tr.Status = gen.TurnStatusRunning
		if err := tx.UpdateTurn(tr); err != nil {
			return err
		}
		if err := tx.CreateTurn(newTurn("t1", "s1", 7, gen.TurnStatusQueued)); err != nil {
			return err
		}
		got, _, err := tx.ListTurns("t1", "s1", store.TurnQuery{Status: gen.TurnStatusQueued})
		var idx []int
		for _, tr := range got {
			idx = append(idx, tr.Index)
		}
		if !slices.Equal(idx, []int{5, 6, 7}) {
			t.Errorf("queued inside the write = %v, want [5 6 7]", idx)
		}
		return err
	})
}

func testLogEntries(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	want := []gen.LogEntry{logEntry("s1", "l1", gen.LogEntryTypeInfo), logEntry("s1", "l2", gen.LogEntryTypeDecision)}
	want[1].Data = nil
	var ords []int64
	update(t, s, func(tx store.Tx) error {
		for _, e := range want {
			ord, err := tx.AddLogEntry("t1", e)
			if err != nil {
				return err
			}
			ords = append(ords, ord)
		}
		return nil
	})
	if ords[0] <= 0 || ords[1] <= ords[0] {
		t.Errorf("AddLogEntry ords = %v, want positive and increasing", ords)
	}
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListLogEntries("t1", "s1", store.LogQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListLogEntries (-want +got):\n%s", diff)
		}
		if next != 0 {
			t.Errorf("next = %d, want 0", next)
		}
		return nil
	})
	ctx := context.Background()
	wantErr(t, "AddLogEntry missing session", s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AddLogEntry("t1", logEntry("nope", "l3", gen.LogEntryTypeInfo))
		return err
	}), store.ErrNotFound)
	wantErr(t, "ListLogEntries missing session", s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.ListLogEntries("t1", "nope", store.LogQuery{})
		return err
	}), store.ErrNotFound)
}

func testArtifacts(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "s1")) })
	want := []gen.Artifact{artifact("s1", "a1", gen.ArtifactActionCreated), artifact("s1", "a2", gen.ArtifactActionDeleted)}
	want[0].Metadata = map[string]any{}
	var ords []int64
	update(t, s, func(tx store.Tx) error {
		for _, a := range want {
			ord, err := tx.AddArtifact("t1", a)
			if err != nil {
				return err
			}
			ords = append(ords, ord)
		}
		return nil
	})
	if ords[0] <= 0 || ords[1] <= ords[0] {
		t.Errorf("AddArtifact ords = %v, want positive and increasing", ords)
	}
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListArtifacts("t1", "s1", store.ArtifactQuery{})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListArtifacts (-want +got):\n%s", diff)
		}
		if next != 0 {
			t.Errorf("next = %d, want 0", next)
		}
		return nil
	})
	ctx := context.Background()
	wantErr(t, "AddArtifact missing session", s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AddArtifact("t1", artifact("nope", "a3", gen.ArtifactActionCreated))
		return err
	}), store.ErrNotFound)
	wantErr(t, "ListArtifacts missing session", s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.ListArtifacts("t1", "nope", store.ArtifactQuery{})
		return err
	}), store.ErrNotFound)
}

func testFiles(t *testing.T, s store.Store) {
	data := []byte("hello\x00world\xff")
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateFile("t1", file("f1", data), data); err != nil {
			return err
		}
		return tx.CreateFile("t1", file("empty", nil), nil)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetFile("t1", "f1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(ptr(file("f1", data)), got); diff != "" {
			t.Errorf("GetFile (-want +got):\n%s", diff)
		}
		b, err := tx.FileData("t1", "f1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(data, b); diff != "" {
			t.Errorf("FileData (-want +got):\n%s", diff)
		}
		b, err = tx.FileData("t1", "empty")
		if err != nil {
			return err
		}
		if b == nil || len(b) != 0 {
			t.Errorf("FileData of an empty file = %#v, want a non-nil empty slice", b)
		}
		return nil
	})
	ctx := context.Background()
	wantErr(t, "CreateFile duplicate token", s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateFile("t1", file("f1", nil), nil)
	}), store.ErrExists)
	wantErr(t, "GetFile missing", s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetFile("t1", "nope")
		return err
	}), store.ErrNotFound)
	wantErr(t, "FileData missing", s.View(ctx, func(tx store.Tx) error {
		_, err := tx.FileData("t1", "nope")
		return err
	}), store.ErrNotFound)
}

func testIdempotency(t *testing.T, s store.Store) {
	first := idem("t1", "createSession", "k1")
	first.StatusCode, first.Body = 0, nil // in progress
	update(t, s, func(tx store.Tx) error { return tx.PutIdempotency(first) })
	get := func(op, key string) (*store.Idempotency, error) {
		var r *store.Idempotency
		err := s.View(context.Background(), func(tx store.Tx) error {
			var err error
			r, err = tx.GetIdempotency("t1", op, key)
			return err
		})
		return r, err
	}
	got, err := get("createSession", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("GetIdempotency (-want +got):\n%s", diff)
	}
	// Put replaces.
	done := idem("t1", "createSession", "k1")
	update(t, s, func(tx store.Tx) error { return tx.PutIdempotency(done) })
	if got, err = get("createSession", "k1"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(done, got); diff != "" {
		t.Errorf("after replace (-want +got):\n%s", diff)
	}
	// The key is (tenant, operation, key).
	other := idem("t1", "sendTurn", "k1")
	other.Body = []byte{} // empty reads back nil
	update(t, s, func(tx store.Tx) error { return tx.PutIdempotency(other) })
	got, err = get("sendTurn", "k1")
	if err != nil {
		t.Fatal(err)
	}
	other.Body = nil
	if diff := cmp.Diff(other, got); diff != "" {
		t.Errorf("other operation (-want +got):\n%s", diff)
	}
	if got, _ := get("createSession", "k1"); got == nil || got.StatusCode != 201 {
		t.Errorf("other operation's key changed createSession's record: %+v", got)
	}
	_, err = get("createSession", "k2")
	wantErr(t, "GetIdempotency missing", err, store.ErrNotFound)
}

// testNormalization checks the conversions both stores make on write.
func testNormalization(t *testing.T, s store.Store) {
	type point struct {
		X int `json:"x"`
	}
	in := newSession("t1", "s1")
	in.Meta = map[string]any{"int": 3, "list": []string{"a"}, "struct": point{X: 1}, "num": 2.5}
	in.Context = map[string]any{}
	in.Handoff = gen.Handoff{Summary: "s", CreatedAt: at(1)} // nil slices and map
	local := time.Date(2024, 2, 29, 23, 59, 59, 1, time.FixedZone("X", -7*3600))
	in.UpdatedAt = local
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(in) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		wantMeta := map[string]any{"int": 3.0, "list": []any{"a"}, "struct": map[string]any{"x": 1.0}, "num": 2.5}
		if diff := cmp.Diff(wantMeta, got.Meta); diff != "" {
			t.Errorf("Meta (-want +got):\n%s", diff)
		}
		if got.Context == nil || len(got.Context) != 0 {
			t.Errorf("Context = %#v, want a non-nil empty map", got.Context)
		}
		if got.Handoff.CreatedAt.IsZero() || got.Handoff.NextSteps != nil || got.Handoff.Blockers != nil || got.Handoff.ContextForNext != nil {
			t.Errorf("Handoff = %#v, want nil slices and map kept nil", got.Handoff)
		}
		if !got.UpdatedAt.Equal(local) || got.UpdatedAt.Location() != time.UTC || got.UpdatedAt.Nanosecond() != 1 {
			t.Errorf("UpdatedAt = %v, want %v in UTC", got.UpdatedAt, local)
		}
		if !got.EndedAt.IsZero() {
			t.Errorf("EndedAt = %v, want zero", got.EndedAt)
		}
		return nil
	})

	// A nil map reads back as nil (absent) and an empty one as empty: the
	// models omit only zero values, so `{}` survives a round trip.
	ev := gen.Event{Seq: 1, TurnIndex: 1, Type: gen.EventTypeText, Args: nil, Data: gen.JSONObject{}, Result: 7, CreatedAt: at(1)}
	update(t, s, func(tx store.Tx) error { return tx.AppendEvent("t1", "s1", ev) })
	view(t, s, func(tx store.Tx) error {
		got, _, err := tx.ListEvents("t1", "s1", store.EventQuery{})
		if err != nil {
			return err
		}
		want := []gen.Event{{Seq: 1, TurnIndex: 1, Type: gen.EventTypeText, Data: gen.JSONObject{}, Result: 7.0, CreatedAt: at(1)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("event (-want +got):\n%s", diff)
		}
		return nil
	})

	// What JSON cannot hold is refused, and nothing is written.
	bad := []struct {
		name  string
		write func(tx store.Tx) error
	}{
		{"NaN in meta", func(tx store.Tx) error {
			s := newSession("t1", "bad1")
			s.Meta = map[string]any{"x": math.NaN()}
			return tx.CreateSession(s)
		}},
		{"channel in context", func(tx store.Tx) error {
			s := newSession("t1", "bad2")
			s.Context = map[string]any{"x": make(chan int)}
			return tx.CreateSession(s)
		}},
		{"year 10000", func(tx store.Tx) error {
			s := newSession("t1", "bad3")
			s.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			return tx.CreateSession(s)
		}},
		{"Inf in event result", func(tx store.Tx) error {
			return tx.AppendEvent("t1", "s1", gen.Event{Seq: 2, Type: gen.EventTypeText, Result: math.Inf(1)})
		}},
		{"func in log data", func(tx store.Tx) error {
			_, err := tx.AddLogEntry("t1", gen.LogEntry{SessionID: "s1", Type: gen.LogEntryTypeInfo, Data: map[string]any{"f": func() {}}})
			return err
		}},
		{"NaN in artifact metadata", func(tx store.Tx) error {
			_, err := tx.AddArtifact("t1", gen.Artifact{SessionID: "s1", Action: gen.ArtifactActionCreated, Metadata: map[string]any{"x": math.NaN()}})
			return err
		}},
		{"year -1 in turn", func(tx store.Tx) error {
			tr := newTurn("t1", "s1", 1, gen.TurnStatusQueued)
			tr.CreatedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
			return tx.CreateTurn(tr)
		}},
	}
	before := Snapshot(t, s)
	for _, tc := range bad {
		err := s.Update(context.Background(), tc.write)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("refused writes changed the store (-before +after):\n%s", diff)
	}
}

// --- isolation ---

func testTenantIsolation(t *testing.T, s store.Store) {
	// t1 owns one of everything.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(fullSession("t1", "s1")); err != nil {
			return err
		}
		if err := tx.CreateTurn(newTurn("t1", "s1", 1, gen.TurnStatusRunning)); err != nil {
			return err
		}
		if err := tx.AppendEvent("t1", "s1", textEvent(1, 1)); err != nil {
			return err
		}
		if err := tx.AppendLifecycleEvent("t1", "s1", lifecycleEvent(1, 1, gen.LifecycleEventTypeTurnStarted)); err != nil {
			return err
		}
		if err := tx.CreatePermissionRequest(pendingPermission("t1", "s1", "perm_1", 1)); err != nil {
			return err
		}
		if _, err := tx.AddLogEntry("t1", logEntry("s1", "l1", gen.LogEntryTypeInfo)); err != nil {
			return err
		}
		if _, err := tx.AddArtifact("t1", artifact("s1", "a1", gen.ArtifactActionCreated)); err != nil {
			return err
		}
		if err := tx.CreateFile("t1", file("f1", []byte("x")), []byte("x")); err != nil {
			return err
		}
		return tx.PutIdempotency(idem("t1", "createSession", "k1"))
	})
	before := Snapshot(t, s)

	reads := []struct {
		name string
		read func(tx store.Tx) error
	}{
		{"GetSession", func(tx store.Tx) error { _, err := tx.GetSession("t2", "s1"); return err }},
		{"GetTurn", func(tx store.Tx) error { _, err := tx.GetTurn("t2", "s1", 1); return err }},
		{"ListTurns", func(tx store.Tx) error { _, _, err := tx.ListTurns("t2", "s1", store.TurnQuery{}); return err }},
		{"ListEvents", func(tx store.Tx) error { _, _, err := tx.ListEvents("t2", "s1", store.EventQuery{}); return err }},
		{"ListLifecycleEvents", func(tx store.Tx) error {
			_, _, err := tx.ListLifecycleEvents("t2", "s1", store.LifecycleQuery{})
			return err
		}},
		{"GetPermissionRequest", func(tx store.Tx) error { _, err := tx.GetPermissionRequest("t2", "s1", "perm_1"); return err }},
		{"ListPermissionRequests", func(tx store.Tx) error {
			_, _, err := tx.ListPermissionRequests("t2", "s1", store.PermissionQuery{})
			return err
		}},
		{"ListLogEntries", func(tx store.Tx) error { _, _, err := tx.ListLogEntries("t2", "s1", store.LogQuery{}); return err }},
		{"ListArtifacts", func(tx store.Tx) error { _, _, err := tx.ListArtifacts("t2", "s1", store.ArtifactQuery{}); return err }},
		{"GetFile", func(tx store.Tx) error { _, err := tx.GetFile("t2", "f1"); return err }},
		{"FileData", func(tx store.Tx) error { _, err := tx.FileData("t2", "f1"); return err }},
		{"GetIdempotency", func(tx store.Tx) error { _, err := tx.GetIdempotency("t2", "createSession", "k1"); return err }},
	}
	for _, tc := range reads {
		wantErr(t, "t2 "+tc.name, s.View(context.Background(), tc.read), store.ErrNotFound)
	}
	writes := []struct {
		name  string
		write func(tx store.Tx) error
	}{
		{"UpdateSession", func(tx store.Tx) error { return tx.UpdateSession(newSession("t2", "s1")) }},
		{"CreateTurn", func(tx store.Tx) error { return tx.CreateTurn(newTurn("t2", "s1", 2, gen.TurnStatusQueued)) }},
		{"UpdateTurn", func(tx store.Tx) error { return tx.UpdateTurn(newTurn("t2", "s1", 1, gen.TurnStatusCompleted)) }},
		{"AppendEvent", func(tx store.Tx) error { return tx.AppendEvent("t2", "s1", textEvent(2, 1)) }},
		{"AppendLifecycleEvent", func(tx store.Tx) error {
			return tx.AppendLifecycleEvent("t2", "s1", lifecycleEvent(2, 1, gen.LifecycleEventTypeHandoff))
		}},
		{"CreatePermissionRequest", func(tx store.Tx) error {
			return tx.CreatePermissionRequest(pendingPermission("t2", "s1", "perm_2", 1))
		}},
		{"UpdatePermissionRequest", func(tx store.Tx) error {
			return tx.UpdatePermissionRequest(pendingPermission("t2", "s1", "perm_1", 1))
		}},
		{"AddLogEntry", func(tx store.Tx) error {
			_, err := tx.AddLogEntry("t2", logEntry("s1", "l2", gen.LogEntryTypeInfo))
			return err
		}},
		{"AddArtifact", func(tx store.Tx) error {
			_, err := tx.AddArtifact("t2", artifact("s1", "a2", gen.ArtifactActionCreated))
			return err
		}},
	}
	for _, tc := range writes {
		wantErr(t, "t2 "+tc.name, s.Update(context.Background(), tc.write), store.ErrNotFound)
	}
	view(t, s, func(tx store.Tx) error {
		list, next, err := tx.ListSessions("t2", store.SessionQuery{})
		if err != nil || len(list) != 0 || next != 0 {
			t.Errorf("t2 ListSessions = %v, %d, %v; want nothing", list, next, err)
		}
		n, err := tx.CountSessions("t2", store.SessionQuery{})
		if err != nil || n != 0 {
			t.Errorf("t2 CountSessions = %d, %v; want 0", n, err)
		}
		return nil
	})
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("t2's attempts changed t1's records (-before +after):\n%s", diff)
	}

	// t2 may use the same keys; they are its own records.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t2", "s1")); err != nil {
			return err
		}
		if err := tx.CreateTurn(newTurn("t2", "s1", 1, gen.TurnStatusQueued)); err != nil {
			return err
		}
		if err := tx.AppendEvent("t2", "s1", textEvent(1, 1)); err != nil {
			return err
		}
		if err := tx.CreateFile("t2", file("f1", []byte("y")), []byte("y")); err != nil {
			return err
		}
		return tx.PutIdempotency(idem("t2", "createSession", "k1"))
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		if got.Agent != "echo" || got.PlanSlug != "plan-1" {
			t.Errorf("t1's session changed: %+v", got)
		}
		b, err := tx.FileData("t1", "f1")
		if err != nil || string(b) != "x" {
			t.Errorf("t1's file = %q, %v; want x", b, err)
		}
		n, err := tx.CountSessions("t1", store.SessionQuery{})
		if err != nil || n != 1 {
			t.Errorf("t1 CountSessions = %d, %v; want 1", n, err)
		}
		return nil
	})
}

// --- paging ---

// pageAll pages through list with limit and returns every item, checking the
// paging contract on the way: no page longer than limit, next is 0 exactly
// on the last page, and no page but the only one is empty.
func pageAll[T any](t *testing.T, limit int, list func(after int64) ([]T, int64, error)) []T {
	t.Helper()
	var all []T
	var after int64
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("limit %d: paging does not end", limit)
		}
		items, next, err := list(after)
		if err != nil {
			t.Fatalf("limit %d, after %d: %v", limit, after, err)
		}
		if limit > 0 && len(items) > limit {
			t.Fatalf("limit %d: page of %d items", limit, len(items))
		}
		if page > 0 && len(items) == 0 {
			t.Fatalf("limit %d, after %d: empty page after a non-zero next", limit, after)
		}
		if next != 0 && len(items) != limit {
			t.Fatalf("limit %d, after %d: next %d on a page of %d", limit, after, next, len(items))
		}
		all = append(all, items...)
		if next == 0 {
			return all
		}
		if next == after {
			t.Fatalf("limit %d: next %d does not move", limit, next)
		}
		after = next
	}
}

var limits = []int{0, 1, 2, 3, 5, 100}

func testPagingSessions(t *testing.T, s store.Store) {
	statuses := []gen.SessionStatus{gen.SessionStatusActive, gen.SessionStatusPaused, gen.SessionStatusCompleted, gen.SessionStatusFailed}
	var fixture []*store.Session
	update(t, s, func(tx store.Tx) error {
		for i := range 13 {
			for _, tenant := range []string{"t1", "t2"} { // interleaved tenants
				ss := newSession(tenant, fmt.Sprintf("s%02d", i))
				ss.Status = statuses[i%4]
				ss.Agent = []string{"echo", "scripted"}[i%2]
				if i%3 == 0 {
					ss.PlanSlug = "p1"
				}
				if i >= 4 && i <= 7 {
					ss.ParentID = "s01"
				}
				if err := tx.CreateSession(ss); err != nil {
					return err
				}
				if tenant == "t1" {
					fixture = append(fixture, ss)
				}
			}
		}
		return nil
	})
	queries := []struct {
		name  string
		q     store.SessionQuery
		match func(*store.Session) bool
	}{
		{"all", store.SessionQuery{}, func(*store.Session) bool { return true }},
		{"active", store.SessionQuery{Statuses: []gen.SessionStatus{gen.SessionStatusActive}}, func(s *store.Session) bool { return s.Status == gen.SessionStatusActive }},
		{"ended", store.SessionQuery{Statuses: []gen.SessionStatus{gen.SessionStatusCompleted, gen.SessionStatusFailed}}, (*store.Session).Ended},
		{"agent", store.SessionQuery{Agent: "echo"}, func(s *store.Session) bool { return s.Agent == "echo" }},
		{"plan", store.SessionQuery{PlanSlug: "p1"}, func(s *store.Session) bool { return s.PlanSlug == "p1" }},
		{"parent", store.SessionQuery{ParentID: "s01"}, func(s *store.Session) bool { return s.ParentID == "s01" }},
		{"agent+status+plan", store.SessionQuery{Agent: "scripted", PlanSlug: "p1", Statuses: []gen.SessionStatus{gen.SessionStatusPaused, gen.SessionStatusFailed}},
			func(s *store.Session) bool {
				return s.Agent == "scripted" && s.PlanSlug == "p1" && (s.Status == gen.SessionStatusPaused || s.Status == gen.SessionStatusFailed)
			}},
		{"none", store.SessionQuery{Agent: "nobody"}, func(*store.Session) bool { return false }},
	}
	for _, qc := range queries {
		var want []string
		for _, ss := range fixture {
			if qc.match(ss) {
				want = append(want, ss.ID)
			}
		}
		for _, limit := range limits {
			t.Run(fmt.Sprintf("%s/limit=%d", qc.name, limit), func(t *testing.T) {
				view(t, s, func(tx store.Tx) error {
					q := qc.q
					q.Limit = limit
					got := pageAll(t, limit, func(after int64) ([]*store.Session, int64, error) {
						q.AfterOrd = after
						return tx.ListSessions("t1", q)
					})
					var ids []string
					for _, ss := range got {
						if ss.Tenant != "t1" {
							t.Errorf("t1's list holds %s of tenant %s", ss.ID, ss.Tenant)
						}
						ids = append(ids, ss.ID)
					}
					if diff := cmp.Diff(want, ids); diff != "" {
						t.Errorf("ListSessions ids (-want +got):\n%s", diff)
					}
					q.AfterOrd = 12345 // Count ignores paging
					n, err := tx.CountSessions("t1", q)
					if err != nil {
						return err
					}
					if n != len(want) {
						t.Errorf("CountSessions = %d, want %d", n, len(want))
					}
					return nil
				})
			})
		}
	}
}

func testPagingTurns(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSession(newSession("t1", id)); err != nil {
				return err
			}
		}
		for _, i := range []int{3, 1, 2, 7, 4, 5} { // out of order, with a gap
			if err := tx.CreateTurn(newTurn("t1", "s1", i, gen.TurnStatusCompleted)); err != nil {
				return err
			}
			if err := tx.CreateTurn(newTurn("t1", "s2", i, gen.TurnStatusCompleted)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, start := range []int64{0, 2, 5, 7} {
		var want []int
		for _, i := range []int{1, 2, 3, 4, 5, 7} {
			if int64(i) > start {
				want = append(want, i)
			}
		}
		for _, limit := range limits {
			view(t, s, func(tx store.Tx) error {
				got := pageAll(t, limit, func(after int64) ([]*store.Turn, int64, error) {
					if after == 0 {
						after = start
					}
					return tx.ListTurns("t1", "s1", store.TurnQuery{Page: store.Page{AfterOrd: after, Limit: limit}})
				})
				var idx []int
				for _, tr := range got {
					if tr.SessionID != "s1" {
						t.Errorf("turn of session %s in s1's list", tr.SessionID)
					}
					idx = append(idx, tr.Index)
				}
				if diff := cmp.Diff(want, idx); diff != "" {
					t.Errorf("after %d, limit %d: indexes (-want +got):\n%s", start, limit, diff)
				}
				return nil
			})
		}
	}
}

func testPagingEvents(t *testing.T, s store.Store) {
	turnOf := []int32{0, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3} // turnOf[seq]
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSession(newSession("t1", id)); err != nil {
				return err
			}
		}
		for _, seq := range []int64{1, 2, 4, 3, 5, 6, 10, 7, 8, 9} { // partly out of order
			if err := tx.AppendEvent("t1", "s1", textEvent(seq, turnOf[seq])); err != nil {
				return err
			}
			if err := tx.AppendEvent("t1", "s2", textEvent(seq, turnOf[seq])); err != nil {
				return err
			}
		}
		return nil
	})
	for _, q := range []store.EventQuery{
		{}, {AfterSeq: 3}, {AfterSeq: 10}, {TurnIndex: 1}, {TurnIndex: 3}, {TurnIndex: 3, AfterSeq: 8}, {TurnIndex: 4},
	} {
		var want []int64
		for seq := int64(1); seq <= 10; seq++ {
			if seq > q.AfterSeq && (q.TurnIndex == 0 || int(turnOf[seq]) == q.TurnIndex) {
				want = append(want, seq)
			}
		}
		for _, limit := range limits {
			view(t, s, func(tx store.Tx) error {
				got := pageAll(t, limit, func(after int64) ([]gen.Event, int64, error) {
					q := q
					q.Limit = limit
					if after != 0 {
						q.AfterSeq = after
					}
					return tx.ListEvents("t1", "s1", q)
				})
				var seqs []int64
				for _, ev := range got {
					if ev.Content != fmt.Sprint("text ", ev.Seq) {
						t.Errorf("event %d has content %q", ev.Seq, ev.Content)
					}
					seqs = append(seqs, ev.Seq)
				}
				if diff := cmp.Diff(want, seqs); diff != "" {
					t.Errorf("%+v, limit %d: seqs (-want +got):\n%s", q, limit, diff)
				}
				return nil
			})
		}
	}
}

func testPagingLifecycleEvents(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSession(newSession("t1", id)); err != nil {
				return err
			}
		}
		for _, seq := range []int64{1, 2, 4, 3, 5, 6, 9, 7, 8} { // partly out of order
			for _, id := range []string{"s1", "s2"} {
				if err := tx.AppendLifecycleEvent("t1", id, lifecycleEvent(seq, seq/2, gen.LifecycleEventTypeTurnStarted)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, after := range []int64{0, 3, 9} {
		var want []int64
		for seq := after + 1; seq <= 9; seq++ {
			want = append(want, seq)
		}
		for _, limit := range limits {
			view(t, s, func(tx store.Tx) error {
				got := pageAll(t, limit, func(next int64) ([]gen.LifecycleEvent, int64, error) {
					q := store.LifecycleQuery{AfterSeq: after, Limit: limit}
					if next != 0 {
						q.AfterSeq = next
					}
					return tx.ListLifecycleEvents("t1", "s1", q)
				})
				var seqs []int64
				for _, ev := range got {
					if ev.AfterSeq != ev.LifecycleSeq/2 {
						t.Errorf("lifecycle event %d has after_seq %d", ev.LifecycleSeq, ev.AfterSeq)
					}
					seqs = append(seqs, ev.LifecycleSeq)
				}
				if diff := cmp.Diff(want, seqs); diff != "" {
					t.Errorf("after %d, limit %d: lifecycle seqs (-want +got):\n%s", after, limit, diff)
				}
				return nil
			})
		}
	}
}

func testPagingPermissionRequests(t *testing.T, s store.Store) {
	statuses := []gen.PermissionStatus{gen.PermissionStatusPending, gen.PermissionStatusAnswered, gen.PermissionStatusCancelled}
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSession(newSession("t1", id)); err != nil {
				return err
			}
		}
		for i := range 8 {
			r := pendingPermission("t1", "s1", fmt.Sprintf("perm_%d", i), i%3+1)
			r.Status = statuses[i%3]
			if err := tx.CreatePermissionRequest(r); err != nil {
				return err
			}
			ids = append(ids, r.RequestID)
			if err := tx.CreatePermissionRequest(pendingPermission("t1", "s2", r.RequestID, 1)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, q := range []store.PermissionQuery{{}, {Status: gen.PermissionStatusPending}, {TurnIndex: 2}, {Status: gen.PermissionStatusCancelled, TurnIndex: 3}} {
		var want []string
		for i, id := range ids {
			if (q.Status == "" || statuses[i%3] == q.Status) && (q.TurnIndex == 0 || i%3+1 == q.TurnIndex) {
				want = append(want, id)
			}
		}
		for _, limit := range limits {
			view(t, s, func(tx store.Tx) error {
				got := pageAll(t, limit, func(after int64) ([]*store.PermissionRequest, int64, error) {
					q := q
					q.Page = store.Page{AfterOrd: after, Limit: limit}
					return tx.ListPermissionRequests("t1", "s1", q)
				})
				var names []string
				for _, r := range got {
					names = append(names, r.RequestID)
				}
				if diff := cmp.Diff(want, names); diff != "" {
					t.Errorf("%+v, limit %d: requests (-want +got):\n%s", q, limit, diff)
				}
				return nil
			})
		}
	}
}

func testPagingLogEntries(t *testing.T, s store.Store) {
	types := []gen.LogEntryType{gen.LogEntryTypeInfo, gen.LogEntryTypeWarning, gen.LogEntryTypeError, gen.LogEntryTypeCheckpoint, gen.LogEntryTypeDecision, gen.LogEntryTypeSuccess}
	var fixture []gen.LogEntry
	var ords []int64
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSession(newSession("t1", id)); err != nil {
				return err
			}
		}
		for i := range 9 {
			e := logEntry("s1", fmt.Sprint("l", i), types[i%len(types)])
			ord, err := tx.AddLogEntry("t1", e)
			if err != nil {
				return err
			}
			fixture, ords = append(fixture, e), append(ords, ord)
			// Another session's entries interleave, so Ords have gaps.
			if _, err := tx.AddLogEntry("t1", logEntry("s2", fmt.Sprint("other", i), types[i%len(types)])); err != nil {
				return err
			}
		}
		return nil
	})
	for _, typ := range []gen.LogEntryType{"", gen.LogEntryTypeInfo, gen.LogEntryTypeDecision} {
		for _, newest := range []bool{false, true} {
			var want []string
			for _, e := range fixture {
				if typ == "" || e.Type == typ {
					want = append(want, e.ID)
				}
			}
			if newest {
				slices.Reverse(want)
			}
			for _, limit := range limits {
				view(t, s, func(tx store.Tx) error {
					got := pageAll(t, limit, func(after int64) ([]gen.LogEntry, int64, error) {
						return tx.ListLogEntries("t1", "s1", store.LogQuery{Page: store.Page{AfterOrd: after, Limit: limit}, Type: typ, NewestFirst: newest})
					})
					var ids []string
					for _, e := range got {
						ids = append(ids, e.ID)
					}
					if diff := cmp.Diff(want, ids); diff != "" {
						t.Errorf("type %q, newest first %v, limit %d (-want +got):\n%s", typ, newest, limit, diff)
					}
					return nil
				})
			}
		}
	}
	// AfterOrd from an AddLogEntry result: after (or before) the 4th entry.
	view(t, s, func(tx store.Tx) error {
		got, _, err := tx.ListLogEntries("t1", "s1", store.LogQuery{Page: store.Page{AfterOrd: ords[3]}})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(fixture[4:], got); diff != "" {
			t.Errorf("after the 4th (-want +got):\n%s", diff)
		}
		got, _, err = tx.ListLogEntries("t1", "s1", store.LogQuery{Page: store.Page{AfterOrd: ords[3]}, NewestFirst: true})
		if err != nil {
			return err
		}
		want := slices.Clone(fixture[:3])
		slices.Reverse(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("before the 4th, newest first (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testPagingArtifacts(t *testing.T, s store.Store) {
	actions := []gen.ArtifactAction{gen.ArtifactActionCreated, gen.ArtifactActionModified, gen.ArtifactActionDeleted}
	var fixture []gen.Artifact
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSession(newSession("t1", id)); err != nil {
				return err
			}
		}
		for i := range 8 {
			a := artifact("s1", fmt.Sprint("a", i), actions[i%len(actions)])
			if _, err := tx.AddArtifact("t1", a); err != nil {
				return err
			}
			fixture = append(fixture, a)
			if _, err := tx.AddArtifact("t1", artifact("s2", fmt.Sprint("other", i), actions[i%len(actions)])); err != nil {
				return err
			}
		}
		return nil
	})
	for _, action := range append([]gen.ArtifactAction{""}, actions...) {
		var want []string
		for _, a := range fixture {
			if action == "" || a.Action == action {
				want = append(want, a.ID)
			}
		}
		for _, limit := range limits {
			view(t, s, func(tx store.Tx) error {
				got := pageAll(t, limit, func(after int64) ([]gen.Artifact, int64, error) {
					return tx.ListArtifacts("t1", "s1", store.ArtifactQuery{Page: store.Page{AfterOrd: after, Limit: limit}, Action: action})
				})
				var ids []string
				for _, a := range got {
					ids = append(ids, a.ID)
				}
				if diff := cmp.Diff(want, ids); diff != "" {
					t.Errorf("action %q, limit %d (-want +got):\n%s", action, limit, diff)
				}
				return nil
			})
		}
	}
}

// --- transactions ---

// State is everything the suite's fixtures can write, as read back by
// Snapshot; compare two with cmp.Diff.
type State struct {
	Sessions  []*store.Session
	Turns     map[string][]*store.Turn
	Events    map[string][]gen.Event
	Lifecycle map[string][]gen.LifecycleEvent
	Perms     map[string][]*store.PermissionRequest
	Logs      map[string][]gen.LogEntry
	Artifacts map[string][]gen.Artifact
	Files     map[string]*gen.File
	FileData  map[string][]byte
	Idem      map[string]*store.Idempotency
}

// Snapshot reads the state of tenants t1 and t2, including the file tokens
// and idempotency keys the suite uses (Seed writes some of each).
func Snapshot(t *testing.T, s store.Store) State {
	t.Helper()
	st := State{
		Turns: map[string][]*store.Turn{}, Events: map[string][]gen.Event{}, Logs: map[string][]gen.LogEntry{},
		Lifecycle: map[string][]gen.LifecycleEvent{}, Perms: map[string][]*store.PermissionRequest{},
		Artifacts: map[string][]gen.Artifact{}, Files: map[string]*gen.File{}, FileData: map[string][]byte{},
		Idem: map[string]*store.Idempotency{},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tenant := range []string{"t1", "t2"} {
			list, _, err := tx.ListSessions(tenant, store.SessionQuery{})
			if err != nil {
				return err
			}
			st.Sessions = append(st.Sessions, list...)
			for _, ss := range list {
				k := tenant + "/" + ss.ID
				if st.Turns[k], _, err = tx.ListTurns(tenant, ss.ID, store.TurnQuery{}); err != nil {
					return err
				}
				if st.Events[k], _, err = tx.ListEvents(tenant, ss.ID, store.EventQuery{}); err != nil {
					return err
				}
				if st.Lifecycle[k], _, err = tx.ListLifecycleEvents(tenant, ss.ID, store.LifecycleQuery{}); err != nil {
					return err
				}
				if st.Perms[k], _, err = tx.ListPermissionRequests(tenant, ss.ID, store.PermissionQuery{}); err != nil {
					return err
				}
				if st.Logs[k], _, err = tx.ListLogEntries(tenant, ss.ID, store.LogQuery{}); err != nil {
					return err
				}
				if st.Artifacts[k], _, err = tx.ListArtifacts(tenant, ss.ID, store.ArtifactQuery{}); err != nil {
					return err
				}
			}
			for _, token := range []string{"f1", "f2", "empty"} {
				if f, err := tx.GetFile(tenant, token); err == nil {
					st.Files[tenant+"/"+token] = f
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if b, err := tx.FileData(tenant, token); err == nil {
					st.FileData[tenant+"/"+token] = b
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			for _, op := range []string{"createSession", "sendTurn"} {
				for _, key := range []string{"k1", "k2"} {
					if r, err := tx.GetIdempotency(tenant, op, key); err == nil {
						st.Idem[tenant+"/"+op+"/"+key] = r
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
			}
		}
		return nil
	})
	return st
}

// Seed writes one record of every type for tenant t1, and a few for t2.
func Seed(t *testing.T, s store.Store) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t2", "s1")); err != nil {
			return err
		}
		if err := tx.CreateFile("t2", file("empty", nil), nil); err != nil {
			return err
		}
		r := idem("t2", "sendTurn", "k2")
		r.StatusCode, r.Body = 0, nil
		if err := tx.PutIdempotency(r); err != nil {
			return err
		}
		if err := tx.CreateSession(fullSession("t1", "s1")); err != nil {
			return err
		}
		if err := tx.CreateTurn(fullTurn("t1", "s1", 1)); err != nil {
			return err
		}
		if err := tx.AppendEvent("t1", "s1", fullEvent(1, 1)); err != nil {
			return err
		}
		if err := tx.AppendLifecycleEvent("t1", "s1", lifecycleEvent(1, 1, gen.LifecycleEventTypeTurnEnded)); err != nil {
			return err
		}
		if err := tx.CreatePermissionRequest(pendingPermission("t1", "s1", "perm_1", 1)); err != nil {
			return err
		}
		if _, err := tx.AddLogEntry("t1", logEntry("s1", "l1", gen.LogEntryTypeInfo)); err != nil {
			return err
		}
		if _, err := tx.AddArtifact("t1", artifact("s1", "a1", gen.ArtifactActionCreated)); err != nil {
			return err
		}
		if err := tx.CreateFile("t1", file("f1", []byte("one")), []byte("one")); err != nil {
			return err
		}
		return tx.PutIdempotency(idem("t1", "createSession", "k1"))
	})
}

// writes is one successful call of every write method, on top of seed,
// with a read that sees it inside the same transaction.
var writes = []struct {
	name  string
	write func(tx store.Tx) error
	check func(tx store.Tx) error
}{
	{"CreateSession", func(tx store.Tx) error { return tx.CreateSession(newSession("t2", "s2")) },
		func(tx store.Tx) error { _, err := tx.GetSession("t2", "s2"); return err }},
	{"UpdateSession", func(tx store.Tx) error { return tx.UpdateSession(newSession("t1", "s1")) },
		func(tx store.Tx) error {
			s, err := tx.GetSession("t1", "s1")
			if err == nil && s.Meta != nil {
				err = errors.New("update not visible")
			}
			return err
		}},
	{"CreateTurn", func(tx store.Tx) error { return tx.CreateTurn(newTurn("t1", "s1", 2, gen.TurnStatusQueued)) },
		func(tx store.Tx) error { _, err := tx.GetTurn("t1", "s1", 2); return err }},
	{"UpdateTurn", func(tx store.Tx) error { return tx.UpdateTurn(newTurn("t1", "s1", 1, gen.TurnStatusRunning)) },
		func(tx store.Tx) error {
			tr, err := tx.GetTurn("t1", "s1", 1)
			if err == nil && tr.Status != gen.TurnStatusRunning {
				err = errors.New("update not visible")
			}
			return err
		}},
	{"AppendEvent", func(tx store.Tx) error { return tx.AppendEvent("t1", "s1", textEvent(2, 1)) },
		func(tx store.Tx) error {
			evs, _, err := tx.ListEvents("t1", "s1", store.EventQuery{AfterSeq: 1})
			if err == nil && len(evs) != 1 {
				err = errors.New("event not visible")
			}
			return err
		}},
	{"AppendLifecycleEvent", func(tx store.Tx) error {
		return tx.AppendLifecycleEvent("t1", "s1", lifecycleEvent(2, 1, gen.LifecycleEventTypeStatusChanged))
	}, func(tx store.Tx) error {
		evs, _, err := tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{AfterSeq: 1})
		if err == nil && len(evs) != 1 {
			err = errors.New("lifecycle event not visible")
		}
		return err
	}},
	{"CreatePermissionRequest", func(tx store.Tx) error {
		return tx.CreatePermissionRequest(pendingPermission("t1", "s1", "perm_2", 1))
	}, func(tx store.Tx) error { _, err := tx.GetPermissionRequest("t1", "s1", "perm_2"); return err }},
	{"UpdatePermissionRequest", func(tx store.Tx) error {
		r := pendingPermission("t1", "s1", "perm_1", 1)
		r.Status = gen.PermissionStatusCancelled
		return tx.UpdatePermissionRequest(r)
	}, func(tx store.Tx) error {
		r, err := tx.GetPermissionRequest("t1", "s1", "perm_1")
		if err == nil && r.Status != gen.PermissionStatusCancelled {
			err = errors.New("update not visible")
		}
		return err
	}},
	{"AddLogEntry", func(tx store.Tx) error {
		_, err := tx.AddLogEntry("t1", logEntry("s1", "l2", gen.LogEntryTypeError))
		return err
	}, func(tx store.Tx) error {
		es, _, err := tx.ListLogEntries("t1", "s1", store.LogQuery{Type: gen.LogEntryTypeError})
		if err == nil && len(es) != 1 {
			err = errors.New("log entry not visible")
		}
		return err
	}},
	{"AddArtifact", func(tx store.Tx) error {
		_, err := tx.AddArtifact("t1", artifact("s1", "a2", gen.ArtifactActionDeleted))
		return err
	}, func(tx store.Tx) error {
		as, _, err := tx.ListArtifacts("t1", "s1", store.ArtifactQuery{Action: gen.ArtifactActionDeleted})
		if err == nil && len(as) != 1 {
			err = errors.New("artifact not visible")
		}
		return err
	}},
	{"CreateFile", func(tx store.Tx) error { return tx.CreateFile("t1", file("f2", []byte("two")), []byte("two")) },
		func(tx store.Tx) error { _, err := tx.FileData("t1", "f2"); return err }},
	{"PutIdempotency new", func(tx store.Tx) error { return tx.PutIdempotency(idem("t1", "sendTurn", "k2")) },
		func(tx store.Tx) error { _, err := tx.GetIdempotency("t1", "sendTurn", "k2"); return err }},
	{"PutIdempotency replace", func(tx store.Tx) error {
		r := idem("t1", "createSession", "k1")
		r.StatusCode = 500
		return tx.PutIdempotency(r)
	}, func(tx store.Tx) error {
		r, err := tx.GetIdempotency("t1", "createSession", "k1")
		if err == nil && r.StatusCode != 500 {
			err = errors.New("replace not visible")
		}
		return err
	}},
}

func testRollback(t *testing.T, s store.Store) {
	Seed(t, s)
	before := Snapshot(t, s)
	for _, w := range writes {
		// Each write alone, then all of them in one transaction.
		err := s.Update(context.Background(), func(tx store.Tx) error {
			if err := w.write(tx); err != nil {
				t.Errorf("%s: %v", w.name, err)
			}
			if err := w.check(tx); err != nil {
				t.Errorf("%s: not visible in its own transaction: %v", w.name, err)
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("%s: Update returned %v, want fn's error as is", w.name, err)
		}
		if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
			t.Errorf("%s survived a failed Update (-before +after):\n%s", w.name, diff)
		}
	}
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, w := range writes {
			if err := w.write(tx); err != nil {
				t.Errorf("%s: %v", w.name, err)
			}
		}
		return errBoom
	})
	if err != errBoom {
		t.Errorf("Update returned %v, want fn's error as is", err)
	}
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("writes survived a failed Update (-before +after):\n%s", diff)
	}
	// A failed write inside a transaction that goes on does not undo the
	// others: fn decides.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t1", "s1")); !errors.Is(err, store.ErrExists) {
			t.Errorf("duplicate CreateSession: %v", err)
		}
		return tx.CreateSession(newSession("t1", "s9"))
	})
	view(t, s, func(tx store.Tx) error { _, err := tx.GetSession("t1", "s9"); return err })
	// And the same writes commit when fn succeeds.
	update(t, s, func(tx store.Tx) error {
		for _, w := range writes {
			if err := w.write(tx); err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for _, w := range writes {
			if err := w.check(tx); err != nil {
				t.Errorf("%s: not committed: %v", w.name, err)
			}
		}
		return nil
	})
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	Seed(t, s)
	before := Snapshot(t, s)
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("recovered %v, want the panic value", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			for _, w := range writes {
				if err := w.write(tx); err != nil {
					t.Errorf("%s: %v", w.name, err)
				}
			}
			panic(errBoom)
		})
	}()
	// The store is still usable (no lock held) and nothing was kept.
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("writes survived a panicking Update (-before +after):\n%s", diff)
	}
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "after")) })
}

func testReadOnly(t *testing.T, s store.Store) {
	Seed(t, s)
	before := Snapshot(t, s)
	for _, w := range writes {
		err := s.View(context.Background(), w.write)
		wantErr(t, w.name+" in View", err, store.ErrReadOnly)
	}
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("writes in View changed the store (-before +after):\n%s", diff)
	}
}

func testTxDone(t *testing.T, s store.Store) {
	Seed(t, s)
	var leaked store.Tx
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	_, err := leaked.GetSession("t1", "s1")
	wantErr(t, "GetSession after Update", err, store.ErrTxDone)
	wantErr(t, "CreateSession after Update", leaked.CreateSession(newSession("t1", "late")), store.ErrTxDone)
	view(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	_, _, err = leaked.ListSessions("t1", store.SessionQuery{})
	wantErr(t, "ListSessions after View", err, store.ErrTxDone)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.GetSession("t1", "late")
		wantErr(t, "late session", err, store.ErrNotFound)
		return nil
	})
}

// --- copies ---

func testCopiesOut(t *testing.T, s store.Store) {
	Seed(t, s)
	before := Snapshot(t, s)
	// Mutate everything a read hands out, deep inside too.
	view(t, s, func(tx store.Tx) error {
		ss, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		ss.Meta["team"] = "x"
		ss.Meta["tags"].([]any)[0] = "x"
		ss.Meta["nested"].(map[string]any)["x"] = false
		ss.Context["goal"] = "x"
		ss.Handoff.NextSteps[0] = "x"
		ss.Handoff.ContextForNext["branch"] = "x"
		ss.Handoff.Summary = "x"
		ss.AgentOptions["model"] = "x"
		list, _, err := tx.ListSessions("t1", store.SessionQuery{})
		if err != nil {
			return err
		}
		list[0].Meta["team"] = "y"
		list[0].Handoff.Blockers = append(list[0].Handoff.Blockers, "y")

		tr, err := tx.GetTurn("t1", "s1", 1)
		if err != nil {
			return err
		}
		tr.Files[0] = "x"
		*tr.Usage.InputTokens = 99
		tr.Meta["tags"].([]any)[0] = "x"
		turns, _, err := tx.ListTurns("t1", "s1", store.TurnQuery{})
		if err != nil {
			return err
		}
		turns[0].Files[1] = "y"
		turns[0].Usage.OutputTokens = nil
		turns[0].Meta["ticket"] = "y"

		pr, err := tx.GetPermissionRequest("t1", "s1", "perm_1")
		if err != nil {
			return err
		}
		pr.Options[0].Name = "x"
		prs, _, err := tx.ListPermissionRequests("t1", "s1", store.PermissionQuery{})
		if err != nil {
			return err
		}
		prs[0].Options[0].OptionID = "y"
		lcs, _, err := tx.ListLifecycleEvents("t1", "s1", store.LifecycleQuery{})
		if err != nil {
			return err
		}
		lcs[0].Type = "x"

		evs, _, err := tx.ListEvents("t1", "s1", store.EventQuery{})
		if err != nil {
			return err
		}
		evs[0].Content = "x"
		evs[0].Status = gen.ToolCallStatusFailed
		evs[0].Args["path"] = "x"
		evs[0].Args["opts"].(map[string]any)["n"] = 9.0
		evs[0].Data["k"].([]any)[0] = "x"
		evs[0].Result.([]any)[3].(map[string]any)["z"] = true

		logs, _, err := tx.ListLogEntries("t1", "s1", store.LogQuery{})
		if err != nil {
			return err
		}
		logs[0].Data["id"] = "x"
		arts, _, err := tx.ListArtifacts("t1", "s1", store.ArtifactQuery{})
		if err != nil {
			return err
		}
		arts[0].Metadata["id"] = "x"
		f, err := tx.GetFile("t1", "f1")
		if err != nil {
			return err
		}
		f.Filename = "x"
		b, err := tx.FileData("t1", "f1")
		if err != nil {
			return err
		}
		b[0] = 'X'
		r, err := tx.GetIdempotency("t1", "createSession", "k1")
		if err != nil {
			return err
		}
		r.Body[0] = 'X'
		return nil
	})
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("mutating returned records changed the store (-before +after):\n%s", diff)
	}
}

func testCopiesIn(t *testing.T, s store.Store) {
	ss := fullSession("t1", "s1")
	tr := fullTurn("t1", "s1", 1)
	ev := fullEvent(1, 1)
	pe := permissionEvent(2, 1)
	pr := fullPermission("t1", "s1", "perm_1", 1)
	le := logEntry("s1", "l1", gen.LogEntryTypeInfo)
	ar := artifact("s1", "a1", gen.ArtifactActionCreated)
	data := []byte("one")
	r := idem("t1", "createSession", "k1")
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateSession(ss); err != nil {
			return err
		}
		if err := tx.CreateTurn(tr); err != nil {
			return err
		}
		if err := tx.AppendEvent("t1", "s1", ev); err != nil {
			return err
		}
		if err := tx.AppendEvent("t1", "s1", pe); err != nil {
			return err
		}
		if err := tx.CreatePermissionRequest(pr); err != nil {
			return err
		}
		if _, err := tx.AddLogEntry("t1", le); err != nil {
			return err
		}
		if _, err := tx.AddArtifact("t1", ar); err != nil {
			return err
		}
		if err := tx.CreateFile("t1", file("f1", data), data); err != nil {
			return err
		}
		return tx.PutIdempotency(r)
	})
	before := Snapshot(t, s)
	// Mutate everything that was passed in.
	ss.Meta["team"] = "x"
	ss.Meta["nested"].(map[string]any)["x"] = false
	ss.Handoff.NextSteps[0] = "x"
	ss.Context["goal"] = "x"
	tr.Files[0] = "x"
	*tr.Usage.InputTokens = 99
	ev.Args["path"] = "x"
	ev.Args["opts"].(map[string]any)["n"] = 9.0
	ev.Result.([]any)[0] = "x"
	pe.Options[0].Name = "x"
	pr.Options[1].Kind = "x"
	ss.AgentOptions["model"] = "x"
	tr.Meta["ticket"] = "x"
	le.Data["id"] = "x"
	ar.Metadata["id"] = "x"
	data[0] = 'X'
	r.Body[0] = 'X'
	if diff := cmp.Diff(before, Snapshot(t, s)); diff != "" {
		t.Errorf("mutating written records changed the store (-before +after):\n%s", diff)
	}
}

// --- recovery, concurrency, context, close ---

func testUnfinishedTurns(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		// Sessions in Ord order: t2/b, t1/a, t1/c (ids deliberately not sorted).
		for _, ss := range []*store.Session{newSession("t2", "b"), newSession("t1", "a"), newSession("t1", "c")} {
			if err := tx.CreateSession(ss); err != nil {
				return err
			}
		}
		for _, tr := range []*store.Turn{
			newTurn("t1", "a", 1, gen.TurnStatusCompleted),
			newTurn("t1", "a", 3, gen.TurnStatusQueued),
			newTurn("t1", "a", 2, gen.TurnStatusRunning),
			newTurn("t2", "b", 1, gen.TurnStatusRunning),
			newTurn("t1", "c", 1, gen.TurnStatusCompleted),
		} {
			if err := tx.CreateTurn(tr); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.UnfinishedTurns()
		if err != nil {
			return err
		}
		want := []*store.Turn{
			newTurn("t2", "b", 1, gen.TurnStatusRunning),
			newTurn("t1", "a", 2, gen.TurnStatusRunning),
			newTurn("t1", "a", 3, gen.TurnStatusQueued),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UnfinishedTurns (-want +got):\n%s", diff)
		}
		return nil
	})
	// Ending them (what the server does on start-up) leaves none.
	update(t, s, func(tx store.Tx) error {
		turns, err := tx.UnfinishedTurns()
		if err != nil {
			return err
		}
		for _, tr := range turns {
			tr.Status, tr.StopReason = gen.TurnStatusCompleted, gen.StopReasonError
			if err := tx.UpdateTurn(tr); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.UnfinishedTurns()
		if err != nil || len(got) != 0 {
			t.Errorf("after ending them: UnfinishedTurns = %v, %v", got, err)
		}
		return nil
	})
}

// testConcurrency runs read-modify-write Updates and Views from many
// goroutines: under -race this finds data races, and a lost update shows
// as a wrong count.
func testConcurrency(t *testing.T, s store.Store) {
	const workers, rounds = 8, 20
	update(t, s, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", "shared")) })
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Add(2)
		go func() { // writer
			defer wg.Done()
			own := fmt.Sprint("own", w)
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateSession(newSession("t1", own)) }); err != nil {
				errs <- err
				return
			}
			for i := range rounds {
				err := s.Update(ctx, func(tx store.Tx) error {
					ss, err := tx.GetSession("t1", "shared")
					if err != nil {
						return err
					}
					ss.LastEventSeq++
					ss.TurnCount++
					if err := tx.AppendEvent("t1", "shared", textEvent(ss.LastEventSeq, int32(w+1))); err != nil {
						return err
					}
					if err := tx.UpdateSession(ss); err != nil {
						return err
					}
					if _, err := tx.AddLogEntry("t1", logEntry(own, fmt.Sprint(i), gen.LogEntryTypeInfo)); err != nil {
						return err
					}
					if i%5 == 4 { // some Updates fail and must leave nothing
						return errBoom
					}
					return nil
				})
				if err != nil && err != errBoom {
					errs <- err
					return
				}
			}
		}()
		go func() { // reader
			defer wg.Done()
			for range rounds {
				err := s.View(ctx, func(tx store.Tx) error {
					ss, err := tx.GetSession("t1", "shared")
					if err != nil {
						return err
					}
					evs, _, err := tx.ListEvents("t1", "shared", store.EventQuery{})
					if err != nil {
						return err
					}
					// A reader sees a committed State: the counter and the events agree.
					if int64(len(evs)) != ss.LastEventSeq {
						return fmt.Errorf("reader saw %d events and LastEventSeq %d", len(evs), ss.LastEventSeq)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	committed := workers * (rounds - rounds/5)
	view(t, s, func(tx store.Tx) error {
		ss, err := tx.GetSession("t1", "shared")
		if err != nil {
			return err
		}
		if ss.TurnCount != committed || ss.LastEventSeq != int64(committed) {
			t.Errorf("TurnCount %d, LastEventSeq %d; want %d (lost or leaked updates)", ss.TurnCount, ss.LastEventSeq, committed)
		}
		evs, _, err := tx.ListEvents("t1", "shared", store.EventQuery{})
		if err != nil {
			return err
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d: gap or duplicate", i, ev.Seq)
			}
		}
		n, err := tx.CountSessions("t1", store.SessionQuery{})
		if err != nil || n != workers+1 {
			t.Errorf("CountSessions = %d, %v; want %d", n, err, workers+1)
		}
		for w := range workers {
			logs, _, err := tx.ListLogEntries("t1", fmt.Sprint("own", w), store.LogQuery{})
			if err != nil {
				return err
			}
			if len(logs) != rounds-rounds/5 {
				t.Errorf("worker %d has %d log entries, want %d", w, len(logs), rounds-rounds/5)
			}
		}
		return nil
	})
}

func testContextCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.View(ctx, func(tx store.Tx) error { called = true; return nil })
	wantErr(t, "View with a cancelled ctx", err, context.Canceled)
	err = s.Update(ctx, func(tx store.Tx) error { called = true; return tx.CreateSession(newSession("t1", "s1")) })
	wantErr(t, "Update with a cancelled ctx", err, context.Canceled)
	if called {
		t.Error("fn ran with a cancelled ctx")
	}
	// Cancelled while fn runs: nothing is committed.
	ctx, cancel = context.WithCancel(context.Background())
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateSession(newSession("t1", "s2")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	wantErr(t, "Update cancelled during fn", err, context.Canceled)
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	err = s.Update(dctx, func(tx store.Tx) error { return nil })
	wantErr(t, "Update past its deadline", err, context.DeadlineExceeded)
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountSessions("t1", store.SessionQuery{})
		if err != nil || n != 0 {
			t.Errorf("CountSessions = %d, %v; want 0: a cancelled Update committed", n, err)
		}
		return nil
	})
}

func testClosed(t *testing.T, s store.Store) {
	Seed(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	wantErr(t, "View after Close", s.View(ctx, func(store.Tx) error { return nil }), store.ErrClosed)
	wantErr(t, "Update after Close", s.Update(ctx, func(store.Tx) error { return nil }), store.ErrClosed)
}
