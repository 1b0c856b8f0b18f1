package refserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
)

// slow is a script that runs until cancelled (or 30 s).
var slow = script("", text(0, "started"), wait(30*time.Second), text(0, "finished"))

func TestEchoTurn(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	for i := 1; i <= 3; i++ {
		r := c.sendTurn(id, gen.TurnRequest{Prompt: "hello  agent world"})
		want := gen.TurnResult{
			SessionID: id, TurnIndex: int32(i), StopReason: gen.StopReasonEndTurn, EventCount: 1,
			FirstSeq: int64(i), LastSeq: int64(i),
			Usage:  gen.Usage{InputTokens: ptr(int64(3)), OutputTokens: ptr(int64(3))},
			Events: []gen.Event{{Seq: int64(i), TurnIndex: int32(i), Type: gen.EventTypeText, Content: "hello  agent world"}},
		}
		ignore := cmpopts.IgnoreFields(gen.TurnResult{}, "StartedAt", "EndedAt", "DurationMs")
		if diff := cmp.Diff(want, r, ignore, cmpopts.IgnoreFields(gen.Event{}, "CreatedAt")); diff != "" {
			t.Fatalf("turn %d (-want +got):\n%s", i, diff)
		}
		if r.EndedAt.Before(r.StartedAt) || r.Events[0].CreatedAt.Before(r.StartedAt) {
			t.Errorf("times out of order: %+v", r)
		}
	}
	s := c.getSession(id)
	if s.TurnCount != 3 || s.LastEventSeq != 3 || s.LastTurnAt.IsZero() || s.Activity != gen.ActivityIdle {
		t.Errorf("session after 3 turns = %+v", s)
	}
}

func TestScriptedTurn(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	stop := gen.StopReasonMaxTokens
	sc := gen.AgentScript{
		Steps: []gen.ScriptStep{
			{Event: gen.ScriptEvent{Type: gen.EventTypeThinking, Content: "hmm"}},
			{DelayMs: 5, Event: gen.ScriptEvent{Type: gen.EventTypeToolCall, ToolCallID: "c1", Name: "read_file",
				Args: gen.JSONObject{"path": "a.go"}, Status: gen.ToolCallStatusPending}},
			{Event: gen.ScriptEvent{Type: gen.EventTypeToolResult, ToolCallID: "c1", Name: "read_file",
				Result: []any{"line 1", 2.0}, Status: gen.ToolCallStatusCompleted}},
			{Event: gen.ScriptEvent{Type: gen.EventTypePlan, Content: "1. read", Data: gen.JSONObject{"entries": []any{"read"}}}},
			{Event: gen.ScriptEvent{Type: gen.EventTypeUsage, Data: gen.JSONObject{"tokens": 5.0}}},
			{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: "done"}},
		},
		StopReason: stop,
		Usage:      gen.Usage{InputTokens: ptr(int64(10)), OutputTokens: ptr(int64(20))},
	}
	prompt, _ := jsonString(sc)
	r := c.sendTurn(id, gen.TurnRequest{Prompt: prompt})
	if r.StopReason != stop || !cmp.Equal(r.Usage, sc.Usage) || r.EventCount != 6 || len(r.Events) != 6 {
		t.Fatalf("result = %+v", r)
	}
	for i, ev := range r.Events {
		want := sc.Steps[i].Event
		got := gen.ScriptEvent{Type: ev.Type, Content: ev.Content, ToolCallID: ev.ToolCallID, Name: ev.Name,
			Args: ev.Args, Result: ev.Result, Status: ev.Status, Data: ev.Data}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("event %d (-want +got):\n%s", i, diff)
		}
		if ev.Seq != int64(i+1) || ev.TurnIndex != 1 {
			t.Errorf("event %d: seq %d, turn %d", i, ev.Seq, ev.TurnIndex)
		}
	}
	// seq continues across turns without gaps.
	r2 := c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "a"), text(0, "b"))})
	if r2.Events[0].Seq != 7 || r2.Events[1].Seq != 8 || r2.FirstSeq != 7 || r2.LastSeq != 8 {
		t.Errorf("second turn events %+v", r2.Events)
	}
	var events gen.EventList
	c.do("GET", "/v1/sessions/"+id+"/events?limit=100", nil).want(t, 200).decode(t, &events)
	for i, ev := range events.Items {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event log has seq %d at %d", ev.Seq, i)
		}
	}
}

func jsonString(v any) (string, error) {
	b, err := encode(v)
	return string(b), err
}

func TestInvalidScriptEndsWithError(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	tests := []struct{ prompt, mention string }{
		{"not json", "invalid JSON"},
		{`{"steps":[{"event":{"type":"gossip"}}]}`, "steps[0].event.type"},
		{`{"steps":[{"delay":5}]}`, "unknown field"},
		{`{"steps":[],"stop_reason":"tired"}`, "stop_reason"},
		{`{}`, "steps"},
	}
	for _, tt := range tests {
		r := c.sendTurn(id, gen.TurnRequest{Prompt: tt.prompt})
		if r.StopReason != gen.StopReasonError || len(r.Events) != 1 || r.Events[0].Type != gen.EventTypeError ||
			!strings.Contains(r.Events[0].Content, tt.mention) {
			t.Errorf("prompt %q: %+v", tt.prompt, r)
		}
	}
}

func (c *client) upload(name, contentType string, data []byte, hdrs ...header) *response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="file"; filename="` + name + `"`}
	if contentType != "" {
		h["Content-Type"] = []string{contentType}
	}
	pw, _ := mw.CreatePart(h)
	pw.Write(data)
	mw.Close()
	return c.do("POST", "/v1/files", buf.Bytes(), append([]header{{"Content-Type", mw.FormDataContentType()}}, hdrs...)...)
}

func TestFiles(t *testing.T) {
	srv, c := start(t)
	other := newClient(t, srv, 1)
	var f gen.File
	content := []byte("%PDF-1.4 hello")
	sum := sha256.Sum256(content)
	c.upload("report.pdf", "application/pdf", content).want(t, http.StatusCreated).decode(t, &f)
	if f.Filename != "report.pdf" || f.ContentType != "application/pdf" || f.SizeBytes != int64(len(content)) ||
		f.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasPrefix(f.FileToken, "file_") {
		t.Fatalf("file = %+v", f)
	}
	var got gen.File
	c.do("GET", "/v1/files/"+f.FileToken, nil).want(t, 200).decode(t, &got)
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("getFile (-upload +get):\n%s", diff)
	}
	other.do("GET", "/v1/files/"+f.FileToken, nil).want(t, 404, gen.ProblemCodeNotFound)

	id := c.newSession("echo")
	c.sendTurn(id, gen.TurnRequest{Prompt: "read it", Files: []string{f.FileToken}})
	if tr := c.getTurn(id, 1); tr.Files == nil || !cmp.Equal(tr.Files, []string{f.FileToken}) {
		t.Errorf("turn files = %v", tr.Files)
	}
	r := c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "p", "files": []string{f.FileToken, "file_nope"}}).
		want(t, 422, gen.ProblemCodeUnknownFile)
	if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Location != "body.files.1" {
		t.Errorf("unknown_file problem = %s", r.Body)
	}
	otherID := other.newSession("echo")
	other.do("POST", "/v1/sessions/"+otherID+"/turns", map[string]any{"prompt": "p", "files": []string{f.FileToken}}).
		want(t, 422, gen.ProblemCodeUnknownFile)
	if s := c.getSession(id); s.TurnCount != 1 {
		t.Errorf("a refused turn was counted: turn_count %d", s.TurnCount)
	}
	// No content type on the part: application/octet-stream.
	c.upload("blob", "", []byte{0, 1, 2}).want(t, 201).decode(t, &f)
	if f.ContentType != "application/octet-stream" {
		t.Errorf("content type = %q", f.ContentType)
	}
}

func TestBusyReject(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	first := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": slow})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	for _, body := range []map[string]any{{"prompt": "x"}, {"prompt": "x", "busy_policy": "reject"}} {
		c.do("POST", "/v1/sessions/"+id+"/turns", body).want(t, http.StatusConflict, gen.ProblemCodeTurnInProgress)
	}
	if s := c.getSession(id); s.TurnCount != 1 || s.Activity != gen.ActivityRunning {
		t.Errorf("session = %+v", s)
	}
	c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(t, 200)
	var r gen.TurnResult
	result(t, first).want(t, 200).decode(t, &r)
	if r.StopReason != gen.StopReasonCancelled || r.CancelledBy != gen.CancelledByCancelRequest {
		t.Errorf("cancelled turn = %+v", r)
	}
}

func TestBusyEnqueueRunsInOrder(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	s := "/v1/sessions/" + id + "/turns"
	first := c.doAsync("POST", s, map[string]any{"prompt": script("", wait(150*time.Millisecond), text(0, "one"))})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	second := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "two")), "busy_policy": "enqueue"})
	c.waitTurn(id, 2, gen.TurnStatusQueued)
	third := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "three")), "busy_policy": "enqueue"})
	c.waitTurn(id, 3, gen.TurnStatusQueued)
	if got := c.getSession(id).TurnCount; got != 3 {
		t.Errorf("turn_count = %d, want 3 (queued turns count)", got)
	}
	var results [3]gen.TurnResult
	for i, ch := range []<-chan *response{first, second, third} {
		result(t, ch).want(t, 200).decode(t, &results[i])
	}
	for i, r := range results {
		if r.StopReason != gen.StopReasonEndTurn || r.Events[0].Content != []string{"one", "two", "three"}[i] || r.Events[0].Seq != int64(i+1) {
			t.Errorf("turn %d = %+v", i+1, r)
		}
		if i > 0 && r.StartedAt.Before(results[i-1].EndedAt) {
			t.Errorf("turn %d started before turn %d ended", i+1, i)
		}
	}
}

func TestBusyQueueFull(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.MaxQueuedTurns = 1 })
	id := c.newSession("scripted")
	s := "/v1/sessions/" + id + "/turns"
	first := c.doAsync("POST", s, map[string]any{"prompt": slow})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	second := c.doAsync("POST", s, map[string]any{"prompt": "{\"steps\":[]}", "busy_policy": "enqueue"})
	c.waitTurn(id, 2, gen.TurnStatusQueued)
	c.do("POST", s, map[string]any{"prompt": "x", "busy_policy": "enqueue"}).want(t, http.StatusConflict, gen.ProblemCodeTurnQueueFull)
	c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(t, 200)
	result(t, first).want(t, 200)
	result(t, second).want(t, 200)
}

func TestBusyInterrupt(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	s := "/v1/sessions/" + id + "/turns"
	first := c.doAsync("POST", s, map[string]any{"prompt": slow})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	queued := c.doAsync("POST", s, map[string]any{"prompt": script("", text(0, "queued")), "busy_policy": "enqueue"})
	c.waitTurn(id, 2, gen.TurnStatusQueued)
	var r1, r2, r3 gen.TurnResult
	c.do("POST", s, map[string]any{"prompt": script("", text(0, "urgent")), "busy_policy": "interrupt"}).want(t, 200).decode(t, &r3)
	result(t, first).want(t, 200).decode(t, &r1)
	result(t, queued).want(t, 200).decode(t, &r2)
	if r1.StopReason != gen.StopReasonCancelled || r1.CancelledBy != gen.CancelledByInterrupt {
		t.Errorf("interrupted turn = %+v", r1)
	}
	if r3.TurnIndex != 3 || r3.Events[0].Content != "urgent" || r3.StartedAt.After(r2.StartedAt) {
		t.Errorf("the interrupting turn did not run next: %+v then %+v", r3, r2)
	}
	if r2.Events[0].Content != "queued" || r2.StopReason != gen.StopReasonEndTurn {
		t.Errorf("queued turn = %+v", r2)
	}
}

func TestCancelTurn(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	cancel := func() gen.CancelTurnResult {
		var r gen.CancelTurnResult
		c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(t, 200).decode(t, &r)
		return r
	}
	if r := cancel(); r.Cancelled || r.TurnIndex != 0 || r.SessionID != id {
		t.Errorf("cancel while idle = %+v", r)
	}
	first := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": slow})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	queued := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", text(0, "next")), "busy_policy": "enqueue"})
	c.waitTurn(id, 2, gen.TurnStatusQueued)
	start := time.Now()
	if r := cancel(); !r.Cancelled || r.TurnIndex != 1 {
		t.Errorf("cancel while running = %+v", r)
	}
	if tr := c.getTurn(id, 1); tr.Status != gen.TurnStatusCompleted || tr.StopReason != gen.StopReasonCancelled {
		t.Errorf("the cancelled turn is not ended when cancel answers: %+v", tr)
	}
	var r1, r2 gen.TurnResult
	result(t, first).want(t, 200).decode(t, &r1)
	result(t, queued).want(t, 200).decode(t, &r2)
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
	if r1.StopReason != gen.StopReasonCancelled || r1.CancelledBy != gen.CancelledByCancelRequest || r1.EventCount != 1 {
		t.Errorf("cancelled turn = %+v", r1)
	}
	if r2.StopReason != gen.StopReasonEndTurn {
		t.Errorf("the queued turn was affected: %+v", r2)
	}
	if r := cancel(); r.Cancelled {
		t.Errorf("cancel after the turn ended = %+v", r)
	}
	c.do("POST", "/v1/sessions/sess_nope/cancel", nil).want(t, 404, gen.ProblemCodeNotFound)
}

func TestTurnTimeout(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	start := time.Now()
	r := c.sendTurn(id, gen.TurnRequest{Prompt: slow, TimeoutMs: 100})
	if r.StopReason != gen.StopReasonCancelled || r.CancelledBy != gen.CancelledByTimeout {
		t.Errorf("timed-out turn = %+v", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	// A turn that finishes in time is not affected.
	if r := c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "quick")), TimeoutMs: 5000}); r.StopReason != gen.StopReasonEndTurn {
		t.Errorf("quick turn = %+v", r)
	}
}

func TestDefaultTimeoutIsTheMaximum(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.MaxTurnTimeout = 100 * time.Millisecond })
	id := c.newSession("scripted")
	if r := c.sendTurn(id, gen.TurnRequest{Prompt: slow}); r.CancelledBy != gen.CancelledByTimeout {
		t.Errorf("turn = %+v, want cancelled by timeout", r)
	}
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "x", "timeout_ms": 101}).want(t, 400, gen.ProblemCodeInvalidRequest)
}

func TestCloseAndEndCancelTurns(t *testing.T) {
	for _, op := range []string{"close", "end"} {
		t.Run(op, func(t *testing.T) {
			_, c := start(t)
			id := c.newSession("scripted")
			s := "/v1/sessions/" + id
			running := c.doAsync("POST", s+"/turns", map[string]any{"prompt": slow})
			c.waitTurn(id, 1, gen.TurnStatusRunning)
			queued := c.doAsync("POST", s+"/turns", map[string]any{"prompt": slow, "busy_policy": "enqueue"})
			c.waitTurn(id, 2, gen.TurnStatusQueued)
			var sess gen.Session
			if op == "close" {
				var cr gen.CloseSessionResult
				c.do("DELETE", s, nil).want(t, 200).decode(t, &cr)
				sess = cr.Session
			} else {
				c.do("POST", s+"/end", map[string]any{"status": "failed"}).want(t, 200).decode(t, &sess)
			}
			if sess.Activity != gen.ActivityIdle || sess.EndedAt.IsZero() {
				t.Errorf("session after %s = %+v", op, sess)
			}
			for i, ch := range []<-chan *response{running, queued} {
				var r gen.TurnResult
				result(t, ch).want(t, 200).decode(t, &r)
				if r.StopReason != gen.StopReasonCancelled || r.CancelledBy != gen.CancelledBySessionClosed {
					t.Errorf("turn %d = %+v", i+1, r)
				}
			}
			if tr := c.getTurn(id, 2); tr.Status != gen.TurnStatusCompleted || tr.StartedAt.IsZero() || tr.DurationMs == nil {
				t.Errorf("queued turn after %s = %+v", op, tr)
			}
			c.do("POST", s+"/turns", map[string]any{"prompt": "x"}).want(t, 409, gen.ProblemCodeSessionEnded)
		})
	}
}

func TestActivity(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.StallAfter = 200 * time.Millisecond })
	id := c.newSession("scripted")
	if a := c.getSession(id).Activity; a != gen.ActivityIdle {
		t.Errorf("new session activity %s", a)
	}
	done := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": slow})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	if a := c.getSession(id).Activity; a != gen.ActivityRunning {
		t.Errorf("activity while running %s", a)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.getSession(id).Activity != gen.ActivityStalled {
		if time.Now().After(deadline) {
			t.Fatal("the session never became stalled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var list gen.SessionList
	c.do("GET", "/v1/sessions", nil).want(t, 200).decode(t, &list)
	if list.Items[0].Activity != gen.ActivityStalled {
		t.Errorf("listed activity %s", list.Items[0].Activity)
	}
	c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(t, 200)
	result(t, done)
	if a := c.getSession(id).Activity; a != gen.ActivityIdle {
		t.Errorf("activity after the turn %s", a)
	}
}

func TestTurnHistoryAndEventLog(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	for i := range 5 {
		steps := []gen.ScriptStep{}
		for j := 0; j <= i; j++ {
			steps = append(steps, text(0, "x"))
		}
		c.sendTurn(id, gen.TurnRequest{Prompt: script("", steps...), BusyPolicy: gen.BusyPolicyReject})
	}
	s := "/v1/sessions/" + id
	turns := collectPages[gen.Turn](t, c, s+"/turns", 2)
	if len(turns) != 5 {
		t.Fatalf("%d turns", len(turns))
	}
	for i, tr := range turns {
		if tr.TurnIndex != int32(i+1) || tr.EventCount != int32(i+1) || tr.Events != nil || tr.Status != gen.TurnStatusCompleted ||
			tr.BusyPolicy != gen.BusyPolicyReject || tr.StopReason != gen.StopReasonEndTurn {
			t.Errorf("turn %d = %+v", i+1, tr)
		}
	}
	tr := c.getTurn(id, 3)
	if tr.Events == nil || len(tr.Events) != 3 || tr.Events[0].Seq != 4 {
		t.Errorf("getTurn events = %+v", tr.Events)
	}
	all := collectPages[gen.Event](t, c, s+"/events", 4)
	if len(all) != 15 {
		t.Fatalf("%d events, want 15", len(all))
	}
	for i, ev := range all {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	after := collectPages[gen.Event](t, c, s+"/events?after=10", 2)
	if len(after) != 5 || after[0].Seq != 11 {
		t.Errorf("after=10: %d events from %d", len(after), after[0].Seq)
	}
	one := collectPages[gen.Event](t, c, s+"/events?turn_index=4", 3)
	if len(one) != 4 || one[0].Seq != 7 || one[3].Seq != 10 {
		t.Errorf("turn_index=4: %+v", one)
	}
	// A cursor belongs to its list.
	var page gen.EventList
	c.do("GET", s+"/events?limit=1", nil).want(t, 200).decode(t, &page)
	c.do("GET", s+"/events?turn_index=2&cursor="+page.NextCursor, nil).want(t, 400, gen.ProblemCodeInvalidCursor)
	c.do("GET", s+"/turns?cursor="+page.NextCursor, nil).want(t, 400, gen.ProblemCodeInvalidCursor)
	other := c.newSession("echo")
	c.do("GET", "/v1/sessions/"+other+"/events?cursor="+page.NextCursor, nil).want(t, 400, gen.ProblemCodeInvalidCursor)
	c.do("GET", "/v1/sessions/sess_nope/events", nil).want(t, 404, gen.ProblemCodeNotFound)
	c.do("GET", "/v1/sessions/sess_nope/turns", nil).want(t, 404, gen.ProblemCodeNotFound)
}

func TestTurnOutlivesItsClient(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	ctx, cancel := context.WithCancel(context.Background())
	req := c.newRequest(ctx, "POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", wait(200*time.Millisecond), text(0, "still here"))})
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if _, err := c.hc.Do(req); err == nil {
		t.Fatal("the request was not cut")
	}
	tr := c.waitTurn(id, 1, gen.TurnStatusCompleted)
	if tr.StopReason != gen.StopReasonEndTurn || tr.EventCount != 1 {
		t.Errorf("turn after the client left = %+v", tr)
	}
}

// TestBackToBackTurnsNeverBusy: a client that sends its next turn as soon
// as it has the answer (JSON or stream) must never find the session busy
// with the turn that just ended.
func TestBackToBackTurnsNeverBusy(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	for i := range 300 {
		if i%2 == 0 {
			c.sendTurn(id, gen.TurnRequest{Prompt: "next"})
			continue
		}
		resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "next"})
		frames, _ := readFrames(t, resp.Body)
		resp.Body.Close()
		if frames[len(frames)-1].Event != "turn.completed" {
			t.Fatalf("turn %d: stream ended with %+v", i+1, frames[len(frames)-1])
		}
	}
}
