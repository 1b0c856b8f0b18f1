package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// The helpers below are the vocabulary the checks are written in. They
// expect the documented success status and decode the body, so a check
// reads as the scenario it tests.

// plan is a plan_slug unique to this check and run ("cf-1a2b3c4d-sess-004").
func (t *tester) plan(suffix ...string) string {
	s := t.env.prefix + "-" + strings.ToLower(t.chk.ID)
	for _, x := range suffix {
		s += "-" + x
	}
	return s
}

// meta marks a session as made by this run and check.
func (t *tester) meta() map[string]any {
	return map[string]any{"conformance_run": t.env.prefix, "conformance_check": t.chk.ID}
}

// sessionBody is a createSession body for agent with the run's marks.
func (t *tester) sessionBody(agent string) map[string]any {
	return map[string]any{"agent": agent, "meta": t.meta(), "plan_slug": t.plan()}
}

func (t *tester) get(ctx context.Context, p string, q url.Values) (*response, error) {
	return t.Do(ctx, request{Method: http.MethodGet, Path: p, Query: q})
}

func (t *tester) post(ctx context.Context, p string, body any) (*response, error) {
	return t.Do(ctx, request{Method: http.MethodPost, Path: p, JSON: body})
}

// create sends createSession and expects 201.
func (t *tester) create(ctx context.Context, body map[string]any, as tenant) (gen.Session, error) {
	resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: body, As: as})
	if err != nil {
		return gen.Session{}, err
	}
	return expectJSON[gen.Session](resp, http.StatusCreated)
}

// echoSession creates a session with the echo agent.
func (t *tester) echoSession(ctx context.Context) (gen.Session, error) {
	return t.create(ctx, t.sessionBody(t.env.echo), asPrimary)
}

// seedContext is the context summary contextSession starts a session with.
func seedContext() map[string]any { return map[string]any{"k": "v"} }

// contextSession creates an echo session whose context summary is
// seedContext, for the checks that follow the context into handoffs,
// continuations and replays.
func (t *tester) contextSession(ctx context.Context) (gen.Session, error) {
	body := t.sessionBody(t.env.echo)
	body["context"] = seedContext()
	return t.create(ctx, body, asPrimary)
}

// planSessions lists every session of this run's plan, oldest first.
func (t *tester) planSessions(ctx context.Context) ([]gen.Session, error) {
	list, _, err := listAll[gen.Session](ctx, t, "/v1/sessions", url.Values{"plan_slug": {t.plan()}}, 0, 5)
	return list, err
}

// childrenCap is limits.max_children, or a skip when the cap is too large
// (or too small) for a check that fills it.
func (t *tester) childrenCap() (int, error) {
	limit := int(t.env.caps.Limits.MaxChildren)
	if limit < 1 || limit > maxChildrenTested {
		return 0, Skipf("max_children is %d: the check fills caps of 1 to %d", limit, maxChildrenTested)
	}
	return limit, nil
}

// closeSession closes a session (DELETE) and expects 200.
func (t *tester) closeSession(ctx context.Context, id string) error {
	resp, err := t.Do(ctx, opClose.req(id))
	if err != nil {
		return err
	}
	return resp.Expect(http.StatusOK)
}

// scriptedSession creates a session with the scripted agent.
func (t *tester) scriptedSession(ctx context.Context) (gen.Session, error) {
	return t.create(ctx, t.sessionBody(t.env.scripted), asPrimary)
}

func (t *tester) session(ctx context.Context, id string) (gen.Session, error) {
	resp, err := t.get(ctx, path("/v1/sessions/%s", id), nil)
	if err != nil {
		return gen.Session{}, err
	}
	return expectJSON[gen.Session](resp, http.StatusOK)
}

// expectStatus fails unless the session is in status want.
func (t *tester) expectStatus(ctx context.Context, id string, want gen.SessionStatus) (gen.Session, error) {
	s, err := t.session(ctx, id)
	if err != nil {
		return s, err
	}
	if s.Status != want {
		return s, Failf("getSession: status %q, want %q", s.Status, want)
	}
	return s, nil
}

// sendTurn sends a JSON turn; body is a TurnRequest.
func (t *tester) sendTurn(ctx context.Context, id string, body map[string]any, header map[string]string) (*response, error) {
	return t.Do(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", id), JSON: body, Header: header})
}

// turn sends a prompt and expects a 200 TurnResult.
func (t *tester) turn(ctx context.Context, id, prompt string) (gen.TurnResult, error) {
	resp, err := t.sendTurn(ctx, id, map[string]any{"prompt": prompt}, nil)
	if err != nil {
		return gen.TurnResult{}, err
	}
	return expectJSON[gen.TurnResult](resp, http.StatusOK)
}

// getTurn reads one turn.
func (t *tester) getTurn(ctx context.Context, id string, index int32) (gen.Turn, error) {
	resp, err := t.get(ctx, path("/v1/sessions/%s/turns/%d", id, index), nil)
	if err != nil {
		return gen.Turn{}, err
	}
	return expectJSON[gen.Turn](resp, http.StatusOK)
}

// waitTurn polls getTurn until the turn is running with at least one event
// (running=true) or has completed, within a few seconds.
func (t *tester) waitTurn(ctx context.Context, id string, index int32, running bool) (gen.Turn, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := t.get(ctx, path("/v1/sessions/%s/turns/%d", id, index), nil)
		if err != nil {
			return gen.Turn{}, err
		}
		if resp.Status == http.StatusNotFound && time.Now().Before(deadline) {
			// The turn's request has not reached the server yet.
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				return gen.Turn{}, err
			}
			continue
		}
		tr, err := expectJSON[gen.Turn](resp, http.StatusOK)
		if err != nil {
			return tr, err
		}
		if running && tr.Status == gen.TurnStatusRunning && tr.EventCount > 0 {
			return tr, nil
		}
		if tr.Status == gen.TurnStatusCompleted {
			if running {
				return tr, Failf("turn %d completed (stop_reason %q) while the check expected it to be still running", index, tr.StopReason)
			}
			return tr, nil
		}
		if time.Now().After(deadline) {
			return tr, Failf("turn %d is still %q after 10s", index, tr.Status)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return tr, err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// turnAsync sends a turn in the background; the channel yields its answer.
func (t *tester) turnAsync(ctx context.Context, id string, body map[string]any) <-chan asyncResult {
	return t.turnAsyncWith(ctx, id, body, nil)
}

// turnAsyncWith is turnAsync with extra request headers.
func (t *tester) turnAsyncWith(ctx context.Context, id string, body map[string]any, header map[string]string) <-chan asyncResult {
	ch := make(chan asyncResult, 1)
	go func() {
		resp, err := t.sendTurn(ctx, id, body, header)
		ch <- asyncResult{resp, err}
	}()
	return ch
}

// refusedTurn sends a turn the server should refuse at once (a 409 while
// another turn runs) and gives it cancelWait to answer: a server that queues
// it instead fails the check fast rather than after the request timeout.
func (t *tester) refusedTurn(ctx context.Context, id string, body map[string]any) (*response, error) {
	timer := time.NewTimer(cancelWait)
	defer timer.Stop()
	select {
	case r := <-t.turnAsync(ctx, id, body):
		return r.resp, r.err
	case <-timer.C:
		return nil, Failf("sendTurn %v: no answer within %s while another turn runs: the turn was queued instead of refused", body["busy_policy"], cancelWait)
	}
}

type asyncResult struct {
	resp *response
	err  error
}

// await waits for a background turn and expects a 200 TurnResult.
func await(ctx context.Context, ch <-chan asyncResult) (gen.TurnResult, error) {
	return awaitWithin(ctx, ch, 0, "")
}

// cancelWait bounds how long a check waits for a turn that the server should
// have ended (cancel, interrupt, close, end): much less than the scripts'
// length, so a server that does not end it fails fast.
const cancelWait = 5 * time.Second

// awaitWithin is await with a limit: when the turn has not answered within d
// (if d > 0), the check fails with "what did not happen".
func awaitWithin(ctx context.Context, ch <-chan asyncResult, d time.Duration, what string) (gen.TurnResult, error) {
	var limit <-chan time.Time
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		limit = timer.C
	}
	select {
	case <-ctx.Done():
		return gen.TurnResult{}, Failf("a turn did not answer: %v", ctx.Err())
	case <-limit:
		return gen.TurnResult{}, Failf("%s: the turn still runs %s later", what, d)
	case r := <-ch:
		if r.err != nil {
			return gen.TurnResult{}, r.err
		}
		return expectJSON[gen.TurnResult](r.resp, http.StatusOK)
	}
}

// step is one step of an AgentScript.
type step struct {
	delayMS int
	typ     string
	content string
}

// script renders an AgentScript (the scripted agent's prompt).
func script(stopReason string, steps ...step) string {
	s := gen.AgentScript{StopReason: gen.StopReason(stopReason)}
	for _, st := range steps {
		ev := gen.ScriptEvent{Type: gen.EventType(st.typ), Content: st.content}
		s.Steps = append(s.Steps, gen.ScriptStep{DelayMs: int32(st.delayMS), Event: ev})
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// longScript starts at once (one text event) and then waits long enough
// that the check always ends it first (cancel, interrupt, close).
func longScript() string {
	return script("", step{0, "text", "started"}, step{30000, "text", "never sent"})
}

// textOf concatenates the content of the text events, as TurnResult.Text does.
func textOf(events []gen.Event) string {
	var b strings.Builder
	for _, e := range events {
		if e.Type == gen.EventTypeText {
			b.WriteString(e.Content)
		}
	}
	return b.String()
}

// checkSeqs fails unless the events' seq run from first without gaps and all
// belong to turn index.
func checkSeqs(what string, events []gen.Event, first int64, index int32) error {
	for i, e := range events {
		if e.Seq != first+int64(i) {
			return Failf("%s: event %d has seq %d, want %d (seq counts up by one per event)", what, i, e.Seq, first+int64(i))
		}
		if index > 0 && e.TurnIndex != index {
			return Failf("%s: event seq %d has turn_index %d, want %d", what, e.Seq, e.TurnIndex, index)
		}
	}
	return nil
}

// listAll walks a list with the given page size and returns every raw item.
func listAll[V any](ctx context.Context, t *tester, p string, q url.Values, limit int, maxPages int) ([]V, int, error) {
	q = cloneValues(q)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var all []V
	pages := 0
	for {
		resp, err := t.get(ctx, p, q)
		if err != nil {
			return nil, pages, err
		}
		var page struct {
			Items      []V     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := resp.Expect(http.StatusOK); err != nil {
			return nil, pages, err
		}
		if err := resp.Decode(&page); err != nil {
			return nil, pages, err
		}
		pages++
		if limit > 0 && len(page.Items) > limit {
			return nil, pages, resp.Failf("a page holds %d items, more than limit=%d", len(page.Items), limit)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all, pages, nil
		}
		if pages >= maxPages {
			return nil, pages, resp.Failf("still a next_cursor after %d pages", pages)
		}
		q.Set("cursor", *page.NextCursor)
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// toStatus drives a fresh session from active to status with the lifecycle
// operations (pause; endSession completed/failed).
func (t *tester) toStatus(ctx context.Context, id string, status gen.SessionStatus) error {
	var resp *response
	var err error
	switch status {
	case gen.SessionStatusActive:
		return nil
	case gen.SessionStatusPaused:
		resp, err = t.post(ctx, path("/v1/sessions/%s/pause", id), nil)
	case gen.SessionStatusCompleted, gen.SessionStatusFailed:
		resp, err = t.post(ctx, path("/v1/sessions/%s/end", id), map[string]any{"status": string(status)})
	default:
		return fmt.Errorf("toStatus: unknown status %q", status)
	}
	if err != nil {
		return err
	}
	s, err := expectJSON[gen.Session](resp, http.StatusOK)
	if err != nil {
		return err
	}
	if s.Status != status {
		return resp.Failf("status %q after the change, want %q", s.Status, status)
	}
	return nil
}

// jsonDiff describes how got differs from want as JSON, or "" when they match.
func jsonDiff(got, want any) string {
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	gn, _ := json.Marshal(gv)
	wn, _ := json.Marshal(wv)
	if string(gn) == string(wn) {
		return ""
	}
	return fmt.Sprintf("got %s, want %s", excerpt(gn, 400), excerpt(wn, 400))
}

// serverNow reads the server's clock: getHealth's time. The timestamps of
// the server's resources are on the same clock, so a resource made between
// two readings carries a time between them, whatever the client's clock says.
func (t *tester) serverNow(ctx context.Context) (time.Time, error) {
	resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: "/v1/health", As: asAnonymous})
	if err != nil {
		return time.Time{}, err
	}
	h, err := expectJSON[gen.Health](resp, http.StatusOK)
	if err != nil {
		return time.Time{}, err
	}
	if h.Time.IsZero() {
		return time.Time{}, resp.Failf("getHealth has no time")
	}
	return h.Time, nil
}

// precision is how coarse a timestamp may be: a whole second when it has no
// fraction (the server may truncate to seconds), else none.
func precision(ts ...time.Time) time.Duration {
	for _, x := range ts {
		if x.Nanosecond() == 0 {
			return time.Second
		}
	}
	return 0
}

// expectBetween fails unless lo <= v <= hi, give or take the timestamps'
// precision.
func expectBetween(what string, v, lo, hi time.Time) error {
	slack := precision(v, lo, hi)
	switch {
	case v.IsZero():
		return Failf("%s is missing", what)
	case v.Before(lo.Add(-slack)):
		return Failf("%s %s is before %s, when the server's clock said it had not happened yet", what, v.Format(time.RFC3339Nano), lo.Format(time.RFC3339Nano))
	case v.After(hi.Add(slack)):
		return Failf("%s %s is after %s, when the server's clock said it had happened", what, v.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano))
	}
	return nil
}

// notBefore fails unless a is not before b, give or take the precision.
func notBefore(what string, a time.Time, bWhat string, b time.Time) error {
	if a.Before(b.Add(-precision(a, b))) {
		return Failf("%s %s is before %s %s", what, a.Format(time.RFC3339Nano), bWhat, b.Format(time.RFC3339Nano))
	}
	return nil
}

// restart restarts the server with the run's hook and waits until getHealth
// answers 200 again. A failing hook is a harness error (the run's set-up),
// a server that does not come back a failure.
func (t *tester) restart(ctx context.Context) error {
	if t.env.restart == nil {
		return Skipf("no restart hook")
	}
	t.Logf("restarting the server")
	if err := t.env.restart(ctx); err != nil {
		return fmt.Errorf("the restart hook failed: %v", err)
	}
	deadline := time.Now().Add(restartWait)
	for {
		resp, _, err := t.c.roundTrip(ctx, request{Method: http.MethodGet, Path: "/v1/health", As: asAnonymous}, t.chk.ID, nil)
		if err == nil && resp.Status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return Failf("the server did not answer getHealth with 200 within %s of the restart", restartWait)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// restartWait bounds how long the suite waits for a restarted server.
const restartWait = 30 * time.Second

// rawJSON decodes a response body as a generic JSON object.
func rawJSON(resp *response) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil || m == nil {
		return nil, resp.Failf("the body is not a JSON object")
	}
	return m, nil
}

// rawSession reads a session as a generic JSON object, to see which members
// it has.
func (t *tester) rawSession(ctx context.Context, id string) (map[string]any, *response, error) {
	resp, err := t.get(ctx, path("/v1/sessions/%s", id), nil)
	if err != nil {
		return nil, nil, err
	}
	if err := resp.Expect(http.StatusOK); err != nil {
		return nil, resp, err
	}
	m, err := rawJSON(resp)
	return m, resp, err
}

// snapshot is what of a session must stay as it is when an operation on
// another session (continue, replay) promises to leave it unchanged.
func snapshot(s gen.Session) map[string]any {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "activity") // a live value, not something an operation changes
	return m
}
