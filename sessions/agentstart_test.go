package sessions_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/agent/acp"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/retry"
	"github.com/agentsession/agentsession/sessions"
)

// Against the reference server, an agent whose command is missing fails
// each operation that starts one with ErrAgentStartFailed after exactly one
// attempt, although every call is keyed and so retryable.
func TestAgentThatCannotStartIsNotRetried(t *testing.T) {
	missing := acp.Config{Name: "missing", Command: "agentsession-no-such-agent-command", Cwd: t.TempDir(),
		Limits: acp.Limits{StartTimeout: 2 * time.Second, CancelGrace: 100 * time.Millisecond, StopGrace: 100 * time.Millisecond}}
	srv := refservertest.Start(t, func(c *refserver.Config) { c.ACPAgents = append(c.ACPAgents, missing) })
	c, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken(srv.Tokens[0]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	svc := sessions.New(c)
	parent, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	for name, start := range map[string]func(opt agentsession.CallOption) error{
		"create": func(opt agentsession.CallOption) error {
			_, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "missing"}, opt)
			return err
		},
		"spawn": func(opt agentsession.CallOption) error {
			_, err := parent.Spawn(ctx, sessions.CreateParams{Agent: "missing"}, opt)
			return err
		},
		"continue": func(opt agentsession.CallOption) error {
			_, err := parent.Continue(ctx, lifecycle.ContinueParams{Agent: "missing"}, opt)
			return err
		},
		"replay": func(opt agentsession.CallOption) error {
			_, err := parent.Replay(ctx, lifecycle.ReplayParams{Agent: "missing"}, opt)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			var attempts atomic.Int32
			err := start(agentsession.OnAttempt(func(retry.Attempt) { attempts.Add(1) }))
			var ae *agentsession.APIError
			if !errors.As(err, &ae) || !errors.Is(err, agentsession.ErrAgentStartFailed) {
				t.Fatalf("err = %v, want an *APIError matching ErrAgentStartFailed", err)
			}
			if ae.StatusCode != 502 || ae.Code != gen.ProblemCodeAgentStartFailed || ae.Attempts != 1 || attempts.Load() != 1 {
				t.Errorf("status %d code %q after %d attempts (%d seen), want 502 agent_start_failed after 1",
					ae.StatusCode, ae.Code, ae.Attempts, attempts.Load())
			}
			if !strings.Contains(ae.Detail, `agent "missing"`) || ae.IdempotencyKey == "" {
				t.Errorf("detail %q, key %q: want the agent named and a keyed call", ae.Detail, ae.IdempotencyKey)
			}
		})
	}
}
