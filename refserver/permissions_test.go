package refserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/sse"
)

var allowDeny = []gen.PermissionOption{
	{OptionID: "allow", Name: "Allow", Kind: gen.PermissionOptionKindAllowOnce},
	{OptionID: "deny", Name: "Deny", Kind: gen.PermissionOptionKindRejectOnce},
}

// askStep asks id with allow/deny; allow plays "allowed", deny plays
// "denied" and ends the turn with refusal, a cancelled request "withdrawn".
func askStep(id string, timeout time.Duration) gen.ScriptStep {
	return gen.ScriptStep{Ask: gen.ScriptAsk{RequestID: id, ToolCallID: "call_" + id, Title: "Run " + id + "?",
		Options: allowDeny, TimeoutMs: int32(timeout.Milliseconds()),
		Branches: gen.ScriptBranches{
			"allow":     {Steps: []gen.ScriptStep{text(0, "allowed")}},
			"deny":      {Steps: []gen.ScriptStep{text(0, "denied")}, StopReason: gen.StopReasonRefusal},
			"cancelled": {Steps: []gen.ScriptStep{text(0, "withdrawn")}},
		}}}
}

func (c *client) answer(id, requestID, option string, hdrs ...header) *response {
	c.t.Helper()
	return c.do("POST", "/v1/sessions/"+id+"/permissions/"+requestID, map[string]any{"option_id": option}, hdrs...)
}

func (c *client) permissions(id, status string) []gen.PermissionRequest {
	c.t.Helper()
	q := ""
	if status != "" {
		q = "?status=" + status
	}
	var list gen.PermissionRequestList
	c.do("GET", "/v1/sessions/"+id+"/permissions"+q, nil).want(c.t, 200).decode(c.t, &list)
	return list.Items
}

// waitPending polls until the session has n pending requests.
func (c *client) waitPending(id string, n int) []gen.PermissionRequest {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := c.permissions(id, "pending"); len(got) == n {
			return got
		} else if time.Now().After(deadline) {
			c.t.Fatalf("%d pending requests, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// permissionEvents are the session's permission_request and
// permission_response events.
func (c *client) permissionEvents(id string) (reqs, resps []gen.Event) {
	c.t.Helper()
	var list gen.EventList
	c.do("GET", "/v1/sessions/"+id+"/events?limit=100", nil).want(c.t, 200).decode(c.t, &list)
	for _, ev := range list.Items {
		switch ev.Type {
		case gen.EventTypePermissionRequest:
			reqs = append(reqs, ev)
		case gen.EventTypePermissionResponse:
			resps = append(resps, ev)
		}
	}
	return reqs, resps
}

func eventTexts(events []gen.Event) []string {
	var out []string
	for _, ev := range events {
		if ev.Type == gen.EventTypeText {
			out = append(out, ev.Content)
		}
	}
	return out
}

// A streamed turn carries the request and waits (activity
// waiting_for_input, status running); the answer is recorded once, the
// agent plays its branch; other answers are refused.
func TestPermissionAnsweredOnAStream(t *testing.T) {
	for _, tt := range []struct {
		option string
		texts  []string
		stop   gen.StopReason
	}{
		{"allow", []string{"before", "allowed", "after"}, gen.StopReasonEndTurn},
		{"deny", []string{"before", "denied"}, gen.StopReasonRefusal},
	} {
		t.Run(tt.option, func(t *testing.T) {
			_, c := start(t, func(cfg *refserver.Config) { cfg.KeepAlive = 30 * time.Millisecond })
			id := c.newSession("scripted")
			resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns",
				map[string]any{"prompt": script("", text(0, "before"), askStep("p1", 0), text(0, "after"))})
			defer resp.Body.Close()
			rd := sse.NewReader(resp.Body)
			var frames []sse.Frame
			for {
				f, err := rd.Next()
				if err != nil {
					t.Fatalf("stream ended before the request: %v", err)
				}
				checkFrame(t, f)
				frames = append(frames, f)
				if f.Event == "" && eventsOf(t, []sse.Frame{f})[0].Type == gen.EventTypePermissionRequest {
					break
				}
			}
			req := eventsOf(t, frames[len(frames)-1:])[0]
			want := gen.Event{Seq: 2, TurnIndex: 1, Type: gen.EventTypePermissionRequest, RequestID: "p1", ToolCallID: "call_p1",
				Title: "Run p1?", Options: allowDeny, CreatedAt: req.CreatedAt}
			if diff := cmp.Diff(want, req); diff != "" {
				t.Fatalf("the request event (-want +got):\n%s", diff)
			}
			// It waits: the stream stays open with keep-alives.
			time.Sleep(100 * time.Millisecond)
			if s := c.getSession(id); s.Activity != gen.ActivityWaitingForInput {
				t.Errorf("activity %s, want waiting_for_input", s.Activity)
			}
			if tr := c.getTurn(id, 1); tr.Status != gen.TurnStatusRunning {
				t.Errorf("turn status %s, want running", tr.Status)
			}
			pending := c.permissions(id, "pending")
			if len(pending) != 1 || pending[0].RequestID != "p1" || pending[0].Status != gen.PermissionStatusPending ||
				pending[0].TurnIndex != 1 || !pending[0].CreatedAt.Equal(req.CreatedAt) || !cmp.Equal(pending[0].Options, allowDeny) {
				t.Fatalf("pending = %+v", pending)
			}
			c.answer(id, "p1", "maybe").want(t, 422, gen.ProblemCodeUnknownOption)
			var ans gen.PermissionRequest
			c.answer(id, "p1", tt.option).want(t, 200).decode(t, &ans)
			if ans.Status != gen.PermissionStatusAnswered || ans.Outcome != gen.PermissionOutcomeSelected || ans.OptionID != tt.option || ans.AnsweredAt.IsZero() {
				t.Errorf("answer = %+v", ans)
			}
			c.answer(id, "p1", tt.option).want(t, 200) // the same again: nothing changes
			other := map[string]string{"allow": "deny", "deny": "allow"}[tt.option]
			c.answer(id, "p1", other).want(t, 409, gen.ProblemCodePermissionResolved)
			c.answer(id, "p1", "maybe").want(t, 422, gen.ProblemCodeUnknownOption) // whatever its state
			for {
				f, err := rd.Next()
				if err != nil {
					break
				}
				checkFrame(t, f)
				frames = append(frames, f)
			}
			if rd.Comments() == 0 {
				t.Error("no keep-alive while the turn waited")
			}
			events := eventsOf(t, frames)
			if diff := cmp.Diff(tt.texts, eventTexts(events)); diff != "" {
				t.Errorf("texts (-want +got):\n%s", diff)
			}
			if sum := summaryOf(t, frames[len(frames)-1]); sum.StopReason != tt.stop {
				t.Errorf("stop %s, want %s", sum.StopReason, tt.stop)
			}
			reqs, resps := c.permissionEvents(id)
			if len(reqs) != 1 || len(resps) != 1 || resps[0].RequestID != "p1" || resps[0].Outcome != gen.PermissionOutcomeSelected ||
				resps[0].OptionID != tt.option || resps[0].Seq != 3 {
				t.Errorf("permission events %+v / %+v, want one request and one answer (seq 3)", reqs, resps)
			}
			if s := c.getSession(id); s.Activity != gen.ActivityIdle {
				t.Errorf("activity after the turn %s", s.Activity)
			}
			if got := c.permissions(id, "answered"); len(got) != 1 || got[0].OptionID != tt.option {
				t.Errorf("answered = %+v", got)
			}
			if got := c.permissions(id, "pending"); len(got) != 0 {
				t.Errorf("pending after = %+v", got)
			}
		})
	}
}

// A JSON sendTurn whose turn waits answers 202 TurnWaiting; the same
// request again answers 202 while it waits, then 200 once it ended.
func TestJSONTurnWaitingAnswers202(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	body := map[string]any{"prompt": script("", text(0, "before"), askStep("p1", 0), askStep("p2", 0))}
	key := header{"Idempotency-Key", "k-wait"}
	r := c.do("POST", "/v1/sessions/"+id+"/turns", body, key).want(t, http.StatusAccepted)
	var w gen.TurnWaiting
	r.decode(t, &w)
	if w.SessionID != id || w.TurnIndex != 1 || w.Status != gen.ActivityWaitingForInput || w.LastSeq != 2 ||
		len(w.PermissionRequests) != 1 || w.PermissionRequests[0].RequestID != "p1" || w.PermissionRequests[0].Status != gen.PermissionStatusPending {
		t.Fatalf("202 = %+v", w)
	}
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Error("the first answer says replayed")
	}
	again := c.do("POST", "/v1/sessions/"+id+"/turns", body, key).want(t, http.StatusAccepted)
	var w2 gen.TurnWaiting
	again.decode(t, &w2)
	if again.Header.Get("Idempotent-Replayed") != "true" || w2.PermissionRequests[0].RequestID != "p1" || w2.TurnIndex != 1 {
		t.Errorf("replay while waiting = %+v, %v", w2, again.Header)
	}
	c.answer(id, "p1", "allow").want(t, 200)
	c.waitPending(id, 1)
	c.do("POST", "/v1/sessions/"+id+"/turns", body, key).want(t, http.StatusAccepted).decode(t, &w2)
	if w2.PermissionRequests[0].RequestID != "p2" || w2.LastSeq != 5 {
		t.Errorf("replay at the second request = %+v", w2)
	}
	c.answer(id, "p2", "allow").want(t, 200)
	c.waitTurn(id, 1, gen.TurnStatusCompleted)
	var res gen.TurnResult
	c.do("POST", "/v1/sessions/"+id+"/turns", body, key).want(t, 200).decode(t, &res)
	if res.TurnIndex != 1 || !cmp.Equal(eventTexts(res.Events), []string{"before", "allowed", "allowed"}) {
		t.Errorf("the result after = %+v", res)
	}
	if s := c.getSession(id); s.TurnCount != 1 {
		t.Errorf("turn_count %d: the repeats started turns", s.TurnCount)
	}
}

// Cancel, cancelTurnAt, interrupt, close, end and the timeout answer the
// pending request cancelled, before the turn ends as they say; an answer
// afterwards is 409 permission_resolved.
func TestTurnEndsAnswerPendingRequestsCancelled(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func(c *client, id string)
		by   gen.CancelledBy
	}{
		{"cancelTurn", func(c *client, id string) { c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(c.t, 200) }, gen.CancelledByCancelRequest},
		{"cancelTurnAt", func(c *client, id string) { c.do("POST", "/v1/sessions/"+id+"/turns/1/cancel", nil).want(c.t, 200) }, gen.CancelledByCancelRequest},
		{"interrupt", func(c *client, id string) {
			c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script(""), "busy_policy": "interrupt"}).want(c.t, 200)
		}, gen.CancelledByInterrupt},
		{"closeSession", func(c *client, id string) { c.do("DELETE", "/v1/sessions/"+id, nil).want(c.t, 200) }, gen.CancelledBySessionClosed},
		{"endSession", func(c *client, id string) {
			c.do("POST", "/v1/sessions/"+id+"/end", map[string]any{"status": "failed"}).want(c.t, 200)
		}, gen.CancelledBySessionClosed},
		{"timeout", nil, gen.CancelledByTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, c := start(t)
			id := c.newSession("scripted")
			body := map[string]any{"prompt": script("", askStep("p1", 0), askStep("never", 0))}
			if tt.end == nil {
				body["timeout_ms"] = 300
			}
			turn := c.doAsync("POST", "/v1/sessions/"+id+"/turns", body)
			c.waitPending(id, 1)
			if tt.end != nil {
				tt.end(c, id)
			}
			c.waitTurn(id, 1, gen.TurnStatusCompleted)
			tr := c.getTurn(id, 1)
			if tr.StopReason != gen.StopReasonCancelled || tr.CancelledBy != tt.by {
				t.Errorf("turn ended %s by %s, want cancelled by %s", tr.StopReason, tr.CancelledBy, tt.by)
			}
			reqs, resps := c.permissionEvents(id)
			if len(reqs) != 1 || len(resps) != 1 || resps[0].Outcome != gen.PermissionOutcomeCancelled ||
				resps[0].RequestID != "p1" || resps[0].OptionID != "" || resps[0].TurnIndex != 1 {
				t.Fatalf("permission events %+v / %+v, want p1 answered cancelled", reqs, resps)
			}
			if last := tr.Events[len(tr.Events)-1]; last.Seq != resps[0].Seq {
				t.Errorf("the response (seq %d) is not the turn's last event: %+v", resps[0].Seq, last)
			}
			got := c.permissions(id, "cancelled")
			if len(got) != 1 || got[0].Outcome != gen.PermissionOutcomeCancelled || got[0].AnsweredAt.IsZero() {
				t.Errorf("cancelled requests %+v", got)
			}
			c.answer(id, "p1", "allow").want(t, 409, gen.ProblemCodePermissionResolved)
			if s := c.getSession(id); s.Activity == gen.ActivityWaitingForInput {
				t.Errorf("activity %s after the turn", s.Activity)
			}
			result(t, turn)
		})
	}
}

// An answer racing a cancel: exactly one permission_response, and the
// answer's status agrees with it.
func TestAnswerRacesCancel(t *testing.T) {
	_, c := start(t)
	for i := range 15 {
		id := c.newSession("scripted")
		turn := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 0), wait(30*time.Second))})
		c.waitPending(id, 1)
		var wg sync.WaitGroup
		var answer *response
		wg.Add(2)
		go func() {
			defer wg.Done()
			answer = c.answer(id, "p", "allow")
		}()
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				time.Sleep(time.Duration(i%3) * time.Millisecond)
			}
			c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(t, 200)
		}()
		wg.Wait()
		result(t, turn)
		_, resps := c.permissionEvents(id)
		if len(resps) != 1 {
			t.Fatalf("round %d: %d permission responses, want 1: %+v", i, len(resps), resps)
		}
		switch answer.Status {
		case 200:
			if resps[0].Outcome != gen.PermissionOutcomeSelected || resps[0].OptionID != "allow" {
				t.Errorf("round %d: the answer won but the response is %+v", i, resps[0])
			}
		case 409:
			if resps[0].Outcome != gen.PermissionOutcomeCancelled {
				t.Errorf("round %d: the cancel won but the response is %+v", i, resps[0])
			}
		default:
			t.Errorf("round %d: answer %d %s", i, answer.Status, answer.Body)
		}
		if tr := c.getTurn(id, 1); tr.StopReason != gen.StopReasonCancelled {
			t.Errorf("round %d: turn %s", i, tr.StopReason)
		}
	}
}

// A request whose turn timed out is resolved: its answer is 409.
func TestAnswerAfterTheTurnTimedOut(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 0)), "timeout_ms": 100}).want(t, http.StatusAccepted)
	tr := c.waitTurn(id, 1, gen.TurnStatusCompleted)
	if tr.CancelledBy != gen.CancelledByTimeout {
		t.Fatalf("turn %+v", tr)
	}
	c.answer(id, "p", "allow").want(t, 409, gen.ProblemCodePermissionResolved)
	if got := c.permissions(id, ""); len(got) != 1 || got[0].Status != gen.PermissionStatusCancelled {
		t.Errorf("requests %+v", got)
	}
}

// An ask with timeout_ms is withdrawn (answered cancelled) and the turn
// goes on with the cancelled branch.
func TestWithdrawnRequestGoesOn(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	var res gen.TurnResult
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 50*time.Millisecond), text(0, "after"))}).
		want(t, http.StatusAccepted)
	tr := c.waitTurn(id, 1, gen.TurnStatusCompleted)
	c.do("GET", "/v1/sessions/"+id+"/turns/1", nil).want(t, 200).decode(t, &res)
	var types []gen.EventType
	for _, ev := range res.Events {
		types = append(types, ev.Type)
	}
	want := []gen.EventType{gen.EventTypePermissionRequest, gen.EventTypePermissionResponse, gen.EventTypeText, gen.EventTypeText}
	if !cmp.Equal(types, want) || tr.StopReason != gen.StopReasonEndTurn || !cmp.Equal(eventTexts(res.Events), []string{"withdrawn", "after"}) ||
		res.Events[1].Outcome != gen.PermissionOutcomeCancelled {
		t.Errorf("events %+v", res.Events)
	}
	c.answer(id, "p", "allow").want(t, 409, gen.ProblemCodePermissionResolved)
}

// Unknown request ids, another session's and another tenant's are 404.
func TestPermissionNotFound(t *testing.T) {
	srv, c := start(t)
	other := newClient(t, srv, 1)
	id := c.newSession("scripted")
	second := c.newSession("scripted")
	turn := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 0))})
	c.waitPending(id, 1)
	c.answer(id, "nope", "allow").want(t, 404, gen.ProblemCodeNotFound)
	c.answer(second, "p", "allow").want(t, 404, gen.ProblemCodeNotFound)
	other.answer(id, "p", "allow").want(t, 404, gen.ProblemCodeNotFound)
	other.do("GET", "/v1/sessions/"+id+"/permissions", nil).want(t, 404, gen.ProblemCodeNotFound)
	c.do("GET", "/v1/sessions/sess_nope/permissions", nil).want(t, 404, gen.ProblemCodeNotFound)
	c.do("POST", "/v1/sessions/"+id+"/permissions/p", map[string]any{}).want(t, 400, gen.ProblemCodeInvalidRequest)
	c.do("POST", "/v1/sessions/"+id+"/permissions/bad%20id", map[string]any{"option_id": "allow"}).want(t, 400, gen.ProblemCodeInvalidRequest)
	if got := c.permissions(id, "pending"); len(got) != 1 {
		t.Errorf("the other tenant's answer changed the request: %+v", got)
	}
	result(t, turn).want(t, http.StatusAccepted) // the JSON turn waits
	c.answer(id, "p", "allow").want(t, 200)
	c.waitTurn(id, 1, gen.TurnStatusCompleted)
}

// The Idempotency-Key of an answer replays it.
func TestAnswerIdempotencyKey(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	turn := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 0), wait(200*time.Millisecond))})
	c.waitPending(id, 1)
	key := header{"Idempotency-Key", "k-answer"}
	first := c.answer(id, "p", "allow", key).want(t, 200)
	again := c.answer(id, "p", "allow", key).want(t, 200)
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		t.Errorf("replay %s / %s", again.Body, first.Body)
	}
	c.answer(id, "p", "deny", key).want(t, 422, gen.ProblemCodeIdempotencyKeyReused)
	result(t, turn)
}

// Several requests pending at once, and a request id used twice in a
// session, which ends the turn with an error.
func TestRequestIDsAreUniqueInTheSession(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 0))}).want(t, http.StatusAccepted)
	c.answer(id, "p", "allow").want(t, 200)
	c.waitTurn(id, 1, gen.TurnStatusCompleted)
	var res gen.TurnResult
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", askStep("p", 0))}).want(t, 200).decode(t, &res)
	if res.StopReason != gen.StopReasonError || res.Events[len(res.Events)-1].Type != gen.EventTypeError {
		t.Errorf("a reused request id: %+v", res)
	}
	// Without an id the server makes a unique one each time.
	var w gen.TurnWaiting
	noID := gen.ScriptStep{Ask: gen.ScriptAsk{Title: "t", Options: allowDeny}}
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", noID)}).want(t, http.StatusAccepted).decode(t, &w)
	made := w.PermissionRequests[0].RequestID
	if made == "" || made == "p" {
		t.Fatalf("made id %q", made)
	}
	c.answer(id, made, "deny").want(t, 200)
}

// The capabilities declare permission requests; echo never asks.
func TestPermissionCapabilities(t *testing.T) {
	_, c := start(t)
	var caps gen.Capabilities
	c.do("GET", "/v1/capabilities", nil).want(t, 200).decode(t, &caps)
	if !caps.Features.Permissions {
		t.Error("features.permissions is not true")
	}
	byName := map[string]gen.AgentInfo{}
	for _, a := range caps.Agents {
		byName[a.Name] = a
	}
	if byName["echo"].Permissions || !byName["scripted"].Permissions {
		t.Errorf("agents %+v", caps.Agents)
	}
	b, _ := json.Marshal(caps.Agents)
	if !json.Valid(b) {
		t.Fatal(fmt.Sprint(caps.Agents))
	}
}
