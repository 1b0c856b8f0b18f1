package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// The permission checks drive the scripted agent's ask: a script of one
// text event, one ask and one more text event, whose branches say which
// answer the agent got. Every answer is deterministic, so the events of the
// whole turn are known in advance.

// askOptions offer one option of every kind: allow and deny have branches,
// always and never do not (the script goes on).
func askOptions() []gen.PermissionOption {
	return []gen.PermissionOption{
		{OptionID: "allow", Name: "Allow", Kind: gen.PermissionOptionKindAllowOnce},
		{OptionID: "always", Name: "Always allow", Kind: gen.PermissionOptionKindAllowAlways},
		{OptionID: "deny", Name: "Deny", Kind: gen.PermissionOptionKindRejectOnce},
		{OptionID: "never", Name: "Never", Kind: gen.PermissionOptionKindRejectAlways},
	}
}

// suiteAsk is the ask of the checks' scripts; id "" lets the server make the
// request id.
func suiteAsk(id string) gen.ScriptAsk {
	text := func(s string) []gen.ScriptStep {
		return []gen.ScriptStep{{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: s}}}
	}
	return gen.ScriptAsk{
		RequestID: id, ToolCallID: "call_cf_1", Title: "May the conformance suite go on?", Options: askOptions(),
		Branches: gen.ScriptBranches{
			"allow":     {Steps: text("allowed ")},
			"deny":      {Steps: text("denied"), StopReason: gen.StopReasonRefusal},
			"cancelled": {Steps: text("withdrawn ")},
		},
	}
}

// askScript is "before ", then the asks, then "after".
func askScript(asks ...gen.ScriptAsk) string {
	s := gen.AgentScript{Steps: []gen.ScriptStep{{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: "before "}}}}
	for _, a := range asks {
		s.Steps = append(s.Steps, gen.ScriptStep{Ask: a})
	}
	s.Steps = append(s.Steps, gen.ScriptStep{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: "after"}})
	b, _ := json.Marshal(s)
	return string(b)
}

// agentInfo is the capabilities' entry of an agent.
func (t *tester) agentInfo(name string) gen.AgentInfo {
	for _, a := range t.env.caps.Agents {
		if a.Name == name {
			return a
		}
	}
	return gen.AgentInfo{}
}

// askingSession creates a session with the scripted agent, which must
// declare that it may ask.
func (t *tester) askingSession(ctx context.Context) (gen.Session, error) {
	if !t.agentInfo(t.env.scripted).Permissions {
		return gen.Session{}, NotApplicablef("the scripted agent %q does not declare permissions: it never asks", t.env.scripted)
	}
	return t.scriptedSession(ctx)
}

// waitingTurn sends a JSON turn whose agent asks and expects 202 TurnWaiting.
func (t *tester) waitingTurn(ctx context.Context, id string, body map[string]any, header map[string]string) (gen.TurnWaiting, *response, error) {
	resp, err := t.sendTurn(ctx, id, body, header)
	if err != nil {
		return gen.TurnWaiting{}, nil, err
	}
	w, err := expectJSON[gen.TurnWaiting](resp, http.StatusAccepted)
	if err == nil && len(w.PermissionRequests) == 0 {
		err = resp.Failf("TurnWaiting lists no pending permission request")
	}
	return w, resp, err
}

// asked starts a turn of askScript(suiteAsk("")) and returns the pending request.
func (t *tester) asked(ctx context.Context, id string) (gen.PermissionRequest, gen.TurnWaiting, error) {
	w, _, err := t.waitingTurn(ctx, id, map[string]any{"prompt": askScript(suiteAsk(""))}, nil)
	if err != nil {
		return gen.PermissionRequest{}, w, err
	}
	return w.PermissionRequests[0], w, nil
}

// pendingAsk opens a session of the asking scripted agent and starts a
// turn that asks (asked): the session and its pending request.
func (t *tester) pendingAsk(ctx context.Context) (gen.Session, gen.PermissionRequest, error) {
	s, err := t.askingSession(ctx)
	if err != nil {
		return gen.Session{}, gen.PermissionRequest{}, err
	}
	p, _, err := t.asked(ctx, s.SessionID)
	return s, p, err
}

func (t *tester) answerReq(id, requestID, option string) request {
	return request{Method: http.MethodPost, Path: path("/v1/sessions/%s/permissions/%s", id, requestID), JSON: map[string]any{"option_id": option}}
}

// answer sends answerPermission and expects 200.
func (t *tester) answer(ctx context.Context, id, requestID, option string) (gen.PermissionRequest, *response, error) {
	resp, err := t.Do(ctx, t.answerReq(id, requestID, option))
	if err != nil {
		return gen.PermissionRequest{}, nil, err
	}
	p, err := expectJSON[gen.PermissionRequest](resp, http.StatusOK)
	return p, resp, err
}

// permissionsOf lists a session's permission requests (status "" for all).
func (t *tester) permissionsOf(ctx context.Context, id, status string, limit int) ([]gen.PermissionRequest, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	list, _, err := listAll[gen.PermissionRequest](ctx, t, path("/v1/sessions/%s/permissions", id), q, limit, 20)
	return list, err
}

// permissionState is the request's entry in listPermissions.
func (t *tester) permissionState(ctx context.Context, id, requestID string) (gen.PermissionRequest, error) {
	list, err := t.permissionsOf(ctx, id, "", 0)
	if err != nil {
		return gen.PermissionRequest{}, err
	}
	for _, p := range list {
		if p.RequestID == requestID {
			return p, nil
		}
	}
	return gen.PermissionRequest{}, Failf("listPermissions does not list request %s", requestID)
}

// awaitPending polls listPermissions?status=pending until it holds n requests.
func (t *tester) awaitPending(ctx context.Context, id string, n int) ([]gen.PermissionRequest, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := t.permissionsOf(ctx, id, string(gen.PermissionStatusPending), 0)
		if err != nil || len(list) >= n {
			return list, err
		}
		if time.Now().After(deadline) {
			return list, Failf("listPermissions?status=pending holds %d requests 5 s later, want %d", len(list), n)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// ended waits for a turn to complete and returns it with its events.
func (t *tester) ended(ctx context.Context, id string, index int32) (gen.Turn, []gen.Event, error) {
	tr, err := t.waitTurn(ctx, id, index, false)
	if err != nil {
		return tr, nil, err
	}
	events, err := t.turnEvents(ctx, id, index)
	return tr, events, err
}

// permissionEvents returns the events of a request, by type.
func permissionEvents(events []gen.Event, requestID string) (requests, responses []gen.Event) {
	for _, e := range events {
		if e.RequestID != requestID {
			continue
		}
		switch e.Type {
		case gen.EventTypePermissionRequest:
			requests = append(requests, e)
		case gen.EventTypePermissionResponse:
			responses = append(responses, e)
		}
	}
	return requests, responses
}

// expectAskEvents fails unless the turn's events are "before ", the
// request, its response, then the texts.
func expectAskEvents(what string, events []gen.Event, requestID string, outcome gen.PermissionOutcome, option string, texts ...string) error {
	want := append([]string{"text", "permission_request", "permission_response"}, slices.Repeat([]string{"text"}, len(texts))...)
	if d := jsonDiff(eventTypes(events), want); d != "" {
		return Failf("%s: event types %s", what, d)
	}
	req, resp := events[1], events[2]
	switch {
	case req.RequestID != requestID || resp.RequestID != requestID:
		return Failf("%s: the request and response events name %q and %q, want %q", what, req.RequestID, resp.RequestID, requestID)
	case resp.Outcome != outcome || resp.OptionID != option:
		return Failf("%s: permission_response outcome %q, option_id %q; want %q, %q", what, resp.Outcome, resp.OptionID, outcome, option)
	case resp.Seq != req.Seq+1:
		return Failf("%s: permission_response has seq %d, want %d (next in the session's sequence)", what, resp.Seq, req.Seq+1)
	}
	got := []string{}
	for _, e := range events[3:] {
		got = append(got, e.Content)
	}
	if d := jsonDiff(got, texts); d != "" {
		return Failf("%s: the texts after the answer %s", what, d)
	}
	return nil
}

// expectSameRequest fails unless a PermissionRequest describes its
// permission_request event.
func expectSameRequest(what string, p gen.PermissionRequest, ev gen.Event) error {
	switch {
	case p.RequestID != ev.RequestID || p.TurnIndex != ev.TurnIndex:
		return Failf("%s: request_id %q, turn_index %d; the event says %q, %d", what, p.RequestID, p.TurnIndex, ev.RequestID, ev.TurnIndex)
	case p.ToolCallID != ev.ToolCallID || p.Title != ev.Title:
		return Failf("%s: tool_call_id %q, title %q; the event says %q, %q", what, p.ToolCallID, p.Title, ev.ToolCallID, ev.Title)
	}
	if d := jsonDiff(p.Options, ev.Options); d != "" {
		return Failf("%s: options %s (those of its permission_request event)", what, d)
	}
	return nil
}

// cancelledRequest fails unless a request was answered cancelled.
func cancelledRequest(what string, p gen.PermissionRequest) error {
	if p.Status != gen.PermissionStatusCancelled || p.Outcome != gen.PermissionOutcomeCancelled || p.AnsweredAt.IsZero() || p.OptionID != "" {
		return Failf("%s: status %q, outcome %q, option_id %q, answered_at %v; want cancelled, cancelled, none, set", what, p.Status, p.Outcome, p.OptionID, p.AnsweredAt)
	}
	return nil
}

func permissionChecks() []*check {
	return []*check{
		def("PERM-001", Must, "sendTurn getSession getTurn listEvents",
			"a JSON sendTurn whose agent asks answers 202 TurnWaiting (the pending request, last_seq its event's seq); the turn stays running and the session waiting_for_input while it waits",
			func(ctx context.Context, t *tester) error {
				s, err := t.askingSession(ctx)
				if err != nil {
					return err
				}
				w, resp, err := t.waitingTurn(ctx, s.SessionID, map[string]any{"prompt": askScript(suiteAsk(""))}, nil)
				if err != nil {
					return err
				}
				p := w.PermissionRequests[0]
				switch {
				case w.SessionID != s.SessionID || w.TurnIndex != 1 || w.Status != gen.ActivityWaitingForInput:
					return resp.Failf("session_id %q, turn_index %d, status %q; want %q, 1, waiting_for_input", w.SessionID, w.TurnIndex, w.Status, s.SessionID)
				case len(w.PermissionRequests) != 1 || p.Status != gen.PermissionStatusPending || p.SessionID != s.SessionID || p.TurnIndex != 1:
					return resp.Failf("permission_requests %s, want the one pending request of turn 1", excerpt(resp.Body, 300))
				}
				events, err := t.turnEvents(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if len(events) == 0 || events[len(events)-1].Type != gen.EventTypePermissionRequest || events[len(events)-1].Seq != w.LastSeq {
					return resp.Failf("last_seq %d, but the turn's events are %v with seqs %v: last_seq is the seq of the turn's newest event, its permission_request", w.LastSeq, eventTypes(events), seqsOf(events))
				}
				if err := expectSameRequest("TurnWaiting.permission_requests[0]", p, events[len(events)-1]); err != nil {
					return err
				}
				// It goes on waiting: nothing answers it.
				for i := 0; i < 2; i++ {
					got, err := t.session(ctx, s.SessionID)
					if err != nil {
						return err
					}
					if got.Activity != gen.ActivityWaitingForInput {
						return Failf("getSession: activity %q while a request is pending, want waiting_for_input", got.Activity)
					}
					tr, err := t.getTurn(ctx, s.SessionID, 1)
					if err != nil {
						return err
					}
					if tr.Status != gen.TurnStatusRunning {
						return Failf("getTurn: status %q while its request is pending, want running", tr.Status)
					}
					if err := sleep(ctx, 150*time.Millisecond); err != nil {
						return err
					}
				}
				return nil
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-004", "REQ-PERM-001"),
		def("PERM-002", Must, "answerPermission sendTurn listEvents listPermissions",
			"answerPermission with an offered option answers 200 with the request answered and records one permission_response; the agent plays that option's branch (allow goes on, deny ends the turn refusal, an option without a branch goes on)",
			func(ctx context.Context, t *tester) error {
				for _, c := range []struct {
					option string
					stop   gen.StopReason
					texts  []string
				}{
					{"allow", gen.StopReasonEndTurn, []string{"allowed ", "after"}},
					{"deny", gen.StopReasonRefusal, []string{"denied"}},
					{"always", gen.StopReasonEndTurn, []string{"after"}},
				} {
					s, p, err := t.pendingAsk(ctx)
					if err != nil {
						return err
					}
					if p.RequestID == "" {
						return Failf("the request has no request_id although the server makes one when the ask has none")
					}
					lo, err := t.serverNow(ctx)
					if err != nil {
						return err
					}
					a, resp, err := t.answer(ctx, s.SessionID, p.RequestID, c.option)
					if err != nil {
						return err
					}
					hi, err := t.serverNow(ctx)
					if err != nil {
						return err
					}
					if a.Status != gen.PermissionStatusAnswered || a.Outcome != gen.PermissionOutcomeSelected || a.OptionID != c.option {
						return resp.Failf("status %q, outcome %q, option_id %q; want answered, selected, %q", a.Status, a.Outcome, a.OptionID, c.option)
					}
					if err := expectBetween("answered_at", a.AnsweredAt, lo, hi); err != nil {
						return resp.Failf("%v", err)
					}
					if !a.CreatedAt.Equal(p.CreatedAt) {
						return resp.Failf("created_at %s, but the pending request said %s", a.CreatedAt, p.CreatedAt)
					}
					tr, events, err := t.ended(ctx, s.SessionID, 1)
					if err != nil {
						return err
					}
					if tr.StopReason != c.stop {
						return Failf("answered %s: the turn ended %q, want %q", c.option, tr.StopReason, c.stop)
					}
					if err := expectAskEvents("answered "+c.option, events, p.RequestID, gen.PermissionOutcomeSelected, c.option, c.texts...); err != nil {
						return err
					}
					if err := expectSameRequest("answerPermission", a, events[1]); err != nil {
						return err
					}
					now, err := t.permissionState(ctx, s.SessionID, p.RequestID)
					if err != nil {
						return err
					}
					if d := jsonDiff(now, a); d != "" {
						return Failf("listPermissions after the turn ended: the answered request changed: %s", d)
					}
				}
				return nil
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-007", "REQ-PERM-013", "REQ-PERM-014", "REQ-AGT-007"),
		def("PERM-003", Must, "listPermissions answerPermission cancelTurn",
			"listPermissions lists a session's requests oldest first, each with its state; status keeps those in that status; request ids differ across asks and turns",
			func(ctx context.Context, t *tester) error {
				s, err := t.askingSession(ctx)
				if err != nil {
					return err
				}
				second := suiteAsk("")
				second.Title = "And the second question?"
				w, _, err := t.waitingTurn(ctx, s.SessionID, map[string]any{"prompt": askScript(suiteAsk(""), second)}, nil)
				if err != nil {
					return err
				}
				first := w.PermissionRequests[0]
				if _, _, err := t.answer(ctx, s.SessionID, first.RequestID, "allow"); err != nil {
					return err
				}
				pending, err := t.awaitPending(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				next := pending[0]
				if next.RequestID == first.RequestID || next.Title != second.Title {
					return Failf("the second ask's pending request is %q (%q): want a new request id with the second title", next.RequestID, next.Title)
				}
				want := func(status string, ids ...string) error {
					list, err := t.permissionsOf(ctx, s.SessionID, status, 0)
					if err != nil {
						return err
					}
					got := []string{}
					for _, p := range list {
						got = append(got, p.RequestID)
						if status != "" && string(p.Status) != status {
							return Failf("listPermissions?status=%s lists %s in status %q", status, p.RequestID, p.Status)
						}
					}
					if d := jsonDiff(got, ids); d != "" {
						return Failf("listPermissions?status=%s: request ids %s (oldest first)", status, d)
					}
					return nil
				}
				for _, c := range [][]string{{"", first.RequestID, next.RequestID}, {"pending", next.RequestID}, {"answered", first.RequestID}, {"cancelled"}} {
					if err := want(c[0], c[1:]...); err != nil {
						return err
					}
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, err := t.waitTurn(ctx, s.SessionID, 1, false); err != nil {
					return err
				}
				for _, c := range [][]string{{"pending"}, {"cancelled", next.RequestID}, {"answered", first.RequestID}} {
					if err := want(c[0], c[1:]...); err != nil {
						return err
					}
				}
				// A second turn asks again: a request id no request of the session had.
				third, _, err := t.asked(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if third.RequestID == first.RequestID || third.RequestID == next.RequestID || third.TurnIndex != 2 {
					return Failf("turn 2's request has request_id %q and turn_index %d: want an id unique in the session, turn 2", third.RequestID, third.TurnIndex)
				}
				// Paged one by one, the walk sees each once, oldest first.
				all, err := t.permissionsOf(ctx, s.SessionID, "", 1)
				if err != nil {
					return err
				}
				got := []string{}
				for _, p := range all {
					got = append(got, p.RequestID)
				}
				if d := jsonDiff(got, []string{first.RequestID, next.RequestID, third.RequestID}); d != "" {
					return Failf("listPermissions?limit=1 walked: %s", d)
				}
				return nil
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-006", "REQ-PERM-013"),
		def("PERM-004", Must, "answerPermission listEvents",
			"answerPermission repeated with the option that answered the request answers 200 with the request as it is, and records no second permission_response, also after the turn ended",
			func(ctx context.Context, t *tester) error {
				s, p, err := t.pendingAsk(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.answer(ctx, s.SessionID, p.RequestID, "allow")
				if err != nil {
					return err
				}
				again, resp, err := t.answer(ctx, s.SessionID, p.RequestID, "allow")
				if err != nil {
					return err
				}
				if d := jsonDiff(again, first); d != "" {
					return resp.Failf("the same answer again changed the request: %s", d)
				}
				_, events, err := t.ended(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				later, resp, err := t.answer(ctx, s.SessionID, p.RequestID, "allow")
				if err != nil {
					return err
				}
				if d := jsonDiff(later, first); d != "" {
					return resp.Failf("the same answer after the turn ended: %s", d)
				}
				all, _, err := listAll[gen.Event](ctx, t, path("/v1/sessions/%s/events", s.SessionID), nil, 0, 20)
				if err != nil {
					return err
				}
				if _, responses := permissionEvents(all, p.RequestID); len(responses) != 1 {
					return Failf("the session has %d permission_response events for %s after three identical answers, want 1", len(responses), p.RequestID)
				}
				return expectAskEvents("the turn", events, p.RequestID, gen.PermissionOutcomeSelected, "allow", "allowed ", "after")
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-008", "REQ-PERM-013"),
		def("PERM-005", Must, "answerPermission listPermissions cancelTurn",
			"another option for an answered request, or any option for a cancelled one, answers 409 permission_resolved and changes nothing",
			func(ctx context.Context, t *tester) error {
				s, p, err := t.pendingAsk(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.answer(ctx, s.SessionID, p.RequestID, "allow")
				if err != nil {
					return err
				}
				check := func(id, option string, want gen.PermissionRequest) error {
					resp, err := t.Do(ctx, t.answerReq(s.SessionID, id, option))
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodePermissionResolved); err != nil {
						return err
					}
					now, err := t.permissionState(ctx, s.SessionID, id)
					if err != nil {
						return err
					}
					if d := jsonDiff(now, want); d != "" {
						return Failf("after the 409 the request changed: %s", d)
					}
					return nil
				}
				if err := check(p.RequestID, "deny", first); err != nil {
					return err
				}
				if _, _, err := t.ended(ctx, s.SessionID, 1); err != nil {
					return err
				}
				if err := check(p.RequestID, "never", first); err != nil {
					return err
				}
				// A cancelled request takes no answer at all.
				q, _, err := t.asked(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				_, before, err := t.ended(ctx, s.SessionID, 2)
				if err != nil {
					return err
				}
				cancelled, err := t.permissionState(ctx, s.SessionID, q.RequestID)
				if err != nil {
					return err
				}
				if err := cancelledRequest("the cancelled turn's request", cancelled); err != nil {
					return err
				}
				for _, option := range []string{"allow", "deny"} {
					if err := check(q.RequestID, option, cancelled); err != nil {
						return err
					}
				}
				after, err := t.turnEvents(ctx, s.SessionID, 2)
				if err != nil {
					return err
				}
				if len(after) != len(before) {
					return Failf("answers to a cancelled request added events: %v, then %v", eventTypes(before), eventTypes(after))
				}
				return nil
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-009", "REQ-PERM-014"),
		def("PERM-006", Must, "answerPermission listPermissions",
			"an option the request does not offer answers 422 unknown_option and changes nothing, whether the request is pending, answered or cancelled",
			func(ctx context.Context, t *tester) error {
				s, p, err := t.pendingAsk(ctx)
				if err != nil {
					return err
				}
				unknown := func(id string, index int32) error {
					before, err := t.turnEvents(ctx, s.SessionID, index)
					if err != nil {
						return err
					}
					was, err := t.permissionState(ctx, s.SessionID, id)
					if err != nil {
						return err
					}
					for _, option := range []string{"allow_once", "Allow", "allowed"} {
						resp, err := t.Do(ctx, t.answerReq(s.SessionID, id, option))
						if err != nil {
							return err
						}
						if err := resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownOption); err != nil {
							return err
						}
					}
					now, err := t.permissionState(ctx, s.SessionID, id)
					if err != nil {
						return err
					}
					if d := jsonDiff(now, was); d != "" {
						return Failf("after 422 unknown_option the request changed (%s): %s", was.Status, d)
					}
					after, err := t.turnEvents(ctx, s.SessionID, index)
					if err != nil {
						return err
					}
					if len(after) != len(before) {
						return Failf("422 answers to a %s request added events: %v, then %v", was.Status, eventTypes(before), eventTypes(after))
					}
					return nil
				}
				if err := unknown(p.RequestID, 1); err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.Activity != gen.ActivityWaitingForInput {
					return Failf("after answers with unknown options the session's activity is %q, want waiting_for_input", got.Activity)
				}
				if _, _, err := t.answer(ctx, s.SessionID, p.RequestID, "allow"); err != nil {
					return err
				}
				if _, _, err := t.ended(ctx, s.SessionID, 1); err != nil {
					return err
				}
				if err := unknown(p.RequestID, 1); err != nil {
					return err
				}
				q, _, err := t.asked(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, _, err := t.ended(ctx, s.SessionID, 2); err != nil {
					return err
				}
				return unknown(q.RequestID, 2)
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-010"),
		def("PERM-007", Must, "answerPermission",
			"answerPermission with a request id the session does not have answers 404 not_found: an unknown id, and another session's request (which stays pending)",
			func(ctx context.Context, t *tester) error {
				a, p, err := t.pendingAsk(ctx)
				if err != nil {
					return err
				}
				b, err := t.askingSession(ctx)
				if err != nil {
					return err
				}
				for _, c := range []struct{ session, id string }{
					{a.SessionID, "perm_cf_no_such_request"}, {b.SessionID, p.RequestID}, {b.SessionID, "perm_cf_no_such_request"},
				} {
					resp, err := t.Do(ctx, t.answerReq(c.session, c.id, "allow"))
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
						return err
					}
				}
				now, err := t.permissionState(ctx, a.SessionID, p.RequestID)
				if err != nil {
					return err
				}
				if now.Status != gen.PermissionStatusPending {
					return Failf("after an answer sent to another session the request is %q, want pending", now.Status)
				}
				return nil
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-011"),
		def("PERM-008", Must, "cancelTurn cancelTurnAt sendTurn closeSession endSession listPermissions listEvents",
			"cancelTurn, cancelTurnAt, an interrupt, closeSession, endSession and the turn's timeout answer its pending request cancelled (one permission_response, outcome cancelled, before the turn ends) and the turn ends cancelled as they say",
			func(ctx context.Context, t *tester) error {
				type way struct {
					name string
					by   gen.CancelledBy
					body map[string]any // the waiting turn's extra members
					end  func(id string) (<-chan asyncResult, error)
				}
				post := func(p string, body any) func(id string) (<-chan asyncResult, error) {
					return func(id string) (<-chan asyncResult, error) {
						resp, err := t.post(ctx, path(p, id), body)
						if err != nil {
							return nil, err
						}
						return nil, resp.Expect(http.StatusOK)
					}
				}
				ways := []way{
					{"cancelTurn", gen.CancelledByCancelRequest, nil, post("/v1/sessions/%s/cancel", nil)},
					{"cancelTurnAt", gen.CancelledByCancelRequest, nil, post("/v1/sessions/%s/turns/1/cancel", nil)},
					{"closeSession", gen.CancelledBySessionClosed, nil, func(id string) (<-chan asyncResult, error) { return nil, t.closeSession(ctx, id) }},
					{"the turn's timeout_ms", gen.CancelledByTimeout, map[string]any{"timeout_ms": 300}, func(string) (<-chan asyncResult, error) { return nil, nil }},
				}
				if t.env.has(NeedInterrupt) {
					ways = append(ways, way{"an interrupt", gen.CancelledByInterrupt, nil, func(id string) (<-chan asyncResult, error) {
						return t.turnAsync(ctx, id, map[string]any{"prompt": script("", step{0, "text", "interrupter"}), "busy_policy": "interrupt"}), nil
					}})
				}
				if t.env.has(NeedLifecycle) {
					ways = append(ways, way{"endSession", gen.CancelledBySessionClosed, nil, post("/v1/sessions/%s/end", map[string]any{"status": "completed"})})
				}
				for _, w := range ways {
					s, err := t.askingSession(ctx)
					if err != nil {
						return err
					}
					body := map[string]any{"prompt": askScript(suiteAsk(""))}
					for k, v := range w.body {
						body[k] = v
					}
					wt, _, err := t.waitingTurn(ctx, s.SessionID, body, nil)
					if err != nil {
						return err
					}
					p := wt.PermissionRequests[0]
					next, err := w.end(s.SessionID)
					if err != nil {
						return err
					}
					tr, events, err := t.ended(ctx, s.SessionID, 1)
					if err != nil {
						return err
					}
					if tr.StopReason != gen.StopReasonCancelled || tr.CancelledBy != w.by {
						return Failf("%s: the waiting turn ended with stop_reason %q, cancelled_by %q; want cancelled, %s", w.name, tr.StopReason, tr.CancelledBy, w.by)
					}
					_, responses := permissionEvents(events, p.RequestID)
					if len(responses) != 1 || responses[0].Outcome != gen.PermissionOutcomeCancelled || responses[0].OptionID != "" {
						return Failf("%s: the turn's events %v hold %d permission_response events for the request; want one with outcome cancelled", w.name, eventTypes(events), len(responses))
					}
					if responses[0].Seq > tr.LastSeq {
						return Failf("%s: the permission_response (seq %d) comes after the turn's last event (seq %d)", w.name, responses[0].Seq, tr.LastSeq)
					}
					state, err := t.permissionState(ctx, s.SessionID, p.RequestID)
					if err != nil {
						return err
					}
					if err := cancelledRequest(w.name, state); err != nil {
						return err
					}
					if next != nil {
						if _, err := awaitWithin(ctx, next, cancelWait, w.name); err != nil {
							return err
						}
					}
				}
				return nil
			}, NeedScripted, NeedPermissions).traces("REQ-PERM-002", "REQ-PERM-014"),
		def("PERM-009", Must, "sendTurn streamTurn answerPermission",
			"a streamed turn sends the permission_request frame and stays open while it waits; after the answer the same stream carries the response, the branch and turn.completed (sendTurn and streamTurn)",
			func(ctx context.Context, t *tester) error {
				s, err := t.askingSession(ctx)
				if err != nil {
					return err
				}
				stream, err := t.Stream(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": askScript(suiteAsk(""))}})
				if err != nil {
					return err
				}
				if err := stream.ExpectLive(); err != nil {
					return err
				}
				st, err := readFrames(stream, func(st streamed) bool {
					return len(st.events) > 0 && st.events[len(st.events)-1].Type == gen.EventTypePermissionRequest
				}, streamed{})
				if err != nil {
					return err
				}
				if len(st.events) == 0 || st.events[len(st.events)-1].Type != gen.EventTypePermissionRequest {
					return stream.Failf("the stream ended (%v) before a permission_request frame", st.order)
				}
				requestID := st.events[len(st.events)-1].RequestID
				// The stream must stay open while the turn waits, so it is
				// read on while the answer is sent.
				rest := make(chan streamResult, 1)
				go func() {
					more, err := readStream(stream, nil)
					rest <- streamResult{more, stream, err}
				}()
				if err := sleep(ctx, 200*time.Millisecond); err != nil {
					return err
				}
				if _, _, err := t.answer(ctx, s.SessionID, requestID, "allow"); err != nil {
					return err
				}
				r, err := awaitStream(ctx, rest, cancelWait, "the request was answered")
				if err != nil {
					return err
				}
				if r.st.completed == nil {
					return stream.Failf("after the permission_request frame the stream carried %v and ended without turn.completed: it did not stay open while the turn waited", r.st.order)
				}
				if d := jsonDiff(eventTypes(r.st.events), []string{"permission_response", "text", "text"}); d != "" {
					return stream.Failf("after the answer the stream's events: %s", d)
				}
				// streamTurn on a waiting turn: the same.
				w, _, err := t.waitingTurn(ctx, s.SessionID, map[string]any{"prompt": askScript(suiteAsk(""))}, nil)
				if err != nil {
					return err
				}
				go func() {
					st, s2, err := t.resume(ctx, s.SessionID, w.TurnIndex, strconv.FormatInt(w.LastSeq, 10), "")
					rest <- streamResult{st, s2, err}
				}()
				if err := sleep(ctx, 200*time.Millisecond); err != nil {
					return err
				}
				select {
				case r := <-rest:
					return Failf("streamTurn on a waiting turn ended before the answer (%v, %v): it must stay open while the turn waits", r.st.order, r.err)
				default:
				}
				if _, _, err := t.answer(ctx, s.SessionID, w.PermissionRequests[0].RequestID, "allow"); err != nil {
					return err
				}
				r, err = awaitStream(ctx, rest, cancelWait, "the request was answered")
				if err != nil {
					return err
				}
				if r.st.completed == nil {
					return r.s.Failf("streamTurn ended without turn.completed (%v)", r.st.order)
				}
				if d := jsonDiff(eventTypes(r.st.events), []string{"permission_response", "text", "text"}); d != "" {
					return r.s.Failf("streamTurn after last_seq: events %s", d)
				}
				return nil
			}, NeedScripted, NeedPermissions, NeedStreaming, NeedResume).traces("REQ-PERM-003"),
		def("PERM-010", Must, "sendTurn answerPermission getSession",
			"a JSON sendTurn repeated with its Idempotency-Key answers 202 with the requests pending then while the turn waits, and 200 with the TurnResult once it has ended; no second turn starts",
			func(ctx context.Context, t *tester) error {
				s, err := t.askingSession(ctx)
				if err != nil {
					return err
				}
				key := map[string]string{"Idempotency-Key": t.key("waiting")}
				body := map[string]any{"prompt": askScript(suiteAsk(""))}
				w1, _, err := t.waitingTurn(ctx, s.SessionID, body, key)
				if err != nil {
					return err
				}
				w2, resp, err := t.waitingTurn(ctx, s.SessionID, body, key)
				if err != nil {
					return err
				}
				if w2.TurnIndex != w1.TurnIndex || len(w2.PermissionRequests) != 1 || w2.PermissionRequests[0].RequestID != w1.PermissionRequests[0].RequestID {
					return resp.Failf("the repeat answered turn %d with %s; want turn %d with the same pending request", w2.TurnIndex, excerpt(resp.Body, 300), w1.TurnIndex)
				}
				if _, _, err := t.answer(ctx, s.SessionID, w1.PermissionRequests[0].RequestID, "allow"); err != nil {
					return err
				}
				if _, err := t.waitTurn(ctx, s.SessionID, w1.TurnIndex, false); err != nil {
					return err
				}
				resp, err = t.sendTurn(ctx, s.SessionID, body, key)
				if err != nil {
					return err
				}
				r, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if r.TurnIndex != w1.TurnIndex || r.StopReason != gen.StopReasonEndTurn || textOf(r.Events) != "before allowed after" {
					return resp.Failf("turn_index %d, stop_reason %q, text %q; want the ended turn %d: end_turn, %q", r.TurnIndex, r.StopReason, textOf(r.Events), w1.TurnIndex, "before allowed after")
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("turn_count %d after three sends with one key, want 1", got.TurnCount)
				}
				return nil
			}, NeedScripted, NeedPermissions, NeedIdempotency).traces("REQ-PERM-005"),
		def("PERM-011", Must, "sendTurn",
			"an agent that does not declare permissions never emits a permission_request, even when its prompt is a script that asks",
			func(ctx context.Context, t *tester) error {
				tested := 0
				for _, a := range t.env.caps.Agents {
					if a.Permissions || (a.Kind != gen.AgentKindEcho && a.Kind != gen.AgentKindScripted) {
						continue
					}
					tested++
					s, err := t.create(ctx, t.sessionBody(a.Name), asPrimary)
					if err != nil {
						return err
					}
					resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": askScript(suiteAsk(""))}, nil)
					if err != nil {
						return err
					}
					r, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
					if err != nil {
						return err
					}
					if slices.Contains(eventTypes(r.Events), string(gen.EventTypePermissionRequest)) {
						return resp.Failf("agent %q (permissions not declared) emitted a permission_request", a.Name)
					}
				}
				if tested == 0 {
					return NotApplicablef("every echo or scripted agent declares permissions")
				}
				return nil
			}).traces("REQ-PERM-012"),
		def("PERM-012", Must, "sendTurn getTurn listPermissions answerPermission",
			"an ask with timeout_ms still pending after that long is withdrawn: answered cancelled (a permission_response, outcome cancelled), its cancelled branch plays and the turn goes on",
			func(ctx context.Context, t *tester) error {
				s, err := t.askingSession(ctx)
				if err != nil {
					return err
				}
				ask := suiteAsk("")
				ask.TimeoutMs = 200
				w, _, err := t.waitingTurn(ctx, s.SessionID, map[string]any{"prompt": askScript(ask)}, nil)
				if err != nil {
					return err
				}
				p := w.PermissionRequests[0]
				tr, events, err := t.ended(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if tr.StopReason != gen.StopReasonEndTurn {
					return Failf("the turn whose ask was withdrawn ended %q, want end_turn", tr.StopReason)
				}
				if err := expectAskEvents("the withdrawn ask", events, p.RequestID, gen.PermissionOutcomeCancelled, "", "withdrawn ", "after"); err != nil {
					return err
				}
				if ms := events[2].CreatedAt.Sub(events[1].CreatedAt).Milliseconds(); ms < 200-int64(precision(events[1].CreatedAt, events[2].CreatedAt)/time.Millisecond) {
					return Failf("the ask was withdrawn %d ms after it was made, before its timeout_ms of 200", ms)
				}
				state, err := t.permissionState(ctx, s.SessionID, p.RequestID)
				if err != nil {
					return err
				}
				if err := cancelledRequest("the withdrawn request", state); err != nil {
					return err
				}
				resp, err := t.Do(ctx, t.answerReq(s.SessionID, p.RequestID, "allow"))
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusConflict, gen.ProblemCodePermissionResolved)
			}, NeedScripted, NeedPermissions).traces("REQ-AGT-008", "REQ-AGT-007"),
	}
}
