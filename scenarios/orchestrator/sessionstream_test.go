package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/scenarios/internal/format"
)

func lifecycle(lseq, afterSeq int, typ string, more ...any) map[string]any {
	m := map[string]any{"lifecycle_seq": float64(lseq), "after_seq": float64(afterSeq), "type": typ,
		"created_at": fmt.Sprintf("2026-01-01T00:01:%02dZ", lseq)}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i].(string)] = more[i+1]
	}
	return m
}

// The session of a two-turn echo conversation, then closed, as the server
// holds it, and its stream's frames in the order the contract gives them.
func streamedSession() (*serverSession, []any) {
	e1, e2 := event(1, 1, "one"), event(2, 2, "two")
	l := []map[string]any{
		lifecycle(1, 0, "turn_started", "turn_index", 1.0),
		lifecycle(2, 1, "turn_ended", "turn_index", 1.0, "stop_reason", "end_turn"),
		lifecycle(3, 1, "turn_started", "turn_index", 2.0),
		lifecycle(4, 2, "turn_ended", "turn_index", 2.0, "stop_reason", "end_turn"),
		lifecycle(5, 2, "status_changed", "status", "completed"),
	}
	ss := &serverSession{ID: sidA, Scenario: "t", Alias: "s", Status: "completed",
		Turns:  []serverTurn{{Index: 1, Events: []map[string]any{e1}}, {Index: 2, Events: []map[string]any{e2}}},
		Events: []map[string]any{e1, e2}, Lifecycle: l}
	ev := func(e map[string]any) any { return map[string]any{"event": e} }
	lc := func(e map[string]any) any { return map[string]any{"lifecycle": e} }
	return ss, []any{lc(l[0]), ev(e1), lc(l[1]), lc(l[2]), ev(e2), lc(l[3]), lc(l[4])}
}

func streamScenario() format.Scenario {
	return format.Scenario{ID: "t", Steps: []format.Step{
		{Do: "create_session", As: "s"},
		{Do: "session_stream", Session: "s", As: "whole", With: map[string]any{"background": true}},
		{Do: "close_session", Session: "s"},
		{Do: "await", With: map[string]any{"stream": "whole"}},
		{Do: "session_stream", Session: "s", With: map[string]any{"after": "1.1"}},
	}}
}

func streamValue(t *testing.T, frames []any) []byte {
	return raw(t, map[string]any{"frames": frames, "session": map[string]any{"session_id": sidA, "status": "completed"}})
}

// streamObservations: the await carries whole, the resumed read resumed.
func streamObservations(t *testing.T, whole, resumed []any) []format.Observation {
	return []format.Observation{
		{Step: 1, Do: "create_session", Value: raw(t, map[string]any{"session_id": sidA})},
		{Step: 2, Do: "session_stream"},
		{Step: 3, Do: "close_session", Value: raw(t, map[string]any{"session_id": sidA})},
		{Step: 4, Do: "await", Value: streamValue(t, whole)},
		{Step: 5, Do: "session_stream", Value: streamValue(t, resumed)},
	}
}

func checkStreams(t *testing.T, whole, resumed []any) (*scenarioCheck, streamCount) {
	t.Helper()
	ss, _ := streamedSession()
	c := checkScenario(streamScenario(), &format.ScenarioResult{ID: "t", Observations: streamObservations(t, whole, resumed)}, newAliases("rk3x9q2z"))
	cnt := c.checkSessionStreamsOnServer(map[string]*serverSession{sidA: ss})
	return c, cnt
}

func TestSessionStreamPasses(t *testing.T) {
	_, frames := streamedSession()
	// After 1.1: events after seq 1, lifecycle events after lifecycle_seq 1.
	c, cnt := checkStreams(t, frames, frames[2:])
	if !c.ok() {
		t.Fatalf("failures:\n%s", strings.Join(checks(c), "\n"))
	}
	want := streamCount{streamed: 3, lifecycleStreamed: 9}
	if cnt != want {
		t.Fatalf("counts %+v, want %+v", cnt, want)
	}
}

// Each defect fails the check that should catch it, on the step that
// observed the stream, and the counts say what was duplicated or lost.
func TestSessionStreamFailures(t *testing.T) {
	_, good := streamedSession()
	with := func(edit func(f []any) []any) []any {
		f := append([]any{}, good...)
		return edit(f)
	}
	cases := []struct {
		name   string
		whole  []any
		want   []string // substrings, each of some failure on step 4
		counts streamCount
	}{
		{"a duplicated turn event", with(func(f []any) []any { return append(f[:2], append([]any{f[1]}, f[2:]...)...) }),
			[]string{"4 session-stream the turn events' seqs after 0 are not contiguous: [1 1 2]", "not the session's events on the server"},
			streamCount{streamed: 3, duplicated: 1, lifecycleStreamed: 5}},
		{"a duplicated lifecycle event", with(func(f []any) []any { return append(f, f[6]) }),
			[]string{"lifecycle_seqs after 0 are not contiguous: [1 2 3 4 5 5]", "not the session's lifecycle events on the server"},
			streamCount{streamed: 2, lifecycleStreamed: 6, lifecycleDuplicated: 1}},
		{"a lost lifecycle event", with(func(f []any) []any { return append(f[:5], f[6]) }),
			[]string{"lifecycle_seqs after 0 are not contiguous: [1 2 3 5]", "lifecycle: the stream has 4 items, the server has 5"},
			streamCount{streamed: 2, lifecycleStreamed: 4, lifecycleLost: 1}},
		{"a lost turn event", with(func(f []any) []any { return append(f[:4], f[5:]...) }),
			[]string{"events: the stream has 1 items, the server has 2"},
			streamCount{streamed: 1, lost: 1, lifecycleStreamed: 5}},
		{"a lifecycle event before the turn event it follows", with(func(f []any) []any { f[1], f[2] = f[2], f[1]; return f }),
			[]string{"lifecycle event 2 (turn_ended, after_seq 1) came after turn event 0: it belongs after event 1 and before event 2"},
			streamCount{streamed: 2, lifecycleStreamed: 5}},
		{"a lifecycle event after the next turn event", with(func(f []any) []any { f[3], f[4] = f[4], f[3]; return f }),
			[]string{"lifecycle event 3 (turn_started, after_seq 1) came after turn event 2"},
			streamCount{streamed: 2, lifecycleStreamed: 5}},
		{"turn events out of order", with(func(f []any) []any { f[1], f[4] = f[4], f[1]; return f }),
			[]string{"the turn events' seqs after 0 are not contiguous: [2 1]"},
			streamCount{streamed: 2, lifecycleStreamed: 5}},
		{"a frame that is neither", with(func(f []any) []any { return append(f, map[string]any{"ended": true}) }),
			[]string{`frame 7 is neither`}, streamCount{streamed: 2, lifecycleStreamed: 5}},
		{"an event unlike the server's", with(func(f []any) []any {
			e := event(2, 2, "TWO")
			f[4] = map[string]any{"event": e}
			return f
		}), []string{`events[1].content: the stream has "TWO", the server has "two"`}, streamCount{streamed: 2, lifecycleStreamed: 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, cnt := checkStreams(t, tc.whole, good[2:])
			all := strings.Join(checks(c), "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no failure contains %q; failures:\n%s", w, all)
				}
			}
			for _, f := range c.failures {
				if f.Step != 4 || f.Check != "session-stream" {
					t.Errorf("a failure elsewhere than step 4's session-stream check: %+v", f)
				}
			}
			// The resumed read is good: it adds 1 event and 4 lifecycle events.
			tc.counts.streamed++
			tc.counts.lifecycleStreamed += 4
			if cnt != tc.counts {
				t.Errorf("counts %+v, want %+v", cnt, tc.counts)
			}
		})
	}
}

// A resumed read starts after its position: the frames before it are not
// expected, and one that starts earlier than asked is a duplicate.
func TestSessionStreamResumesAfterItsPosition(t *testing.T) {
	_, good := streamedSession()
	c, cnt := checkStreams(t, good, good)
	if c.ok() {
		t.Fatal("a read after 1.1 that repeats the frames before it passed")
	}
	all := strings.Join(checks(c), "\n")
	if !strings.Contains(all, "5 session-stream the turn events' seqs after 1 are not contiguous: [1 2]") {
		t.Fatalf("failures:\n%s", all)
	}
	if cnt.lost != 0 || cnt.lifecycleLost != 0 {
		t.Fatalf("counts %+v: nothing was lost", cnt)
	}
	// The stream's session missing on the server fails too.
	c = checkScenario(streamScenario(), &format.ScenarioResult{ID: "t", Observations: streamObservations(t, good, good[2:])}, newAliases("rk3x9q2z"))
	c.checkSessionStreamsOnServer(map[string]*serverSession{})
	if c.ok() {
		t.Fatal("a stream of a session the server does not have passed")
	}
}

func TestParsePosition(t *testing.T) {
	for in, want := range map[string]position{"": {}, "0.0": {}, "1.1": {1, 1}, "40.7": {40, 7}} {
		if got, _ := parsePosition(in); got != want {
			t.Errorf("parsePosition(%q) = %v, want %v", in, got, want)
		}
	}
	if _, ok := parsePosition("4"); ok {
		t.Error("parsePosition accepted 4")
	}
}

// The 1.2 error kinds are the kinds a step must fail with: another kind,
// or success, fails the step.
func TestNewErrorKinds(t *testing.T) {
	sc := format.Scenario{ID: "t", Steps: []format.Step{
		{Do: "create_session", As: "s"},
		{Do: "turn", Session: "s", ExpectError: format.KindPermissionRequired},
		{Do: "answer_permission", Session: "s", ExpectError: format.KindPermissionResolved},
		{Do: "cancel_turn", Session: "s", ExpectError: format.KindTurnEnded},
	}}
	obs := func(kinds ...string) []format.Observation {
		o := []format.Observation{{Step: 1, Do: "create_session", Value: raw(t, map[string]any{"session_id": sidA})}}
		for i, k := range kinds {
			o = append(o, format.Observation{Step: i + 2, Do: sc.Steps[i+1].Do, Error: &format.ErrorInfo{Kind: k, Status: 409}})
		}
		return o
	}
	good := checkScenario(sc, &format.ScenarioResult{ID: "t", Observations: obs("permission_required", "permission_resolved", "turn_ended")}, newAliases("rk3x9q2z"))
	if !good.ok() {
		t.Fatalf("failures: %q", checks(good))
	}
	bad := checkScenario(sc, &format.ScenarioResult{ID: "t", Observations: obs("validation", "conflict", "conflict")}, newAliases("rk3x9q2z"))
	want := []string{
		`2 error want error permission_required, got validation`,
		`3 error want error permission_resolved, got conflict`,
		`4 error want error turn_ended, got conflict`,
	}
	got := checks(bad)
	if len(got) != len(want) {
		t.Fatalf("failures: %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("failure %q, want it to start with %q", got[i], want[i])
		}
	}
}
