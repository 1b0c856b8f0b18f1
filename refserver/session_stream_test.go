package refserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/sse"
)

// checkSessionFrame checks a streamSession frame against its schema: the
// frame (event, id, data) is a SessionStreamFrame.
func checkSessionFrame(t testing.TB, f sse.Frame) {
	t.Helper()
	doc, err := specDoc()
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{"event": "message"}
	if f.Event != "" {
		obj["event"] = f.Event
	}
	if f.HasID {
		obj["id"] = f.ID
	}
	var data any
	if err := json.Unmarshal([]byte(f.Data), &data); err != nil {
		t.Fatalf("frame data %q: %v", f.Data, err)
	}
	obj["data"] = data
	if err := doc.Components.Schemas["SessionStreamFrame"].Value.VisitJSON(obj); err != nil {
		t.Errorf("frame %q breaks SessionStreamFrame: %v: %+v", f.Event, err, obj)
	}
}

// readSession reads a session stream until it ends or n frames arrived
// (n < 0: to the end).
func readSession(t *testing.T, rd *sse.Reader, n int) []sse.Frame {
	t.Helper()
	var frames []sse.Frame
	for n < 0 || len(frames) < n {
		f, err := rd.Next()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		checkSessionFrame(t, f)
		frames = append(frames, f)
	}
	return frames
}

func (c *client) openSessionStream(ctx context.Context, id string, hdrs ...header) *http.Response {
	c.t.Helper()
	return c.stream(ctx, "GET", "/v1/sessions/"+id+"/stream", nil, hdrs...)
}

// describe renders frames for comparison: "seq.lseq event detail".
func describe(t *testing.T, frames []sse.Frame) []string {
	t.Helper()
	var out []string
	for _, f := range frames {
		switch f.Event {
		case "":
			var ev gen.Event
			json.Unmarshal([]byte(f.Data), &ev)
			out = append(out, fmt.Sprintf("%s event %d %s", f.ID, ev.Seq, ev.Type))
		case "session.lifecycle":
			var ev gen.LifecycleEvent
			json.Unmarshal([]byte(f.Data), &ev)
			out = append(out, fmt.Sprintf("%s lifecycle %d %s", f.ID, ev.LifecycleSeq, ev.Type))
		case "session.ended":
			var s gen.Session
			json.Unmarshal([]byte(f.Data), &s)
			out = append(out, fmt.Sprintf("ended %s %s", s.Status, s.EndReason))
		default:
			out = append(out, "unknown "+f.Event)
		}
	}
	return out
}

// A session's life on its stream: every turn event and lifecycle event in
// order (a lifecycle event after the turn event it follows), ids that are
// the position after each frame, open across turns, then session.ended.
// The history (listEvents, listLifecycleEvents) agrees.
func TestSessionStreamCarriesTheSession(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.KeepAlive = 20 * time.Millisecond })
	id := c.newSession("scripted")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := c.openSessionStream(ctx, id)
	defer resp.Body.Close()
	rd := sse.NewReader(resp.Body)
	s := "/v1/sessions/" + id + "/turns"

	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "one"), text(0, "two"))})
	time.Sleep(60 * time.Millisecond) // quiet: keep-alives
	turn := c.doAsync("POST", s, map[string]any{"prompt": script("", askStep("p", 0), wait(30*time.Second))})
	c.waitPending(id, 1)
	queued := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "queued")), "busy_policy": "enqueue"})
	c.waitTurn(id, 3, gen.TurnStatusQueued)
	c.answer(id, "p", "allow").want(t, 200)
	c.do("POST", s+"/2/cancel", nil).want(t, 200)
	result(t, turn)
	result(t, queued)
	c.do("POST", "/v1/sessions/"+id+"/pause", nil).want(t, 200)
	c.do("POST", "/v1/sessions/"+id+"/resume", nil).want(t, 200)
	c.do("POST", "/v1/sessions/"+id+"/children", map[string]any{"agent": "echo"}).want(t, 201)
	c.do("POST", "/v1/sessions/"+id+"/handoff", map[string]any{"summary": "over to you"}).want(t, 200)
	c.do("DELETE", "/v1/sessions/"+id, nil).want(t, 200)

	frames := readSession(t, rd, -1)
	want := []string{
		"0.1 lifecycle 1 turn_started", "1.1 event 1 text", "2.1 event 2 text", "2.2 lifecycle 2 turn_ended",
		"2.3 lifecycle 3 turn_started", "3.3 event 3 permission_request", "3.4 lifecycle 4 turn_queued",
		"4.4 event 4 permission_response", "5.4 event 5 text", "5.5 lifecycle 5 turn_ended",
		"5.6 lifecycle 6 turn_started", "6.6 event 6 text", "6.7 lifecycle 7 turn_ended",
		"6.8 lifecycle 8 status_changed", "6.9 lifecycle 9 status_changed", "6.10 lifecycle 10 child_spawned",
		"6.11 lifecycle 11 handoff", "6.12 lifecycle 12 status_changed", "6.13 lifecycle 13 status_changed",
		"ended completed closed",
	}
	if diff := cmp.Diff(want, describe(t, frames)); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
	if rd.Comments() == 0 {
		t.Error("no keep-alive while the session was quiet")
	}
	// The history holds the same events.
	var events gen.EventList
	c.do("GET", "/v1/sessions/"+id+"/events?limit=100", nil).want(t, 200).decode(t, &events)
	var lcs gen.LifecycleEventList
	c.do("GET", "/v1/sessions/"+id+"/lifecycle?limit=100", nil).want(t, 200).decode(t, &lcs)
	var streamed []gen.LifecycleEvent
	var streamedEvents []gen.Event
	for _, f := range frames {
		switch f.Event {
		case "session.lifecycle":
			var ev gen.LifecycleEvent
			json.Unmarshal([]byte(f.Data), &ev)
			streamed = append(streamed, ev)
		case "":
			var ev gen.Event
			json.Unmarshal([]byte(f.Data), &ev)
			streamedEvents = append(streamedEvents, ev)
		}
	}
	if diff := cmp.Diff(lcs.Items, streamed); diff != "" {
		t.Errorf("listLifecycleEvents and the stream differ (-list +stream):\n%s", diff)
	}
	if diff := cmp.Diff(events.Items, streamedEvents); diff != "" {
		t.Errorf("listEvents and the stream differ (-list +stream):\n%s", diff)
	}
	byType := map[gen.LifecycleEventType][]gen.LifecycleEvent{}
	for _, e := range lcs.Items {
		byType[e.Type] = append(byType[e.Type], e)
	}
	if q := byType[gen.LifecycleEventTypeTurnQueued]; len(q) != 1 || q[0].TurnIndex != 3 || q[0].QueuePosition != 1 {
		t.Errorf("turn_queued %+v", q)
	}
	ends := byType[gen.LifecycleEventTypeTurnEnded]
	if len(ends) != 3 || ends[0].StopReason != gen.StopReasonEndTurn || ends[1].StopReason != gen.StopReasonCancelled {
		t.Errorf("turn_ended %+v", ends)
	}
	var statuses []gen.SessionStatus
	for _, e := range byType[gen.LifecycleEventTypeStatusChanged] {
		statuses = append(statuses, e.Status)
	}
	if !cmp.Equal(statuses, []gen.SessionStatus{"paused", "active", "paused", "completed"}) {
		t.Errorf("status changes %v", statuses)
	}
	if ch := byType[gen.LifecycleEventTypeChildSpawned]; len(ch) != 1 || ch[0].ChildSessionID == "" {
		t.Errorf("child_spawned %+v", ch)
	}
	// An ended session's stream ends at once, from wherever it resumes.
	again := c.openSessionStream(context.Background(), id, header{"Last-Event-ID", "6.12"})
	defer again.Body.Close()
	if got := describe(t, readSession(t, sse.NewReader(again.Body), -1)); !cmp.Equal(got, want[len(want)-2:]) {
		t.Errorf("resumed at 6.12: %q", got)
	}
}

// Resumed at every position of a recorded run, the stream gives exactly
// the frames that followed that position (Last-Event-ID or after).
func TestSessionStreamResumesAtEveryPosition(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	s := "/v1/sessions/" + id + "/turns"
	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "a"), text(0, "b"))})
	first := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "c"), wait(200*time.Millisecond), text(0, "d"))})
	c.waitTurn(id, 2, gen.TurnStatusRunning)
	second := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "e")), "busy_policy": "enqueue"})
	result(t, first)
	result(t, second)
	c.do("POST", "/v1/sessions/"+id+"/pause", nil).want(t, 200)
	c.do("POST", "/v1/sessions/"+id+"/end", map[string]any{"status": "completed"}).want(t, 200)
	all := c.openSessionStream(context.Background(), id)
	full := readSession(t, sse.NewReader(all.Body), -1)
	all.Body.Close()
	if len(full) < 12 || full[len(full)-1].Event != "session.ended" {
		t.Fatalf("recorded %q", describe(t, full))
	}
	positions := []string{"0.0"}
	for _, f := range full[:len(full)-1] {
		positions = append(positions, f.ID)
	}
	for i, pos := range positions {
		for _, how := range []string{"header", "query"} {
			var resp *http.Response
			if how == "header" {
				resp = c.openSessionStream(context.Background(), id, header{"Last-Event-ID", pos})
			} else {
				resp = c.stream(context.Background(), "GET", "/v1/sessions/"+id+"/stream?after="+pos, nil)
			}
			got := readSession(t, sse.NewReader(resp.Body), -1)
			resp.Body.Close()
			if diff := cmp.Diff(describe(t, full[i:]), describe(t, got)); diff != "" {
				t.Errorf("resumed (%s) at %s (-want +got):\n%s", how, pos, diff)
			}
		}
	}
	// The header wins over after; a bad position is 400.
	resp := c.stream(context.Background(), "GET", "/v1/sessions/"+id+"/stream?after=0.0", nil, header{"Last-Event-ID", positions[len(positions)-1]})
	if got := readSession(t, sse.NewReader(resp.Body), -1); len(got) != 1 {
		t.Errorf("Last-Event-ID and after: %q", describe(t, got))
	}
	resp.Body.Close()
	for _, bad := range []string{"7", "1.2.3", "-1.0", "a.b", "1234567890123456.0"} {
		c.do("GET", "/v1/sessions/"+id+"/stream", nil, header{"Accept", "text/event-stream"}, header{"Last-Event-ID", bad}).
			want(t, 400, gen.ProblemCodeInvalidRequest)
	}
	c.do("GET", "/v1/sessions/"+id+"/stream", nil, header{"Last-Event-ID", "999999999999999.999999999999999"}, header{"Accept", "text/event-stream"}).
		want(t, 200)
}

// A live stream dropped and resumed gets the rest exactly once, across
// turns; another tenant's session is 404.
func TestSessionStreamResumesLive(t *testing.T) {
	srv, c := start(t)
	id := c.newSession("scripted")
	ctx, cancel := context.WithCancel(context.Background())
	resp := c.openSessionStream(ctx, id)
	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "a"), text(0, "b"))})
	got := readSession(t, sse.NewReader(resp.Body), 3)
	cancel()
	resp.Body.Close()
	last := got[len(got)-1].ID
	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "c"))})
	resp = c.openSessionStream(context.Background(), id, header{"Last-Event-ID", last})
	rd := sse.NewReader(resp.Body)
	got = append(got, readSession(t, rd, 4)...)
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.do("DELETE", "/v1/sessions/"+id, nil)
	}()
	got = append(got, readSession(t, rd, -1)...)
	resp.Body.Close()
	want := []string{"0.1 lifecycle 1 turn_started", "1.1 event 1 text", "2.1 event 2 text", "2.2 lifecycle 2 turn_ended",
		"2.3 lifecycle 3 turn_started", "3.3 event 3 text", "3.4 lifecycle 4 turn_ended", "3.5 lifecycle 5 status_changed",
		"ended completed closed"}
	if diff := cmp.Diff(want, describe(t, got)); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
	other := newClient(t, srv, 1)
	other.do("GET", "/v1/sessions/"+id+"/stream", nil, header{"Accept", "text/event-stream"}).want(t, 404, gen.ProblemCodeNotFound)
	other.do("GET", "/v1/sessions/"+id+"/lifecycle", nil).want(t, 404, gen.ProblemCodeNotFound)
	c.do("GET", "/v1/sessions/sess_nope/stream", nil, header{"Accept", "text/event-stream"}).want(t, 404, gen.ProblemCodeNotFound)
}

// listLifecycleEvents pages by lifecycle_seq and takes after.
func TestListLifecycleEvents(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	for range 4 {
		c.sendTurn(id, gen.TurnRequest{Prompt: "x"})
	}
	all := collectPages[gen.LifecycleEvent](t, c, "/v1/sessions/"+id+"/lifecycle", 3)
	if len(all) != 8 {
		t.Fatalf("%d lifecycle events, want 8", len(all))
	}
	for i, e := range all {
		if e.LifecycleSeq != int64(i+1) {
			t.Errorf("event %d has lifecycle_seq %d", i, e.LifecycleSeq)
		}
		wantType := gen.LifecycleEventTypeTurnStarted
		if i%2 == 1 {
			wantType = gen.LifecycleEventTypeTurnEnded
		}
		if e.Type != wantType || e.TurnIndex != int32(i/2+1) || e.AfterSeq != int64(i/2+i%2) {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	after := collectPages[gen.LifecycleEvent](t, c, "/v1/sessions/"+id+"/lifecycle?after=5", 2)
	if len(after) != 3 || after[0].LifecycleSeq != 6 {
		t.Errorf("after 5: %+v", after)
	}
	c.do("GET", "/v1/sessions/"+id+"/lifecycle?after=-1", nil).want(t, 400, gen.ProblemCodeInvalidRequest)
	if s := c.getSession(id); !strings.HasPrefix(strconv.Itoa(int(s.LastEventSeq)), "4") {
		t.Errorf("session %+v", s)
	}
}
