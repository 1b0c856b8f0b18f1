package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/internal/faultproxy"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
)

// cutHalf cuts the body of every other answer to the matched requests, after
// afterBytes, by a reset or a short body.
func cutHalf(kind faultproxy.Kind, match faultproxy.Match, afterBytes int64) faultproxy.Config {
	return faultproxy.Config{Rules: []faultproxy.Rule{{Name: "cut-half", Match: match,
		Schedule: faultproxy.Schedule{Every: 2}, Fault: faultproxy.Fault{Kind: kind, AfterBytes: afterBytes}}}}
}

// 50 keyed turns, half of their answers (each over 600 bytes) cut after 600
// bytes: every turn
// succeeds (the SDK sends a cut turn again with its Idempotency-Key and gets
// the stored answer), and the server, asked through the API, ran each turn
// once.
func TestKeyedTurnsSurviveCutBodies(t *testing.T) {
	for _, kind := range []faultproxy.Kind{faultproxy.KindTruncate, faultproxy.KindReset} {
		t.Run(string(kind), func(t *testing.T) {
			srv := refservertest.Start(t)
			turns := faultproxy.Match{Methods: []string{"POST"}, Path: `^/v1/sessions/[^/]+/turns$`}
			fp := faultproxy.Start(t, srv.URL, cutHalf(kind, turns, 600))
			c, err := agentsession.NewClient(agentsession.WithBaseURL(fp.URL), agentsession.WithToken(srv.Tokens[0]),
				agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"})
			if err != nil {
				t.Fatal(err)
			}
			ok, retried := 0, 0
			for i := range 50 {
				// A prompt the echo agent answers with more than 600 bytes.
				prompt := fmt.Sprintf("turn %02d %s", i, strings.Repeat("x", 600))
				res, err := s.Turn(ctx, prompt, sessions.WithCallOptions(agentsession.IdempotencyKey(fmt.Sprintf("key-%s-%d", kind, i))))
				switch {
				case err != nil:
					t.Errorf("turn %d: %v", i, err)
				case res.Text() != prompt:
					t.Errorf("turn %d answered %q", i, res.Text())
				default:
					ok++
					if res.Response.Attempts > 1 {
						retried++
					}
				}
			}
			prompts := map[string]int{}
			n := 0
			for tr, err := range sessions.New(refClient(t, srv, 0)).Session(s.ID()).History(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				prompts[tr.Prompt]++
				n++
			}
			dups := 0
			for _, k := range prompts {
				dups += k - 1
			}
			stats := fp.Proxy.Stats()
			t.Logf("%s: %d of 50 turns succeeded, %d after a cut answer; the server ran %d turns (%d duplicates); %d faults injected",
				kind, ok, retried, n, dups, stats.Faults)
			if ok != 50 || n != 50 || dups != 0 || retried < 20 || stats.Faults < 20 {
				t.Errorf("%d succeeded (%d retried), the server has %d turns with %d duplicates, %d faults; want 50, 50, 0",
					ok, retried, n, dups, stats.Faults)
			}
		})
	}
}

// Every keyed call, not only turns: each one's first answer is cut, and the
// call still succeeds once, without doing the work twice.
func TestEveryKeyedCallSurvivesACutBody(t *testing.T) {
	srv := refservertest.Start(t)
	cut := faultproxy.Config{Rules: []faultproxy.Rule{{Name: "cut-first-answer",
		Match:    faultproxy.Match{Methods: []string{"POST", "PATCH"}},
		Schedule: faultproxy.Schedule{PerRequest: 1},
		Fault:    faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 10}}}}
	fp := faultproxy.Start(t, srv.URL, cut)
	c, err := agentsession.NewClient(agentsession.WithBaseURL(fp.URL), agentsession.WithToken(srv.Tokens[0]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc := sessions.New(c)
	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "scripted", PlanSlug: "cut"})
	if err != nil {
		t.Fatal(err)
	}
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	_, err = s.Spawn(ctx, sessions.CreateParams{Agent: "echo"})
	step("Spawn", err)
	f, err := s.Upload(ctx, sessions.UploadParams{Filename: "a.txt", Content: strings.NewReader("some text")})
	step("Upload", err)
	if f != nil {
		_, err = s.Turn(ctx, script(0, "with a file"), sessions.WithFiles(f.FileToken))
		step("Turn", err)
	}
	_, err = s.TurnStream(ctx, script(0, "streamed")).Result()
	step("TurnStream", err)
	_, err = s.Cancel(ctx)
	step("Cancel", err)
	_, err = s.Log(ctx, lifecycle.LogParams{Type: lifecycle.LogCheckpoint, Message: "one"})
	step("Log", err)
	_, err = s.AddArtifact(ctx, lifecycle.ArtifactParams{Path: "a.go", Action: lifecycle.ArtifactCreated})
	step("AddArtifact", err)
	step("UpdateContext", s.UpdateContext(ctx, map[string]any{"k": "v"}))
	step("Pause", s.Pause(ctx))
	step("Resume", s.Resume(ctx))
	step("Handoff", s.Handoff(ctx, lifecycle.HandoffParams{Summary: "half"}))
	next, err := s.Continue(ctx, lifecycle.ContinueParams{Agent: "echo"})
	step("Continue", err)
	_, err = s.Replay(ctx, lifecycle.ReplayParams{})
	step("Replay", err)
	step("End", s.End(ctx, lifecycle.EndCompleted, "done"))
	if next != nil {
		step("Close", next.Close(ctx))
	}

	// Counted through the API, on the server: each thing once.
	direct := sessions.New(refClient(t, srv, 0)).Session(s.ID())
	count := func(seq func(func(any, error) bool)) int {
		n := 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	all := count(func(yield func(any, error) bool) {
		for s, err := range svc.List(ctx, sessions.ListOptions{}) {
			if !yield(s, err) {
				return
			}
		}
	})
	if all != 4 { // the session, its child, the continuation, the replay
		t.Errorf("the server has %d sessions, want 4", all)
	}
	info, err := direct.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.TurnCount != 2 || info.ActionCount != 1 || info.ArtifactCount != 1 || info.Status != lifecycle.StatusCompleted {
		t.Errorf("the session: %d turns, %d log entries, %d artifacts, %s; want 2, 1, 1, completed",
			info.TurnCount, info.ActionCount, info.ArtifactCount, info.Status)
	}
	if stats := fp.Proxy.Stats(); stats.Faults < 15 {
		t.Errorf("only %d faults injected: %+v", stats.Faults, stats)
	}
}

// When every attempt's body is cut, the call ends with a *TransportError
// that says so, after the policy's attempts.
func TestCutBodiesOutOfAttemptsAreTransportErrors(t *testing.T) {
	srv := refservertest.Start(t)
	fp := faultproxy.Start(t, srv.URL, faultproxy.Config{Rules: []faultproxy.Rule{{
		Match: faultproxy.Match{Methods: []string{"POST"}, Path: `/turns$`},
		Fault: faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 50}}}})
	c, err := agentsession.NewClient(agentsession.WithBaseURL(fp.URL), agentsession.WithToken(srv.Tokens[0]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sessions.New(c).NewSession(context.Background(), sessions.CreateParams{Agent: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Turn(context.Background(), "never whole")
	var te *agentsession.TransportError
	if !errors.As(err, &te) || te.Attempts != 4 || errors.Is(err, agentsession.ErrUnexpectedResponse) ||
		!strings.Contains(err.Error(), "reading the body of the 200 answer") {
		t.Errorf("err = %v, want a *TransportError after 4 attempts", err)
	}
	n := 0
	for _, err := range sessions.New(refClient(t, srv, 0)).Session(s.ID()).History(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("the server ran %d turns for 4 attempts with one key, want 1", n)
	}
}
