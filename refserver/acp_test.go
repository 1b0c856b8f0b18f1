package refserver_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/acptestagent"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/agent/acp"
	"github.com/agentsession/agentsession/refserver/store"
)

// Sessions backed by the ACP test agent: the test binary is the agent. Run
// with runAsTestAgentEnv set, TestMain serves ACP on stdio instead of
// running the tests, so no build is needed.
const runAsTestAgentEnv = "AGENTSESSION_TEST_BE_ACP_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(runAsTestAgentEnv) == "1" {
		os.Exit(acptestagent.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// acpAgent configures the test agent as name, started with args, working
// in a new directory.
func acpAgent(t testing.TB, name string, args ...string) acp.Config {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return acp.Config{
		Name: name, Command: self, Args: args, Cwd: t.TempDir(), SessionDirs: true,
		Env:    map[string]string{runAsTestAgentEnv: "1"},
		FS:     acp.FSConfig{Read: true, Write: true},
		Limits: acp.Limits{StartTimeout: 5 * time.Second, CancelGrace: 500 * time.Millisecond, StopGrace: time.Second},
	}
}

// withACP adds ACP agents to a test server.
func withACP(cfgs ...acp.Config) func(*refserver.Config) {
	return func(c *refserver.Config) { c.ACPAgents = append(c.ACPAgents, cfgs...) }
}

// bridge is the server's bridge of agent name.
func bridge(t testing.TB, srv interface{ Config() refserver.Config }, name string) *acp.Bridge {
	t.Helper()
	ag, ok := srv.Config().Agents.Get(name)
	if !ok {
		t.Fatalf("no agent %q", name)
	}
	return ag.(*acp.Bridge)
}

// waitProcesses polls until b runs n agent processes.
func waitProcesses(t testing.TB, b *acp.Bridge, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Processes() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d agent processes, want %d", b.Processes(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eventTypes(events []gen.Event) []gen.EventType {
	var out []gen.EventType
	for _, ev := range events {
		out = append(out, ev.Type)
	}
	return out
}

// Capabilities list the ACP agent: a model that may ask permission, takes
// its declared options and cannot be steered.
func TestACPAgentInCapabilities(t *testing.T) {
	cfg := acpAgent(t, "acp-test")
	cfg.Description = "The ACP test agent."
	cfg.Options = []acp.OptionConfig{{Name: "model", Type: "string", Enum: []any{"small", "large"}, Default: "small", Env: "TEST_MODEL"}}
	_, c := start(t, withACP(cfg))
	var caps gen.Capabilities
	c.do("GET", "/v1/capabilities", nil).want(t, 200).decode(t, &caps)
	i := slices.IndexFunc(caps.Agents, func(a gen.AgentInfo) bool { return a.Name == "acp-test" })
	if i < 0 {
		t.Fatalf("agents %+v: no acp-test", caps.Agents)
	}
	a := caps.Agents[i]
	if a.Kind != gen.AgentKindModel || !a.Permissions || a.Steer || a.Description != "The ACP test agent." ||
		len(a.Options) != 1 || a.Options[0].Name != "model" || a.Options[0].Default != "small" || len(a.Options[0].Enum) != 2 {
		t.Errorf("acp-test = %+v", a)
	}
	// The echo and scripted agents are still there, and steer is offered
	// for the scripted agent only.
	if !slices.ContainsFunc(caps.Agents, func(a gen.AgentInfo) bool { return a.Name == "echo" }) || !slices.Contains(caps.Features.BusyPolicies, gen.BusyPolicySteer) {
		t.Errorf("capabilities %+v", caps)
	}
}

// The process starts at create, serves the session's turns (events mapped
// from ACP's updates), and stops when the session is closed.
func TestACPSessionLifecycle(t *testing.T) {
	srv, c := start(t, withACP(acpAgent(t, "acp-test")))
	b := bridge(t, srv.Server, "acp-test")
	id := c.newSession("acp-test")
	if b.Processes() != 1 {
		t.Fatalf("%d processes after create, want 1 (started at create)", b.Processes())
	}
	res := c.sendTurn(id, gen.TurnRequest{Prompt: "hello over acp"})
	if res.StopReason != gen.StopReasonEndTurn || !slices.Equal(eventTexts(res.Events), []string{"hello over acp"}) {
		t.Errorf("echo turn = %+v", res)
	}
	res = c.sendTurn(id, gen.TurnRequest{Prompt: "/think planning\n/say reading\n/tool read_file {\"path\":\"go.mod\"}\n/usage 7 5\n/stop max_tokens"})
	want := []gen.EventType{gen.EventTypeThinking, gen.EventTypeText, gen.EventTypeToolCall, gen.EventTypeToolResult, gen.EventTypeToolResult}
	if res.StopReason != gen.StopReasonMaxTokens || !slices.Equal(eventTypes(res.Events), want) {
		t.Errorf("scripted turn: stop %s, events %v, want %v", res.StopReason, eventTypes(res.Events), want)
	}
	if res.Usage.InputTokens == nil || *res.Usage.InputTokens != 7 {
		t.Errorf("usage %+v", res.Usage)
	}
	if tc := res.Events[2]; tc.Name != "read_file" || tc.ToolCallID == "" || tc.Args["path"] != "go.mod" {
		t.Errorf("tool_call %+v", tc)
	}
	c.do("DELETE", "/v1/sessions/"+id, nil).want(t, 200)
	waitProcesses(t, b, 0)
}

// Ending a session and closing a parent stop their processes too; a child
// of an ACP agent starts its own.
func TestACPProcessStopsWhenTheSessionEnds(t *testing.T) {
	srv, c := start(t, withACP(acpAgent(t, "acp-test")))
	b := bridge(t, srv.Server, "acp-test")
	ended := c.newSession("acp-test")
	c.do("POST", "/v1/sessions/"+ended+"/end", map[string]any{"status": "completed"}).want(t, 200)
	waitProcesses(t, b, 0)

	parent := c.newSession("acp-test")
	var child gen.Session
	c.do("POST", "/v1/sessions/"+parent+"/children", map[string]any{"agent": "acp-test"}).want(t, 201).decode(t, &child)
	waitProcesses(t, b, 2)
	if res := c.sendTurn(child.SessionID, gen.TurnRequest{Prompt: "child turn"}); !slices.Equal(eventTexts(res.Events), []string{"child turn"}) {
		t.Errorf("child turn %+v", res)
	}
	c.do("DELETE", "/v1/sessions/"+parent, nil).want(t, 200)
	waitProcesses(t, b, 0)
	if s := c.getSession(child.SessionID); s.EndReason != gen.EndReasonParentClosed {
		t.Errorf("child end_reason %q", s.EndReason)
	}
}

// An agent that cannot start makes create answer 502 agent_start_failed
// naming the agent and the reason, promptly, and creates nothing.
func TestACPAgentThatCannotStart(t *testing.T) {
	missing := acpAgent(t, "missing")
	missing.Command = "agentsession-no-such-agent-command"
	exits := acpAgent(t, "exits", "-exit-at-start", "4", "-stderr-at-start", "no credentials here")
	hangs := acpAgent(t, "hangs", "-hang-at-start")
	hangs.Limits.StartTimeout = 300 * time.Millisecond
	auth := acpAgent(t, "needs-login", "-require-auth")
	_, c := start(t, withACP(missing, exits, hangs, auth))
	for _, tt := range []struct {
		agent string
		want  []string
	}{
		{"missing", []string{`agent "missing"`, `cannot start "agentsession-no-such-agent-command"`, "executable file not found"}},
		{"exits", []string{`agent "exits" exited at start`, "exit status 4", "no credentials here"}},
		{"hangs", []string{`agent "hangs" did not answer initialize within 300ms`}},
		{"needs-login", []string{`agent "needs-login" needs authentication`}},
	} {
		t.Run(tt.agent, func(t *testing.T) {
			began := time.Now()
			p := c.do("POST", "/v1/sessions", map[string]any{"agent": tt.agent}, header{"Idempotency-Key", "k-" + tt.agent}).
				want(t, http.StatusBadGateway, gen.ProblemCodeAgentStartFailed).problem(t)
			for _, w := range tt.want {
				if !strings.Contains(p.Detail, w) {
					t.Errorf("detail %q does not say %q", p.Detail, w)
				}
			}
			if took := time.Since(began); took > 4*time.Second {
				t.Errorf("the answer took %v", took)
			}
			var list gen.SessionList
			c.do("GET", "/v1/sessions?agent="+tt.agent, nil).want(t, 200).decode(t, &list)
			if len(list.Items) != 0 {
				t.Errorf("sessions were created: %+v", list.Items)
			}
			// Nothing was stored under the key: a retry tries again.
			c.do("POST", "/v1/sessions", map[string]any{"agent": tt.agent}, header{"Idempotency-Key", "k-" + tt.agent}).
				want(t, http.StatusBadGateway, gen.ProblemCodeAgentStartFailed)
		})
	}
	// The same goes for the other operations that create a session.
	id := c.newSession("echo")
	c.do("POST", "/v1/sessions/"+id+"/children", map[string]any{"agent": "exits"}).want(t, http.StatusBadGateway, gen.ProblemCodeAgentStartFailed)
	c.do("POST", "/v1/sessions/"+id+"/continue", map[string]any{"agent": "missing"}).want(t, http.StatusBadGateway, gen.ProblemCodeAgentStartFailed)
	c.do("POST", "/v1/sessions/"+id+"/replay", map[string]any{"agent": "missing"}).want(t, http.StatusBadGateway, gen.ProblemCodeAgentStartFailed)
	var children gen.SessionList
	c.do("GET", "/v1/sessions/"+id+"/children", nil).want(t, 200).decode(t, &children)
	if len(children.Items) != 0 {
		t.Errorf("children %+v", children.Items)
	}
}

// A create with an Idempotency-Key replayed starts nothing more.
func TestACPCreateReplayStartsOneProcess(t *testing.T) {
	srv, c := start(t, withACP(acpAgent(t, "acp-test")))
	b := bridge(t, srv.Server, "acp-test")
	key := header{"Idempotency-Key", "k-create"}
	var first, again gen.Session
	c.do("POST", "/v1/sessions", map[string]any{"agent": "acp-test"}, key).want(t, 201).decode(t, &first)
	r := c.do("POST", "/v1/sessions", map[string]any{"agent": "acp-test"}, key).want(t, 201)
	r.decode(t, &again)
	if again.SessionID != first.SessionID || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay %s, want %s", again.SessionID, first.SessionID)
	}
	waitProcesses(t, b, 1)
}

// An agent that dies mid-turn ends the turn error with the end of its
// stderr; the next turn gets a new process.
func TestACPAgentCrashesMidTurn(t *testing.T) {
	srv, c := start(t, withACP(acpAgent(t, "acp-test")))
	b := bridge(t, srv.Server, "acp-test")
	id := c.newSession("acp-test")
	res := c.sendTurn(id, gen.TurnRequest{Prompt: "/say going down\n/stderr last words\n/crash 7"})
	last := res.Events[len(res.Events)-1]
	if res.StopReason != gen.StopReasonError || last.Type != gen.EventTypeError ||
		!strings.Contains(last.Content, `agent "acp-test" exited during the turn`) || !strings.Contains(last.Content, "exit status 7") ||
		!strings.Contains(last.Content, "last words") {
		t.Fatalf("crashed turn: stop %s, last event %+v", res.StopReason, last)
	}
	if !slices.Equal(eventTexts(res.Events), []string{"going down"}) {
		t.Errorf("texts %v", eventTexts(res.Events))
	}
	// A new process, with a new ACP session: it counts from 1 again.
	res = c.sendTurn(id, gen.TurnRequest{Prompt: "/count"})
	if res.StopReason != gen.StopReasonEndTurn || !slices.Equal(eventTexts(res.Events), []string{"prompts: 1"}) || b.Processes() != 1 {
		t.Errorf("the turn after: %+v (%d processes)", res, b.Processes())
	}
}

// An agent that never answers is bounded by the turn's timeout, and by
// the agent's own limits.turn_timeout when the turn sets none; one that
// floods is stopped at limits.turn_output_bytes.
func TestACPSilentAndFloodingAgents(t *testing.T) {
	limited := acpAgent(t, "limited")
	limited.Limits.TurnTimeout = 300 * time.Millisecond
	flooded := acpAgent(t, "flooded")
	flooded.Limits.TurnOutputBytes = 64 << 10
	_, c := start(t, withACP(acpAgent(t, "acp-test"), limited, flooded))

	id := c.newSession("acp-test")
	began := time.Now()
	res := c.sendTurn(id, gen.TurnRequest{Prompt: "/hang", TimeoutMs: 300})
	if res.StopReason != gen.StopReasonCancelled || res.CancelledBy != gen.CancelledByTimeout || time.Since(began) > 5*time.Second {
		t.Errorf("hung turn with timeout_ms: %+v after %v", res, time.Since(began))
	}
	if res := c.sendTurn(id, gen.TurnRequest{Prompt: "after the hang"}); !slices.Equal(eventTexts(res.Events), []string{"after the hang"}) {
		t.Errorf("the turn after a hang: %+v", res)
	}

	lim := c.newSession("limited")
	began = time.Now()
	res = c.sendTurn(lim, gen.TurnRequest{Prompt: "/sleep 30000"})
	if took := time.Since(began); res.StopReason != gen.StopReasonCancelled || res.CancelledBy != gen.CancelledByTimeout || took > 10*time.Second {
		t.Errorf("silent turn without timeout_ms: %+v after %v (limits.turn_timeout 300ms)", res, took)
	}
	res = c.sendTurn(c.newSession("flooded"), gen.TurnRequest{Prompt: "/flood 1000000"})
	if n := len(res.Events); res.StopReason != gen.StopReasonError || n == 0 || !strings.Contains(res.Events[n-1].Content, "limits.turn_output_bytes") {
		t.Errorf("flood: %+v", res)
	}
}

// session/request_permission is the contract's permission request; the
// answer goes back to the agent; cancel answers it cancelled.
func TestACPPermissionRequests(t *testing.T) {
	_, c := start(t, withACP(acpAgent(t, "acp-test")))
	id := c.newSession("acp-test")
	turn := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "/ask deploy\n/say after"})
	pending := c.waitPending(id, 1)
	p := pending[0]
	if len(p.Options) != 4 || p.Options[0].OptionID != "allow-once" || p.Options[0].Kind != gen.PermissionOptionKindAllowOnce ||
		p.Options[3].Kind != gen.PermissionOptionKindRejectAlways || p.Title != "deploy" || p.ToolCallID == "" {
		t.Errorf("request %+v", p)
	}
	if s := c.getSession(id); s.Activity != gen.ActivityWaitingForInput {
		t.Errorf("activity %s", s.Activity)
	}
	c.answer(id, p.RequestID, "allow-once").want(t, 200)
	r := result(t, turn)
	if r.Status == http.StatusAccepted { // it answered while the request was pending
		c.waitTurn(id, 1, gen.TurnStatusCompleted)
	}
	var events gen.EventList
	c.do("GET", "/v1/sessions/"+id+"/events?limit=100", nil).want(t, 200).decode(t, &events)
	if texts := eventTexts(events.Items); !slices.Equal(texts, []string{"permission granted (allow-once)", "after"}) {
		t.Errorf("texts %v", texts)
	}
	_, resps := c.permissionEvents(id)
	if len(resps) != 1 || resps[0].OptionID != "allow-once" {
		t.Errorf("responses %+v", resps)
	}

	// A rejection goes back too.
	turn = c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "/ask deploy"})
	p = c.waitPending(id, 1)[0]
	c.answer(id, p.RequestID, "reject-once").want(t, 200)
	result(t, turn)
	c.waitTurn(id, 2, gen.TurnStatusCompleted)
	c.do("GET", "/v1/sessions/"+id+"/events?limit=100", nil).want(t, 200).decode(t, &events)
	if texts := eventTexts(events.Items); !slices.Contains(texts, "permission refused (reject-once)") {
		t.Errorf("texts %v", texts)
	}

	// Cancel answers the pending request cancelled and the turn ends cancelled.
	turn = c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "/ask deploy\n/say never"})
	p = c.waitPending(id, 1)[0]
	c.do("POST", "/v1/sessions/"+id+"/cancel", nil).want(t, 200)
	result(t, turn)
	tr := c.waitTurn(id, 3, gen.TurnStatusCompleted)
	if tr.StopReason != gen.StopReasonCancelled {
		t.Errorf("cancelled turn %+v", tr)
	}
	for _, q := range c.permissions(id, "") {
		if q.RequestID == p.RequestID && (q.Status != gen.PermissionStatusCancelled || q.Outcome != gen.PermissionOutcomeCancelled) {
			t.Errorf("request after cancel %+v", q)
		}
	}
	if res := c.sendTurn(id, gen.TurnRequest{Prompt: "/count"}); !slices.Equal(eventTexts(res.Events), []string{"prompts: 4"}) {
		t.Errorf("the session lives on: %+v", eventTexts(res.Events))
	}
}

// The session's agent options reach its process.
func TestACPAgentOptions(t *testing.T) {
	cfg := acpAgent(t, "acp-test")
	cfg.Options = []acp.OptionConfig{{Name: "model", Type: "string", Enum: []any{"small", "large"}, Default: "small", Env: "TEST_MODEL"}}
	_, c := start(t, withACP(cfg))
	byDefault := c.newSession("acp-test")
	chosen := c.createSession(gen.CreateSessionRequest{Agent: "acp-test", AgentOptions: map[string]any{"model": "large"}}).SessionID
	for id, want := range map[string]string{byDefault: "TEST_MODEL=small", chosen: "TEST_MODEL=large"} {
		if res := c.sendTurn(id, gen.TurnRequest{Prompt: "/env TEST_MODEL"}); !slices.Equal(eventTexts(res.Events), []string{want}) {
			t.Errorf("texts %v, want %q", eventTexts(res.Events), want)
		}
	}
	c.do("POST", "/v1/sessions", map[string]any{"agent": "acp-test", "agent_options": map[string]any{"model": "huge"}}).
		want(t, 422, gen.ProblemCodeInvalidAgentOptions)
}

// File-system requests are served inside the session's directory only.
func TestACPFileRequestsStayInTheSessionDirectory(t *testing.T) {
	cfg := acpAgent(t, "acp-test")
	_, c := start(t, withACP(cfg))
	id := c.newSession("acp-test")
	res := c.sendTurn(id, gen.TurnRequest{Prompt: "/write notes.txt hello\n/read notes.txt\n/read ../../outside.txt"})
	texts := eventTexts(res.Events)
	if len(texts) != 3 || !strings.Contains(texts[1], "hello") || !strings.Contains(texts[2], "outside") {
		t.Fatalf("texts %q", texts)
	}
	if data, err := os.ReadFile(filepath.Join(cfg.Cwd, id, "notes.txt")); err != nil || string(data) != "hello" {
		t.Errorf("notes.txt: %q, %v", data, err)
	}
	if strings.Contains(texts[2], "hello") {
		t.Errorf("the read outside succeeded: %q", texts[2])
	}
}

// After a server restart a session's next turn loads its ACP session
// (state_dir and an agent that supports session/load).
func TestACPSessionLoadsAfterARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "restart.db")
	cfg := acpAgent(t, "acp-test", "-state", t.TempDir())
	cfg.StateDir = t.TempDir()
	open := func() (*refserver.Server, *client, func()) {
		st, err := store.OpenSQLite(db)
		if err != nil {
			t.Fatal(err)
		}
		srv, c := start(t, withACP(cfg), func(c *refserver.Config) { c.Store = st })
		return srv.Server, c, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Server.Shutdown(ctx); err != nil {
				t.Error(err)
			}
			srv.HTTP.Close()
			st.Close()
		}
	}
	_, c, stop := open()
	id := c.newSession("acp-test")
	c.sendTurn(id, gen.TurnRequest{Prompt: "remember me"})
	stop()

	srv, c, stop := open()
	defer stop()
	if n := bridge(t, srv, "acp-test").Processes(); n != 0 {
		t.Errorf("%d processes before the first turn after the restart", n)
	}
	res := c.sendTurn(id, gen.TurnRequest{Prompt: "/count"})
	if !slices.Equal(eventTexts(res.Events), []string{"prompts: 2"}) {
		t.Errorf("after the restart: %v, want the loaded session's count", eventTexts(res.Events))
	}
}
