package sessions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
	"github.com/google/go-cmp/cmp"
)

var allowDeny = []gen.PermissionOption{
	{OptionID: "allow", Name: "Allow", Kind: gen.PermissionOptionKindAllowOnce},
	{OptionID: "deny", Name: "Deny", Kind: gen.PermissionOptionKindRejectOnce},
}

func textStep(content string) gen.ScriptStep {
	return gen.ScriptStep{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: content}}
}

// ask is a step asking id: allow plays "<id> allowed", deny plays
// "<id> denied" and ends the turn with refusal.
func ask(id string) gen.ScriptStep {
	return gen.ScriptStep{Ask: gen.ScriptAsk{RequestID: id, Title: "Run " + id + "?", Options: allowDeny,
		Branches: gen.ScriptBranches{
			"allow": {Steps: []gen.ScriptStep{textStep(id + " allowed")}},
			"deny":  {Steps: []gen.ScriptStep{textStep(id + " denied")}, StopReason: gen.StopReasonRefusal},
		}}}
}

func scriptOf(t testing.TB, steps ...gen.ScriptStep) string {
	t.Helper()
	b, err := json.Marshal(gen.AgentScript{Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkWhole fails unless res holds the turn's events exactly as the
// server's event log has them, with contiguous seqs.
func checkWhole(t *testing.T, s *sessions.Session, res *sessions.TurnResult, wantText string) {
	t.Helper()
	var logged []int64
	for ev, err := range s.TurnEvents(context.Background(), res.TurnIndex, 0) {
		if err != nil {
			t.Fatal(err)
		}
		logged = append(logged, ev.Seq)
	}
	var got []int64
	for _, ev := range res.Events {
		got = append(got, ev.Seq)
	}
	if diff := cmp.Diff(logged, got); diff != "" {
		t.Errorf("result's seqs (-server +result):\n%s", diff)
	}
	if res.Text() != wantText {
		t.Errorf("Text = %q, want %q", res.Text(), wantText)
	}
}

func TestPermissionAnsweredFromTheStream(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "scripted")
	ctx := context.Background()
	st := s.TurnStream(ctx, scriptOf(t, textStep("before "), ask("perm_a"), textStep(" after")))
	var types []sessions.EventType
	for ev, err := range st.Events() {
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ev.Type)
		if ev.Type != sessions.EventPermissionRequest {
			continue
		}
		if ev.RequestID != "perm_a" || len(ev.Options) != 2 || ev.Options[1].Kind != sessions.RejectOnce {
			t.Fatalf("permission_request = %v", ev)
		}
		info, err := s.Refresh(ctx)
		if err != nil || info.Activity != sessions.ActivityWaitingForInput {
			t.Fatalf("activity while asked = %v, %v; want waiting_for_input", info, err)
		}
		pr, err := ev.Answer(ctx, "allow")
		if err != nil || pr.Status != sessions.PermissionAnswered || pr.OptionID != "allow" || pr.TurnIndex != 1 {
			t.Fatalf("Answer = %+v, %v", pr, err)
		}
	}
	res, err := st.Result()
	if err != nil {
		t.Fatal(err)
	}
	want := []sessions.EventType{sessions.EventText, sessions.EventPermissionRequest, sessions.EventPermissionResponse, sessions.EventText, sessions.EventText}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	checkWhole(t, s, res, "before perm_a allowed after")

	// Answers are final: the same again is fine, another is refused.
	if pr, err := s.AnswerPermission(ctx, "perm_a", "allow"); err != nil || pr.OptionID != "allow" {
		t.Errorf("the same answer again = %+v, %v", pr, err)
	}
	if _, err := s.AnswerPermission(ctx, "perm_a", "deny"); !errors.Is(err, agentsession.ErrPermissionResolved) || !errors.Is(err, agentsession.ErrConflict) {
		t.Errorf("another answer: %v, want ErrPermissionResolved", err)
	}
	if _, err := s.AnswerPermission(ctx, "perm_a", "maybe"); !errors.Is(err, agentsession.ErrUnknownOption) || !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("an option not offered: %v, want ErrUnknownOption", err)
	}
	if _, err := s.AnswerPermission(ctx, "perm_nobody", "allow"); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("an unknown request: %v, want ErrNotFound", err)
	}
	other := sessions.New(refClient(t, srv, 1)).Session(s.ID())
	if _, err := other.AnswerPermission(ctx, "perm_a", "allow"); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("another tenant's request: %v, want ErrNotFound", err)
	}
	// A text event has nothing to answer.
	if _, err := res.Events[0].Answer(ctx, "allow"); err == nil {
		t.Error("Answer on a text event succeeded")
	}
	var statuses []sessions.PermissionStatus
	for pr, err := range s.Permissions(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, pr.Status)
	}
	if diff := cmp.Diff([]sessions.PermissionStatus{sessions.PermissionAnswered}, statuses); diff != "" {
		t.Errorf("Permissions (-want +got):\n%s", diff)
	}
}

func TestTurnAnswersWithItsPermissionHandler(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "scripted")
	ctx := context.Background()
	var asked []string
	handler := sessions.WithPermissionHandler(func(_ context.Context, req *sessions.PermissionRequest) (string, error) {
		asked = append(asked, req.RequestID)
		if req.Status != sessions.PermissionPending || len(req.Options) != 2 {
			t.Errorf("handler got %+v", req)
		}
		return "allow", nil
	})
	// Two requests: the first is pending when the server answers 202, the
	// second comes while the SDK follows the turn.
	res, err := s.Turn(ctx, scriptOf(t, textStep("a "), ask("p1"), textStep(" b "), ask("p2")), handler,
		sessions.WithMeta(map[string]any{"trace": "t-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p1", "p2"}, asked); diff != "" {
		t.Errorf("asked (-want +got):\n%s", diff)
	}
	if res.TurnIndex != 1 || res.StopReason != sessions.StopEndTurn || res.Meta["trace"] != "t-1" {
		t.Errorf("result = %d %s meta %v", res.TurnIndex, res.StopReason, res.Meta)
	}
	checkWhole(t, s, res, "a p1 allowed b p2 allowed")

	// A handler's refusal ends the call with its error; the turn waits.
	refuse := errors.New("nobody is at the desk")
	_, err = s.Turn(ctx, scriptOf(t, ask("p3")), sessions.WithPermissionHandler(func(context.Context, *sessions.PermissionRequest) (string, error) {
		return "", refuse
	}))
	if !errors.Is(err, refuse) {
		t.Fatalf("Turn with a failing handler: %v", err)
	}
	res, err = s.WaitTurn(ctx, 2, handler)
	if err != nil || res.Text() != "p3 allowed" {
		t.Fatalf("WaitTurn = %v, %v", res, err)
	}
}

func TestTurnWithoutHandlerFailsTypedAndWaitTurnFinishesIt(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "scripted")
	ctx := context.Background()
	_, err := s.Turn(ctx, scriptOf(t, textStep("x "), ask("q1"), ask("q2")))
	var pr *sessions.PermissionRequiredError
	if !errors.As(err, &pr) || !errors.Is(err, sessions.ErrPermissionRequired) {
		t.Fatalf("Turn: %v, want a *PermissionRequiredError", err)
	}
	if pr.TurnIndex != 1 || pr.SessionID != s.ID() || len(pr.Requests) != 1 || pr.Requests[0].RequestID != "q1" || pr.LastSeq != 2 {
		t.Fatalf("PermissionRequiredError = %+v", pr)
	}
	if !strings.Contains(err.Error(), "q1") {
		t.Errorf("Error() = %q, want the request id", err)
	}
	// The turn order is released: another turn is sent at once, and the
	// server says the session is busy.
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Turn(short, "second"); !errors.Is(err, agentsession.ErrBusy) {
		t.Fatalf("a turn while the first waits: %v, want ErrBusy (the order lock must be released)", err)
	}
	// Without a handler WaitTurn says the turn waits.
	if _, err := s.WaitTurn(ctx, 1); !errors.As(err, &pr) || pr.Requests[0].RequestID != "q1" {
		t.Fatalf("WaitTurn before the answer: %v", err)
	}
	if _, err := s.AnswerPermission(ctx, "q1", "allow"); err != nil {
		t.Fatal(err)
	}
	// It follows the turn, which asks again: typed again, with q2.
	if _, err := s.WaitTurn(ctx, 1); !errors.As(err, &pr) || len(pr.Requests) != 1 || pr.Requests[0].RequestID != "q2" {
		t.Fatalf("WaitTurn after the first answer: %v, want q2 pending", err)
	}
	if _, err := s.AnswerPermission(ctx, "q2", "deny"); err != nil {
		t.Fatal(err)
	}
	res, err := s.WaitTurn(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != sessions.StopRefusal {
		t.Errorf("stop reason %s, want refusal", res.StopReason)
	}
	checkWhole(t, s, res, "x q1 allowedq2 denied")
	// A finished turn: WaitTurn answers from the history.
	again, err := s.WaitTurn(ctx, 1)
	if err != nil || again.StopReason != sessions.StopRefusal || len(again.Events) != len(res.Events) {
		t.Errorf("WaitTurn on a finished turn = %+v, %v", again, err)
	}
}

// loseFirstAnswer is a Doer that lets the first answerPermission reach the
// server and then loses its answer, as a dropped connection would, and
// records the Idempotency-Key of every attempt.
type loseFirstAnswer struct {
	mu   sync.Mutex
	keys []string
}

func (l *loseFirstAnswer) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.Contains(req.URL.Path, "/permissions/") {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, req.Header.Get("Idempotency-Key"))
	if len(l.keys) == 1 {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}
	return resp, nil
}

func TestAnswerIsRetriedWithOneKey(t *testing.T) {
	srv := refservertest.Start(t)
	lose := &loseFirstAnswer{}
	s := newSession(t, sessions.New(refClient(t, srv, 0, agentsession.WithDoer(lose))), "scripted")
	ctx := context.Background()
	res, err := s.Turn(ctx, scriptOf(t, ask("k1")), sessions.WithPermissionHandler(func(context.Context, *sessions.PermissionRequest) (string, error) {
		return "allow", nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(lose.keys) != 2 || lose.keys[0] == "" || lose.keys[0] != lose.keys[1] {
		t.Errorf("answer attempts' keys = %q, want two equal non-empty keys", lose.keys)
	}
	responses := 0
	for _, ev := range res.Events {
		if ev.Type == sessions.EventPermissionResponse {
			responses++
		}
	}
	if responses != 1 || res.Text() != "k1 allowed" {
		t.Errorf("%d permission_response events, text %q; want 1 and the allow branch", responses, res.Text())
	}
}

func TestQueueControl(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	s := newSession(t, svc, "scripted")
	ctx := context.Background()
	first := startTurn(t, s, s, script(2*time.Second, "slow"))
	st2 := s.TurnStream(ctx, script(0, "second"), sessions.WithBusyPolicy(sessions.BusyEnqueue))
	done2 := make(chan error, 1)
	go func() { _, err := st2.Result(); done2 <- err }()
	waitFor(t, func() bool { i, err := s.Refresh(ctx); return err == nil && i.QueuedTurns == 1 })
	if a := st2.Accepted(); a == nil || a.Status != sessions.TurnQueued || a.QueuePosition != 1 || a.TurnIndex != 2 {
		t.Errorf("Accepted = %+v, want queued at position 1", a)
	}
	third := startTurnQueued(s, script(0, "third"))
	waitFor(t, func() bool { i, err := s.Refresh(ctx); return err == nil && i.QueuedTurns == 2 })

	var queued []int32
	for turn, err := range s.History(ctx, sessions.OnlyStatus(sessions.TurnQueued)) {
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, turn.TurnIndex*10+turn.QueuePosition)
	}
	if diff := cmp.Diff([]int32{21, 32}, queued); diff != "" {
		t.Errorf("queued turns as index*10+position (-want +got):\n%s", diff)
	}
	turn, err := s.CancelTurnAt(ctx, 2)
	if err != nil || turn.Status != sessions.TurnCompleted || turn.StopReason != sessions.StopCancelled || turn.CancelledBy != sessions.CancelledByCancelRequest {
		t.Fatalf("CancelTurnAt(2) = %+v, %v", turn, err)
	}
	if err := <-done2; err != nil {
		t.Errorf("the cancelled queued stream: %v", err)
	}
	if res, _ := st2.Result(); res == nil || res.StopReason != sessions.StopCancelled || len(res.Events) != 0 {
		t.Errorf("the cancelled queued turn's result = %+v", res)
	}
	for turn, err := range s.History(ctx, sessions.OnlyStatus(sessions.TurnQueued)) {
		if err != nil || turn.TurnIndex != 3 || turn.QueuePosition != 1 {
			t.Errorf("queue after the cancel: %+v, %v; want turn 3 at position 1", turn, err)
		}
	}
	if o := <-first; o.err != nil || o.res.Text() != "slow" {
		t.Errorf("the running turn: %v", o.err)
	}
	if o := <-third; o.err != nil || o.res.Text() != "third" {
		t.Errorf("the third turn: %+v, %v", o.res, o.err)
	}
	if _, err := s.CancelTurnAt(ctx, 1); !errors.Is(err, agentsession.ErrTurnEnded) || !errors.Is(err, agentsession.ErrConflict) {
		t.Errorf("cancelling an ended turn: %v, want ErrTurnEnded", err)
	}
}

func startTurnQueued(s *sessions.Session, prompt string) <-chan turnOutcome {
	done := make(chan turnOutcome, 1)
	go func() {
		res, err := s.Turn(context.Background(), prompt, sessions.WithBusyPolicy(sessions.BusyEnqueue))
		done <- turnOutcome{res, err}
	}()
	return done
}

func TestSteer(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	s := newSession(t, svc, "scripted")
	ctx := context.Background()
	long := startTurn(t, s, s, script(300*time.Millisecond, "one", " two", " three"))
	res, err := s.Turn(ctx, "go left", sessions.WithBusyPolicy(sessions.BusySteer))
	if err != nil || res.TurnIndex != 1 {
		t.Fatalf("a steered Turn = %+v, %v; want the running turn's result", res, err)
	}
	if o := <-long; o.err != nil || o.res.Text() != "one two three" {
		t.Fatalf("the steered turn: %+v, %v", o.res, o.err)
	}
	guided := false
	for _, ev := range res.Events {
		guided = guided || (ev.Type == sessions.EventGuidance && ev.Content == "go left")
	}
	if !guided {
		t.Errorf("no guidance event in %v", res.Events)
	}

	// A steered stream yields the running turn's events.
	long = startTurn(t, s, s, script(300*time.Millisecond, "a", "b", "c"))
	st := s.TurnStream(ctx, "go right", sessions.WithBusyPolicy(sessions.BusySteer))
	var seen []sessions.EventType
	for ev, err := range st.Events() {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ev.Type)
	}
	if a := st.Accepted(); a == nil || !a.Steered || a.TurnIndex != 2 {
		t.Errorf("Accepted = %+v, want steered into turn 2", a)
	}
	if r, err := st.Result(); err != nil || r.TurnIndex != 2 || len(seen) == 0 {
		t.Errorf("steered stream result = %+v, %v (%v)", r, err, seen)
	}
	<-long

	if r, err := s.Turn(ctx, script(0, "new"), sessions.WithBusyPolicy(sessions.BusySteer)); err != nil || r.TurnIndex != 3 || r.Text() != "new" {
		t.Errorf("a steer prompt with no turn running = %+v, %v; want a new turn", r, err)
	}
	echo := newSession(t, svc, "echo")
	if _, err := echo.Turn(ctx, "hi", sessions.WithBusyPolicy(sessions.BusySteer)); !errors.Is(err, agentsession.ErrUnsupportedBusyPolicy) || !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("steering an agent that cannot be steered: %v, want ErrUnsupportedBusyPolicy", err)
	}
}

func TestMetaOptionsOrderAndEndReason(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	ctx := context.Background()
	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", AgentOptions: map[string]any{"prefix": "> "}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Info().AgentOptions["prefix"] != "> " {
		t.Errorf("agent options in force = %v", s.Info().AgentOptions)
	}
	res, err := s.Turn(ctx, "hi", sessions.WithMeta(map[string]any{"trace": "t-9"}))
	if err != nil || res.Text() != "> hi" || res.Meta["trace"] != "t-9" {
		t.Fatalf("turn = %+v, %v", res, err)
	}
	for turn, err := range s.History(ctx) {
		if err != nil || turn.Meta["trace"] != "t-9" {
			t.Errorf("history turn meta = %v, %v", turn.Meta, err)
		}
	}
	_, err = svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", AgentOptions: map[string]any{"colour": "red"}})
	var ae *agentsession.APIError
	if !errors.Is(err, agentsession.ErrInvalidAgentOptions) || !errors.As(err, &ae) || len(ae.FieldErrors) == 0 ||
		!strings.Contains(ae.FieldErrors[0].Location, "colour") {
		t.Errorf("an unknown agent option: %v, want ErrInvalidAgentOptions naming it", err)
	}
	for _, m := range []string{"a", "b", "c"} {
		if _, err := s.Log(ctx, lifecycleInfo(m)); err != nil {
			t.Fatal(err)
		}
	}
	var msgs []string
	for e, err := range s.LogEntries(ctx, "", sessions.NewestFirst()) {
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, e.Message)
	}
	if diff := cmp.Diff([]string{"c", "b", "a"}, msgs); diff != "" {
		t.Errorf("newest first (-want +got):\n%s", diff)
	}
	if err := s.End(ctx, "completed", "done"); err != nil {
		t.Fatal(err)
	}
	if i := s.Info(); i.EndReason != "ended" || i.DurationMs == nil {
		t.Errorf("ended session: end_reason %q, duration %v", i.EndReason, i.DurationMs)
	}
}

func lifecycleInfo(msg string) lifecycle.LogParams {
	return lifecycle.LogParams{Type: lifecycle.LogInfo, Message: msg}
}

// watchAll reads s's session-wide stream to its end in the background.
func watchAll(s *sessions.Session, after sessions.Position) <-chan []sessions.Frame {
	out := make(chan []sessions.Frame, 1)
	go func() {
		var frames []sessions.Frame
		for f, err := range s.Watch(context.Background(), after) {
			if err != nil {
				frames = append(frames, sessions.Frame{Position: sessions.Position{Seq: -1}})
				break
			}
			frames = append(frames, f)
		}
		out <- frames
	}()
	return out
}

// checkFrames fails unless frames are the session's events and lifecycle
// events, each once, in order, every lifecycle event after the event its
// after_seq names.
func checkFrames(t *testing.T, s *sessions.Session, frames []sessions.Frame, after sessions.Position) {
	t.Helper()
	ctx := context.Background()
	var wantSeqs, gotSeqs, wantL, gotL []int64
	for ev, err := range s.Events(ctx, after.Seq) {
		if err != nil {
			t.Fatal(err)
		}
		wantSeqs = append(wantSeqs, ev.Seq)
	}
	for le, err := range s.LifecycleEvents(ctx, after.LifecycleSeq) {
		if err != nil {
			t.Fatal(err)
		}
		wantL = append(wantL, le.LifecycleSeq)
	}
	seq := after.Seq
	for _, f := range frames {
		switch {
		case f.Event != nil:
			gotSeqs = append(gotSeqs, f.Event.Seq)
			seq = f.Event.Seq
		case f.Lifecycle != nil:
			gotL = append(gotL, f.Lifecycle.LifecycleSeq)
			if f.Lifecycle.AfterSeq != seq {
				t.Errorf("lifecycle %d (after_seq %d) came after event %d", f.Lifecycle.LifecycleSeq, f.Lifecycle.AfterSeq, seq)
			}
		default:
			t.Fatalf("the stream failed: %+v", f)
		}
		if f.Position.Seq != seq {
			t.Errorf("frame position %s, want seq %d", f.Position, seq)
		}
	}
	if diff := cmp.Diff(wantSeqs, gotSeqs); diff != "" {
		t.Errorf("turn events (-server +stream):\n%s", diff)
	}
	if diff := cmp.Diff(wantL, gotL); diff != "" {
		t.Errorf("lifecycle events (-server +stream):\n%s", diff)
	}
}

func TestWatchFollowsTheSessionAcrossTurnsAndDrops(t *testing.T) {
	srv := refservertest.Start(t)
	// Cut the first two session streams mid-frame.
	cut := &cutter{cuts: []int{200, 420}}
	svc := sessions.New(refClient(t, srv, 0, agentsession.WithDoer(cut)))
	s := newSession(t, svc, "scripted")
	ctx := context.Background()
	whole := watchAll(s, sessions.Position{})
	for _, p := range []string{script(5*time.Millisecond, "a", "b", "c"), script(5*time.Millisecond, "d", "e")} {
		if _, err := s.Turn(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var frames []sessions.Frame
	select {
	case frames = <-whole:
	case <-time.After(20 * time.Second):
		t.Fatal("Watch did not end when the session did")
	}
	if cut.seen < 3 {
		t.Errorf("%d streams opened, want the two cut ones and a resumed one", cut.seen)
	}
	checkFrames(t, s, frames, sessions.Position{})
	if i := s.Info(); i.EndReason != "closed" || i.Status != "completed" {
		t.Errorf("Info after the stream: %s %s, want completed, closed", i.Status, i.EndReason)
	}

	// From a position: only what came after it, and at once since the
	// session has ended.
	from, err := sessions.ParsePosition("3.2")
	if err != nil || from.String() != "3.2" {
		t.Fatalf("ParsePosition = %v, %v", from, err)
	}
	checkFrames(t, s, <-watchAll(s, from), from)
	if _, err := sessions.ParsePosition("3"); err == nil {
		t.Error(`ParsePosition("3") succeeded`)
	}
	for f, err := range sessions.New(refClient(t, srv, 1)).Session(s.ID()).Watch(ctx, sessions.Position{}) {
		if !errors.Is(err, agentsession.ErrNotFound) {
			t.Errorf("another tenant's stream: %+v, %v; want ErrNotFound", f, err)
		}
	}
}
