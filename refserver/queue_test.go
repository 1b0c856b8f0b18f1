package refserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// acceptedOf reads the first frame of a sendTurn stream.
func acceptedOf(t *testing.T, rd *sse.Reader) gen.TurnAccepted {
	t.Helper()
	f, err := rd.Next()
	if err != nil || f.Event != "turn.accepted" {
		t.Fatalf("first frame %+v, %v", f, err)
	}
	checkFrame(t, f)
	var acc gen.TurnAccepted
	if err := json.Unmarshal([]byte(f.Data), &acc); err != nil {
		t.Fatal(err)
	}
	return acc
}

func (c *client) turnsIn(id string, status gen.TurnStatus) []gen.Turn {
	c.t.Helper()
	var list gen.TurnList
	c.do("GET", "/v1/sessions/"+id+"/turns?status="+string(status), nil).want(c.t, 200).decode(c.t, &list)
	return list.Items
}

func positions(turns []gen.Turn) map[int32]int32 {
	out := map[int32]int32{}
	for _, tr := range turns {
		out[tr.TurnIndex] = tr.QueuePosition
	}
	return out
}

// Queued turns carry their position (turn.accepted, getTurn, listTurns),
// the session counts them, and cancelTurnAt takes one out of the queue:
// it ends cancelled without running and the ones behind move up.
func TestQueuePositionsAndCancelTurnAt(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	s := "/v1/sessions/" + id + "/turns"
	running := c.doAsync("POST", s, map[string]any{"prompt": slow})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	var streams []*sse.Reader
	for i := 2; i <= 4; i++ {
		resp := c.stream(context.Background(), "POST", s, map[string]any{"prompt": script("", text(0, fmt.Sprint("turn ", i))), "busy_policy": "enqueue"})
		defer resp.Body.Close()
		rd := sse.NewReader(resp.Body)
		if acc := acceptedOf(t, rd); acc.Status != gen.TurnStatusQueued || acc.QueuePosition != int32(i-1) || acc.TurnIndex != int32(i) {
			t.Fatalf("turn.accepted %+v, want queued at position %d", acc, i-1)
		}
		streams = append(streams, rd)
	}
	if got := c.getSession(id); got.QueuedTurns != 3 {
		t.Errorf("queued_turns %d, want 3", got.QueuedTurns)
	}
	if diff := cmp.Diff(map[int32]int32{2: 1, 3: 2, 4: 3}, positions(c.turnsIn(id, gen.TurnStatusQueued))); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
	if tr := c.getTurn(id, 3); tr.QueuePosition != 2 {
		t.Errorf("getTurn queue_position %d", tr.QueuePosition)
	}
	if running := c.turnsIn(id, gen.TurnStatusRunning); len(running) != 1 || running[0].TurnIndex != 1 || running[0].QueuePosition != 0 {
		t.Errorf("running turns %+v", running)
	}

	// Cancel the middle one.
	var cancelled gen.Turn
	c.do("POST", s+"/3/cancel", nil, header{"Idempotency-Key", "k-cancel-3"}).want(t, 200).decode(t, &cancelled)
	if cancelled.Status != gen.TurnStatusCompleted || cancelled.StopReason != gen.StopReasonCancelled ||
		cancelled.CancelledBy != gen.CancelledByCancelRequest || cancelled.EventCount != 0 || cancelled.QueuePosition != 0 {
		t.Errorf("cancelled turn %+v", cancelled)
	}
	replay := c.do("POST", s+"/3/cancel", nil, header{"Idempotency-Key", "k-cancel-3"}).want(t, 200)
	if replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the repeated cancel was not replayed")
	}
	// Its stream ends at once.
	var frames []sse.Frame
	for {
		f, err := streams[1].Next()
		if err != nil {
			break
		}
		frames = append(frames, f)
	}
	if len(frames) != 1 || summaryOf(t, frames[0]).StopReason != gen.StopReasonCancelled {
		t.Errorf("the cancelled turn's stream: %+v", frames)
	}
	if diff := cmp.Diff(map[int32]int32{2: 1, 4: 2}, positions(c.turnsIn(id, gen.TurnStatusQueued))); diff != "" {
		t.Errorf("positions after the cancel (-want +got):\n%s", diff)
	}
	if got := c.getSession(id); got.QueuedTurns != 2 {
		t.Errorf("queued_turns %d, want 2", got.QueuedTurns)
	}
	// An ended turn is 409, a turn the session does not have 404.
	c.do("POST", s+"/3/cancel", nil).want(t, 409, gen.ProblemCodeTurnEnded)
	c.do("POST", s+"/9/cancel", nil).want(t, 404, gen.ProblemCodeNotFound)
	c.do("POST", "/v1/sessions/sess_nope/turns/1/cancel", nil).want(t, 404, gen.ProblemCodeNotFound)

	// Cancel the running one: the queue goes on in order.
	c.do("POST", s+"/1/cancel", nil).want(t, 200).decode(t, &cancelled)
	if cancelled.StopReason != gen.StopReasonCancelled || cancelled.CancelledBy != gen.CancelledByCancelRequest || cancelled.EventCount != 1 {
		t.Errorf("the running turn cancelled: %+v", cancelled)
	}
	result(t, running).want(t, 200)
	for i, rd := range []*sse.Reader{streams[0], streams[2]} {
		var frames []sse.Frame
		for {
			f, err := rd.Next()
			if err != nil {
				break
			}
			frames = append(frames, f)
		}
		if sum := summaryOf(t, frames[len(frames)-1]); sum.StopReason != gen.StopReasonEndTurn {
			t.Errorf("queued turn %d: %+v", i, sum)
		}
	}
	t2, t4 := c.getTurn(id, 2), c.getTurn(id, 4)
	if t4.StartedAt.Before(t2.EndedAt) {
		t.Errorf("turn 4 started before turn 2 ended")
	}
	if got := c.getSession(id); got.QueuedTurns != 0 || got.TurnCount != 4 {
		t.Errorf("session %+v", got)
	}
	// The lifecycle log has every queueing, start and end.
	var lc gen.LifecycleEventList
	c.do("GET", "/v1/sessions/"+id+"/lifecycle?limit=100", nil).want(t, 200).decode(t, &lc)
	var got []string
	for _, e := range lc.Items {
		got = append(got, fmt.Sprintf("%s %d %d", e.Type, e.TurnIndex, e.QueuePosition))
	}
	want := []string{"turn_started 1 0", "turn_queued 2 1", "turn_queued 3 2", "turn_queued 4 3", "turn_ended 3 0",
		"turn_ended 1 0", "turn_started 2 0", "turn_ended 2 0", "turn_started 4 0", "turn_ended 4 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lifecycle (-want +got):\n%s", diff)
	}
}

// Cancelling a queued turn while the one before it ends: whichever comes
// first, the turn ends cancelled by the request, never twice, and the
// session goes on.
func TestCancelQueuedTurnWhileTheOneBeforeEnds(t *testing.T) {
	_, c := start(t)
	for i := range 20 {
		id := c.newSession("scripted")
		s := "/v1/sessions/" + id + "/turns"
		first := c.doAsync("POST", s, map[string]any{"prompt": script("", wait(time.Duration(i%4)*time.Millisecond))})
		c.waitExists(id, 1) // it may already have ended: turn 2 then runs at once
		second := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "second"), wait(30*time.Second)), "busy_policy": "enqueue"})
		c.waitExists(id, 2)
		var tr gen.Turn
		c.do("POST", s+"/2/cancel", nil).want(t, 200).decode(t, &tr)
		if tr.StopReason != gen.StopReasonCancelled || tr.CancelledBy != gen.CancelledByCancelRequest {
			t.Fatalf("round %d: turn 2 %+v", i, tr)
		}
		result(t, first).want(t, 200)
		var r2 gen.TurnResult
		result(t, second).want(t, 200).decode(t, &r2)
		if r2.StopReason != gen.StopReasonCancelled || r2.EventCount != tr.EventCount {
			t.Errorf("round %d: the waiter of turn 2 got %+v, the cancel %+v", i, r2, tr)
		}
		if s := c.getSession(id); s.QueuedTurns != 0 || s.Activity != gen.ActivityIdle {
			t.Errorf("round %d: session %+v", i, s)
		}
		var lc gen.LifecycleEventList
		c.do("GET", "/v1/sessions/"+id+"/lifecycle?limit=100", nil).want(t, 200).decode(t, &lc)
		ends := 0
		for _, e := range lc.Items {
			if e.Type == gen.LifecycleEventTypeTurnEnded && e.TurnIndex == 2 {
				ends++
			}
		}
		if ends != 1 {
			t.Errorf("round %d: turn 2 ended %d times in the lifecycle log", i, ends)
		}
		c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "after"))})
	}
}

// busy_policy steer gives the prompt to the running turn, which records it
// as guidance at its next step boundary; no turn starts. A stream of it
// says steered; with nothing running it starts a turn; an agent that
// cannot be steered answers 422.
func TestSteer(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	s := "/v1/sessions/" + id + "/turns"
	long := script("", text(0, "a"), wait(400*time.Millisecond), text(0, "b"), wait(400*time.Millisecond), text(0, "c"))
	first := c.doAsync("POST", s, map[string]any{"prompt": long})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	time.Sleep(100 * time.Millisecond) // in the first wait
	var steered gen.TurnResult
	steer := c.doAsync("POST", s, map[string]any{"prompt": "mind the tests", "busy_policy": "steer"}, header{"Idempotency-Key", "k-steer"})
	time.Sleep(400 * time.Millisecond) // in the second wait
	resp := c.stream(context.Background(), "POST", s, map[string]any{"prompt": "and the docs", "busy_policy": "steer"})
	defer resp.Body.Close()
	rd := sse.NewReader(resp.Body)
	acc := acceptedOf(t, rd)
	if !acc.Steered || acc.TurnIndex != 1 || acc.Status != gen.TurnStatusRunning || acc.QueuePosition != 0 {
		t.Errorf("a steered stream's turn.accepted: %+v", acc)
	}
	var frames []sse.Frame
	for {
		f, err := rd.Next()
		if err != nil {
			break
		}
		checkFrame(t, f)
		frames = append(frames, f)
	}
	if diff := cmp.Diff([]string{"guidance:and the docs", "text:c"}, kinds(eventsOf(t, frames))); diff != "" {
		t.Errorf("the steered stream's events (-want +got):\n%s", diff)
	}
	result(t, steer).want(t, 200).decode(t, &steered)
	var r1 gen.TurnResult
	result(t, first).want(t, 200).decode(t, &r1)
	want := []string{"text:a", "guidance:mind the tests", "text:b", "guidance:and the docs", "text:c"}
	if diff := cmp.Diff(want, kinds(r1.Events)); diff != "" {
		t.Errorf("the running turn's events (-want +got):\n%s", diff)
	}
	if steered.TurnIndex != 1 || !cmp.Equal(kinds(steered.Events), want) {
		t.Errorf("the steer's answer %+v, want the running turn's result", steered)
	}
	if got := c.getSession(id); got.TurnCount != 1 {
		t.Errorf("turn_count %d: steering started a turn", got.TurnCount)
	}
	// The key replays the steer (no second guidance), steered still.
	replay := c.stream(context.Background(), "POST", s, map[string]any{"prompt": "mind the tests", "busy_policy": "steer"},
		header{"Idempotency-Key", "k-steer"})
	defer replay.Body.Close()
	if acc := acceptedOf(t, sse.NewReader(replay.Body)); !acc.Steered || acc.TurnIndex != 1 || acc.Status != gen.TurnStatusCompleted {
		t.Errorf("replayed steer %+v", acc)
	}
	// Nothing running: a new turn.
	var r2 gen.TurnResult
	c.do("POST", s, map[string]any{"prompt": script("", text(0, "fresh")), "busy_policy": "steer"}).want(t, 200).decode(t, &r2)
	if r2.TurnIndex != 2 || !cmp.Equal(eventTexts(r2.Events), []string{"fresh"}) {
		t.Errorf("a steer prompt while idle: %+v", r2)
	}
	if tr := c.getTurn(id, 2); tr.BusyPolicy != gen.BusyPolicySteer {
		t.Errorf("busy_policy %s", tr.BusyPolicy)
	}
	// An agent that cannot be steered: 422, idle or busy.
	echo := c.newSession("echo")
	c.do("POST", "/v1/sessions/"+echo+"/turns", map[string]any{"prompt": "x", "busy_policy": "steer"}).want(t, 422, gen.ProblemCodeUnsupportedBusyPolicy)
	if got := c.getSession(echo); got.TurnCount != 0 {
		t.Errorf("the refused steer started a turn: %+v", got)
	}
}

// waitExists polls until turn index of session id exists.
func (c *client) waitExists(id string, index int) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.do("GET", fmt.Sprintf("/v1/sessions/%s/turns/%d", id, index), nil).Status != 200 {
		if time.Now().After(deadline) {
			c.t.Fatalf("turn %d of %s does not exist", index, id)
		}
		time.Sleep(time.Millisecond)
	}
}

// kinds is each event as "type:content".
func kinds(events []gen.Event) []string {
	var out []string
	for _, ev := range events {
		out = append(out, string(ev.Type)+":"+ev.Content)
	}
	return out
}

// listTurns?status filters; the cursor of one status does not page
// another.
func TestListTurnsByStatus(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	for range 3 {
		c.sendTurn(id, gen.TurnRequest{Prompt: "x"})
	}
	if got := c.turnsIn(id, gen.TurnStatusCompleted); len(got) != 3 {
		t.Errorf("completed %d", len(got))
	}
	if got := c.turnsIn(id, gen.TurnStatusQueued); len(got) != 0 {
		t.Errorf("queued %+v", got)
	}
	var page gen.TurnList
	c.do("GET", "/v1/sessions/"+id+"/turns?status=completed&limit=1", nil).want(t, 200).decode(t, &page)
	c.do("GET", "/v1/sessions/"+id+"/turns?status=queued&cursor="+page.NextCursor, nil).want(t, 400, gen.ProblemCodeInvalidCursor)
	c.do("GET", "/v1/sessions/"+id+"/turns?status=done", nil).want(t, 400, gen.ProblemCodeInvalidRequest)
	if got := collectPages[gen.Turn](t, c, "/v1/sessions/"+id+"/turns?status=completed", 2); len(got) != 3 {
		t.Errorf("paged: %d turns", len(got))
	}
	_ = http.StatusOK
}
