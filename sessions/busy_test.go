package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
)

// longTurn emits one event, then waits 20 s: long enough to still run when
// the test has done its checks, which end it (cancel, interrupt, close).
const longTurn = `{"steps":[{"event":{"type":"text","content":"started"}},{"delay_ms":20000,"event":{"type":"text","content":"late"}}]}`

type turnOutcome struct {
	res *sessions.TurnResult
	err error
}

// startTurn sends a turn on s in the background and returns once the server
// runs it (as seen through watch, another handle of the session), with the
// channel of its outcome.
func startTurn(t *testing.T, s, watch *sessions.Session, prompt string, opts ...sessions.TurnOption) <-chan turnOutcome {
	t.Helper()
	done := make(chan turnOutcome, 1)
	go func() {
		res, err := s.Turn(context.Background(), prompt, opts...)
		done <- turnOutcome{res, err}
	}()
	waitFor(t, func() bool {
		info, err := watch.Refresh(context.Background())
		return err == nil && info.Activity == sessions.ActivityRunning
	})
	return done
}

// waitFor polls cond until it holds (10 s at most).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stillRunning(t *testing.T, ch <-chan turnOutcome) {
	t.Helper()
	select {
	case o := <-ch:
		t.Fatalf("the long turn ended already: %+v, %v", o.res, o.err)
	default:
	}
}

// The busy policy reaches the server from the handle that runs the turn:
// reject fails at once, enqueue is queued at once (the server's history has
// it while the first turn runs) and runs after it, interrupt cancels the
// running turn and runs first.
func TestBusyPolicyFromOneHandle(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	s := newSession(t, svc, "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := startTurn(t, s, s, longTurn)
	if _, err := s.Turn(ctx, script(0, "rejected"), sessions.WithBusyPolicy(sessions.BusyReject)); !errors.Is(err, agentsession.ErrBusy) {
		t.Fatalf("reject while a turn runs = %v, want ErrBusy at once", err)
	}
	stillRunning(t, first)

	queued := make(chan turnOutcome, 1)
	go func() {
		res, err := s.Turn(ctx, script(0, "queued"), sessions.WithBusyPolicy(sessions.BusyEnqueue))
		queued <- turnOutcome{res, err}
	}()
	waitFor(t, func() bool { // sent at once: the server holds it queued
		tr, err := s.GetTurn(ctx, 2)
		return err == nil && tr.Status == sessions.TurnQueued
	})
	stillRunning(t, first)

	res, err := s.Turn(ctx, script(0, "interrupting"), sessions.WithBusyPolicy(sessions.BusyInterrupt))
	if err != nil || res.Text() != "interrupting" || res.TurnIndex != 3 {
		t.Fatalf("interrupt = %+v, %v", res, err)
	}
	o := <-first
	if o.err != nil || o.res.StopReason != sessions.StopCancelled || o.res.CancelledBy != sessions.CancelledByInterrupt || o.res.Text() != "started" {
		t.Errorf("the interrupted turn = %+v, %v; want cancelled by interrupt", o.res, o.err)
	}
	q := <-queued
	if q.err != nil || q.res.Text() != "queued" || !q.res.StartedAt.After(res.StartedAt) {
		t.Errorf("the queued turn = %+v, %v; want it run after the interrupting one", q.res, q.err)
	}
}

// Turns without a policy are ordered by the Client for every handle of the
// session, whichever Service made it; a turn with a policy from any handle
// goes straight to the server.
func TestBusyPolicyFromTwoHandlesOfOneSession(t *testing.T) {
	srv := refservertest.Start(t)
	c := refClient(t, srv, 0)
	a := newSession(t, sessions.New(c), "scripted")
	b := sessions.New(c).Session(a.ID()) // another Service, another handle
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := startTurn(t, a, b, longTurn)
	if _, err := b.Turn(ctx, script(0, "x"), sessions.WithBusyPolicy(sessions.BusyReject)); !errors.Is(err, agentsession.ErrBusy) {
		t.Fatalf("reject from the other handle = %v, want ErrBusy at once", err)
	}
	// Without a policy, b's turn waits for a's in the client (the server
	// would have refused it) and runs when a's ends.
	second := make(chan turnOutcome, 1)
	go func() {
		res, err := b.Turn(ctx, script(0, "after a"))
		second <- turnOutcome{res, err}
	}()
	time.Sleep(50 * time.Millisecond) // give it the time to be (wrongly) sent
	stillRunning(t, first)
	if tr, err := b.GetTurn(ctx, 2); !errors.Is(err, agentsession.ErrNotFound) {
		t.Fatalf("the unpoliced turn reached the server while another ran: %+v, %v", tr, err)
	}
	if _, err := a.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if o := <-first; o.err != nil || o.res.CancelledBy != sessions.CancelledByCancelRequest {
		t.Errorf("first = %+v, %v", o.res, o.err)
	}
	if o := <-second; o.err != nil || o.res.Text() != "after a" || o.res.TurnIndex != 2 {
		t.Errorf("second = %+v, %v; want turn 2 after a's", o.res, o.err)
	}

	// Interrupt from the other handle.
	first = startTurn(t, a, b, longTurn)
	res, err := b.Turn(ctx, script(0, "b interrupts"), sessions.WithBusyPolicy(sessions.BusyInterrupt))
	if err != nil || res.Text() != "b interrupts" {
		t.Fatalf("interrupt from the other handle = %+v, %v", res, err)
	}
	if o := <-first; o.err != nil || o.res.CancelledBy != sessions.CancelledByInterrupt {
		t.Errorf("interrupted = %+v, %v", o.res, o.err)
	}

	// Many goroutines on both handles, no policy: none is refused, each
	// gets its own turn.
	var wg sync.WaitGroup
	indexes := make(chan int32, 10)
	for i := range 10 {
		h := a
		if i%2 == 1 {
			h = b
		}
		wg.Go(func() {
			res, err := h.Turn(ctx, script(5*time.Millisecond, fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
				return
			}
			indexes <- res.TurnIndex
		})
	}
	wg.Wait()
	close(indexes)
	seen := map[int32]bool{}
	for i := range indexes {
		seen[i] = true
	}
	if len(seen) != 10 {
		t.Errorf("turn indexes %v, want 10 distinct", seen)
	}
}

// Sessions never wait for each other: a turn without a policy on one
// session runs while another session's turn runs; a policy acts on its own
// session only.
func TestBusyPolicyAcrossSessions(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	a, b := newSession(t, svc, "scripted"), newSession(t, svc, "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := startTurn(t, a, a, longTurn)
	if res, err := b.Turn(ctx, script(0, "b runs")); err != nil || res.Text() != "b runs" {
		t.Errorf("b's turn while a's runs = %+v, %v", res, err)
	}
	if res, err := b.Turn(ctx, script(0, "b again"), sessions.WithBusyPolicy(sessions.BusyReject)); err != nil || res.Text() != "b again" {
		t.Errorf("b's reject turn with nothing running on b = %+v, %v", res, err)
	}
	bInterrupts := startTurn(t, b, b, longTurn)
	if res, err := b.Turn(ctx, script(0, "b interrupts b"), sessions.WithBusyPolicy(sessions.BusyInterrupt)); err != nil || res.TurnIndex != 4 {
		t.Errorf("b's interrupt = %+v, %v", res, err)
	}
	<-bInterrupts
	stillRunning(t, first) // b's interrupt left a's turn alone
	if _, err := a.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if o := <-first; o.err != nil || o.res.StopReason != sessions.StopCancelled {
		t.Errorf("a's turn = %+v, %v", o.res, o.err)
	}
}

// A stream takes the session's order like a turn; with a policy it is sent
// at once.
func TestBusyPolicyForStreams(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "scripted")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := startTurn(t, s, s, longTurn)
	_, err := s.TurnStream(ctx, script(0, "x"), sessions.WithBusyPolicy(sessions.BusyReject)).Result()
	if !errors.Is(err, agentsession.ErrBusy) {
		t.Fatalf("streamed reject = %v, want ErrBusy at once", err)
	}
	res, err := s.TurnStream(ctx, script(0, "streamed interrupt"), sessions.WithBusyPolicy(sessions.BusyInterrupt)).Result()
	if err != nil || res.Text() != "streamed interrupt" {
		t.Fatalf("streamed interrupt = %+v, %v", res, err)
	}
	if o := <-first; o.res == nil || o.res.CancelledBy != sessions.CancelledByInterrupt {
		t.Errorf("interrupted = %+v, %v", o.res, o.err)
	}
}
