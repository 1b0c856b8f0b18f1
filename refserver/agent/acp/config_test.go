package acp_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/refserver/agent/acp"
)

const secretValue = "sk-ant-test-0123456789"

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestParseConfig(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := `
agents:
  - name: claude
    description: Claude Code over ACP.
    command: npx
    args: ["-y", "@zed-industries/claude-code-acp"]
    cwd: work
    session_dirs: true
    env:
      ANTHROPIC_API_KEY: ${ANTHROPIC_API_KEY}
      PRICE: "$$5 and $HOME stays"
    inherit_env: [PATH, HOME]
    fs: {read: true, write: true}
    terminal: true
    state_dir: state
    limits: {turn_output_bytes: 1048576, stderr_tail_bytes: 2048, start_timeout: 90s, cancel_grace: 1500ms, max_processes: 8}
  - {"name": "test", "command": "agentsession-acp-testagent", "cwd": "` + base + `"}
`
	cfgs, err := acp.ParseConfig([]byte(data), base, lookup(map[string]string{"ANTHROPIC_API_KEY": secretValue}))
	if err != nil {
		t.Fatal(err)
	}
	want := []acp.Config{{
		Name: "claude", Description: "Claude Code over ACP.", Command: "npx",
		Args: []string{"-y", "@zed-industries/claude-code-acp"},
		Cwd:  filepath.Join(base, "work"), SessionDirs: true,
		Env:        map[string]string{"ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}", "PRICE": "$$5 and $HOME stays"},
		InheritEnv: []string{"PATH", "HOME"},
		FS:         acp.FSConfig{Read: true, Write: true}, Terminal: true,
		StateDir: filepath.Join(base, "state"),
		Limits: acp.Limits{TurnOutputBytes: 1 << 20, StderrTailBytes: 2048, StartTimeout: 90 * time.Second,
			CancelGrace: 1500 * time.Millisecond, MaxProcesses: 8},
	}, {Name: "test", Command: "agentsession-acp-testagent", Cwd: base}}
	if diff := cmp.Diff(want, cfgs); diff != "" {
		t.Errorf("configs (-want +got):\n%s", diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	dir := t.TempDir()
	agentWith := func(extra string) string {
		return "agents:\n  - name: a\n    command: x\n    cwd: " + dir + "\n" + extra
	}
	for _, tt := range []struct{ name, data, want string }{
		{"empty", "", "empty file"},
		{"no agents", "agents: []", "the list is empty"},
		{"unknown key", agentWith("    comand: y\n"), "field comand not found"},
		{"bad name", "agents:\n  - {name: 'a b', command: x, cwd: " + dir + "}", `name "a b"`},
		{"no command", "agents:\n  - {name: a, cwd: " + dir + "}", "command: required"},
		{"no cwd", "agents:\n  - {name: a, command: x}", "cwd: required"},
		{"missing cwd", "agents:\n  - {name: a, command: x, cwd: /no/such/dir}", "no such file or directory"},
		{"duplicate", "agents:\n  - {name: a, command: x, cwd: " + dir + "}\n  - {name: a, command: y, cwd: " + dir + "}", `a second agent named "a"`},
		{"unset variable", agentWith("    env: {API_KEY: '${NOT_SET_ANYWHERE}'}\n"), "agents[0] (a): env API_KEY: ${NOT_SET_ANYWHERE}: NOT_SET_ANYWHERE is not set in the server's environment"},
		{"unclosed template", agentWith("    env: {API_KEY: '${OOPS'}\n"), `"${" without a closing "}"`},
		{"bad env name", agentWith("    env: {'1X': y}\n"), `env: "1X" is not a variable name`},
		{"integer duration", agentWith("    limits: {start_timeout: 30}\n"), "cannot unmarshal"},
		{"negative limit", agentWith("    limits: {turn_output_bytes: -1}\n"), "must not be negative"},
		{"negative turn timeout", agentWith("    limits: {turn_timeout: -1s}\n"), "must not be negative"},
		{"option without env", agentWith("    options: [{name: model, type: string}]\n"), `options[0] (model): env "": want the name`},
		{"option of no type", agentWith("    options: [{name: model, type: text, env: M}]\n"), `type "text"`},
		{"option default of another type", agentWith("    options: [{name: effort, type: integer, default: high, env: E}]\n"), "default high is not of type integer"},
		{"option default outside enum", agentWith("    options: [{name: m, type: string, enum: [a, b], default: c, env: M}]\n"), "default c is not one of enum"},
		{"option env twice", agentWith("    options: [{name: a, type: string, env: M}, {name: b, type: string, env: M}]\n"), "env M carries another option too"},
		{"option env in env", agentWith("    env: {M: x}\n    options: [{name: a, type: string, env: M}]\n"), "env M is set in env too"},
		{"option twice", agentWith("    options: [{name: a, type: string, env: M}, {name: a, type: string, env: N}]\n"), `a second option named "a"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := acp.ParseConfig([]byte(tt.data), dir, lookup(nil))
			wantErr(t, err, tt.want)
		})
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agents.yaml")
	if err := os.WriteFile(path, []byte("agents:\n  - {name: a, command: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := acp.LoadConfig(path)
	wantErr(t, err, "acp config "+path+": agents[0] (a): cwd: required")
	_, err = acp.LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"))
	wantErr(t, err, "no such file or directory")
}

func TestSecretsAreNeverShown(t *testing.T) {
	cfg := config(t)
	cfg.Env = map[string]string{"API_KEY": "${SERVER_API_KEY}", "LITERAL_TOKEN": "tok-literal-0123456789"}
	// Printing a config shows env names only.
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "tok-literal") || !strings.Contains(s, "API_KEY") {
			t.Errorf("printed config: %s", s)
		}
	}
	var logs syncBuffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("agent", "config", cfg)
	if strings.Contains(logs.String(), "tok-literal") || !strings.Contains(logs.String(), "LITERAL_TOKEN") {
		t.Errorf("logged config: %s", logs.String())
	}

	// A secret the agent prints is cut out of the stderr an error quotes,
	// and out of the bridge's log.
	logs.Reset()
	b := newBridge(t, cfg, acp.WithLookupEnv(lookup(map[string]string{"SERVER_API_KEY": secretValue})),
		acp.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	r := run(t, b, "s1", script("/stderr auth failed for key "+secretValue, "/crash 1"))
	wantErr(t, r.err, "auth failed for key [redacted]")
	if strings.Contains(r.err.Error(), secretValue) || strings.Contains(logs.String(), secretValue) {
		t.Errorf("the secret leaked: %v\n%s", r.err, logs.String())
	}
}

func TestTheAgentGetsOnlyItsEnvironment(t *testing.T) {
	cfg := config(t)
	cfg.Terminal = true
	cfg.Env = map[string]string{"API_KEY": "${SERVER_API_KEY}", "GREETING": "hello $$USER"}
	cfg.InheritEnv = []string{"PATH"}
	server := map[string]string{"SERVER_API_KEY": "key-123456", "PATH": os.Getenv("PATH"), "HOME": "/home/server", "AGENTSESSION_TOKENS": "tok-a"}
	b := newBridge(t, cfg, acp.WithLookupEnv(lookup(server)))
	got := mustRun(t, b, "s1", "/terminal env").events.texts()
	if len(got) != 1 {
		t.Fatalf("texts %q", got)
	}
	env := strings.Fields(strings.TrimPrefix(got[0], "terminal exit 0: "))
	want := []string{"PATH=" + os.Getenv("PATH"), "API_KEY=key-123456", "GREETING=hello", "$USER"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("the agent's environment (-want +got):\n%s", diff)
	}
}

func TestNewChecksTheConfig(t *testing.T) {
	cfg := config(t)
	cfg.Env = map[string]string{"K": "${MISSING_VAR}"}
	_, err := acp.New(cfg, acp.WithLookupEnv(lookup(nil)))
	wantErr(t, err, `acp agent "testagent": env K: ${MISSING_VAR}: MISSING_VAR is not set`)
	b := newBridge(t, config(t))
	if l := b.Config().Limits; l.TurnOutputBytes != acp.DefaultTurnOutputBytes || l.StartTimeout != acp.DefaultStartTimeout {
		t.Errorf("defaults not applied: %+v", l)
	}
}

// syncBuffer is a bytes.Buffer for a logger's and a test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
