package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/acptestagent"
)

// beTestAgent, as the first argument of this test binary, makes it the ACP
// test agent (on stdio) instead of running the tests.
const beTestAgent = "be-the-acp-test-agent"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == beTestAgent {
		os.Exit(acptestagent.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The command serves the ACP agents of -agents-file and -acp-agent: they
// are in capabilities, answer turns, get the environment the file gives
// them (a ${NAME} reference to the server's environment) and the logs
// never show that value; one that cannot start answers 502.
func TestACPAgentsFromTheConfiguration(t *testing.T) {
	const token, secret = "tok-acp", "sk-test-0123456789-never-logged"
	t.Setenv("AGENTSESSION_TEST_API_KEY", secret)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "work"), 0o755)
	agents := filepath.Join(dir, "agents.yaml")
	os.WriteFile(agents, []byte(`agents:
  - name: acp-test
    description: The ACP test agent.
    command: `+self+`
    args: [`+beTestAgent+`]
    cwd: work
    session_dirs: true
    env:
      API_KEY: ${AGENTSESSION_TEST_API_KEY}
    options:
      - {name: model, type: string, enum: [small, large], default: small, env: TEST_MODEL}
    limits: {turn_timeout: 20s}
  - name: broken
    command: agentsession-no-such-command
    cwd: work
`), 0o644)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout := lineWriter{make(chan string, 10)}
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", ":memory:", "-tokens", token, "-log-level", "debug",
			"-acp-agent", "quick=" + self + " " + beTestAgent},
			envOf(map[string]string{"AGENTSESSION_AGENTS_FILE": agents}), stdout, &stderr)
	}()
	var base string
	select {
	case line := <-stdout.lines:
		base = strings.TrimPrefix(line, "listening on ")
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("no listening line")
	}
	call := func(method, path string, body any, out any) int {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var caps gen.Capabilities
	call("GET", "/v1/capabilities", nil, &caps)
	var names []string
	for _, a := range caps.Agents {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"echo", "scripted", "acp-test", "broken", "quick"}) {
		t.Errorf("agents %v", names)
	}
	if a := caps.Agents[2]; !a.Permissions || a.Steer || len(a.Options) != 1 || a.Options[0].Name != "model" {
		t.Errorf("acp-test %+v", a)
	}

	var sess gen.Session
	if code := call("POST", "/v1/sessions", map[string]any{"agent": "acp-test", "agent_options": map[string]any{"model": "large"}}, &sess); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var res gen.TurnResult
	call("POST", "/v1/sessions/"+sess.SessionID+"/turns", map[string]any{"prompt": "/env API_KEY\n/env TEST_MODEL"}, &res)
	if texts := texts(res.Events); !slices.Equal(texts, []string{"API_KEY=" + secret, "TEST_MODEL=large"}) {
		t.Errorf("texts %q", texts)
	}
	if _, err := os.Stat(filepath.Join(dir, "work", sess.SessionID)); err != nil {
		t.Errorf("the session's directory: %v", err)
	}
	var quick gen.Session
	call("POST", "/v1/sessions", map[string]any{"agent": "quick"}, &quick)
	call("POST", "/v1/sessions/"+quick.SessionID+"/turns", map[string]any{"prompt": "quick hello"}, &res)
	if texts := texts(res.Events); !slices.Equal(texts, []string{"quick hello"}) {
		t.Errorf("quick: texts %q", texts)
	}
	var p gen.Problem
	if code := call("POST", "/v1/sessions", map[string]any{"agent": "broken"}, &p); code != 502 || p.Code != gen.ProblemCodeAgentStartFailed ||
		!strings.Contains(p.Detail, `agent "broken"`) || !strings.Contains(p.Detail, "executable file not found") {
		t.Errorf("broken: %d %+v", code, p)
	}
	stop()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no graceful exit")
	}
	logs := stderr.String()
	if strings.Contains(logs, secret) {
		t.Fatalf("the logs contain the agent's API key:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="acp agent"`) || !strings.Contains(logs, "API_KEY") {
		t.Errorf("the logs do not describe the agents (env names only):\n%s", logs)
	}
}

func texts(events []gen.Event) []string {
	var out []string
	for _, e := range events {
		if e.Type == gen.EventTypeText {
			out = append(out, e.Content)
		}
	}
	return out
}
