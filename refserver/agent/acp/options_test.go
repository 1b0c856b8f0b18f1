package acp_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/agent/acp"
)

// Declared options are the agent's in capabilities, and a session's values
// reach its agent process through the variables named.
func TestOptionsReachTheAgentsEnvironment(t *testing.T) {
	dir := t.TempDir()
	cfgs, err := acp.ParseConfig([]byte(`agents:
  - name: opts
    command: `+testAgent+`
    cwd: `+dir+`
    options:
      - {name: model, type: string, description: Which model., enum: [small, large], default: small, env: TEST_MODEL}
      - {name: budget, type: integer, default: 3, env: TEST_BUDGET}
      - {name: verbose, type: boolean, env: TEST_VERBOSE}
    limits: {turn_timeout: 90s}
`), dir, lookup(map[string]string{"TEST_VERBOSE": "from the server"}))
	if err != nil {
		t.Fatal(err)
	}
	b := newBridge(t, cfgs[0])
	info := b.Info()
	want := []gen.AgentOption{
		{Name: "model", Type: gen.AgentOptionTypeString, Description: "Which model.", Enum: []any{"small", "large"}, Default: "small"},
		{Name: "budget", Type: gen.AgentOptionTypeInteger, Default: float64(3)},
		{Name: "verbose", Type: gen.AgentOptionTypeBoolean},
	}
	if diff := cmp.Diff(want, info.Options); diff != "" || !info.Permissions || info.Steer {
		t.Errorf("info %+v; options (-want +got):\n%s", info, diff)
	}
	if b.TurnTimeout() != 90*time.Second {
		t.Errorf("TurnTimeout %v, want 90s", b.TurnTimeout())
	}

	if err := b.StartSession(t.Context(), "s1", map[string]any{"model": "large", "budget": float64(3)}); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, b, "s1", script("/env TEST_MODEL", "/env TEST_BUDGET", "/env TEST_VERBOSE"))
	// An option the session did not set, without a default, leaves its
	// variable unset even when the server's environment has it.
	if diff := cmp.Diff([]string{"TEST_MODEL=large", "TEST_BUDGET=3", "TEST_VERBOSE is not set"}, r.events.texts()); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}

	// A process started by a turn (no StartSession) takes the turn's options.
	rec := newRecorder()
	if _, err := b.Run(t.Context(), agent.Input{SessionID: "s2", TurnIndex: 1, Prompt: "/env TEST_VERBOSE", Options: map[string]any{"verbose": true}}, rec.emit); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"TEST_VERBOSE=true"}, rec.texts()); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
}
