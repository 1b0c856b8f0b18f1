package acp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent/acp"
)

// readmeConfigs parses each ```yaml block of README.md, with "work" made
// next to it and ANTHROPIC_API_KEY set.
func readmeConfigs(t *testing.T) [][]acp.Config {
	t.Helper()
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out [][]acp.Config
	parts := strings.Split(string(doc), "```yaml\n")
	for _, part := range parts[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatal("an unclosed yaml block")
		}
		cfgs, err := acp.ParseConfig([]byte(block), base, lookup(map[string]string{"ANTHROPIC_API_KEY": secretValue}))
		if err != nil {
			t.Fatalf("README block:\n%s\n%v", block, err)
		}
		out = append(out, cfgs)
	}
	if len(out) != 2 {
		t.Fatalf("%d yaml blocks, want the claude and the test agent examples", len(out))
	}
	return out
}

func TestReadmeConfigs(t *testing.T) {
	blocks := readmeConfigs(t)
	claude := blocks[0][0]
	if claude.Name != "claude" || claude.Command != "npx" || claude.Env["ANTHROPIC_API_KEY"] != "${ANTHROPIC_API_KEY}" || !claude.SessionDirs {
		t.Errorf("the claude example: %v", claude)
	}
	if _, err := acp.New(claude, acp.WithLookupEnv(lookup(nil))); err == nil || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY is not set") {
		t.Errorf("without the key: %v", err)
	}

	// The test agent's example runs the README's prompt as the README says.
	cfg := blocks[1][0]
	cfg.Command = testAgent
	b := newBridge(t, cfg)
	r := mustRun(t, b, "ses_readme", "/say reading\n/tool read_file {\"path\":\"go.mod\"}\n/ask deploy\n/stop refusal")
	var types []gen.EventType
	for _, e := range r.events.all() {
		types = append(types, e.Type)
	}
	want := []gen.EventType{"text", "tool_call", "tool_result", "tool_result", "tool_call", "text", "tool_result"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	if got := r.events.texts(); !cmp.Equal(got, []string{"reading", "permission cancelled"}) {
		t.Errorf("texts %q", got)
	}
	if r.out.StopReason != gen.StopReasonRefusal {
		t.Errorf("stop reason %q", r.out.StopReason)
	}
}

// The repository README's agents file is valid as it stands, and its
// model option reaches claude-code-acp's variable.
func TestRepositoryReadmeAgentsFile(t *testing.T) {
	doc, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	var found int
	for _, part := range strings.Split(string(doc), "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if !strings.HasPrefix(block, "agents:") {
			continue
		}
		found++
		cfgs, err := acp.ParseConfig([]byte(block), base, lookup(map[string]string{"ANTHROPIC_API_KEY": secretValue}))
		if err != nil {
			t.Fatalf("README block:\n%s\n%v", block, err)
		}
		c := cfgs[0]
		if c.Name != "claude" || c.Env["ANTHROPIC_API_KEY"] != "${ANTHROPIC_API_KEY}" || len(c.Options) != 1 || c.Options[0].Env != "ANTHROPIC_MODEL" ||
			c.Limits.TurnTimeout != 30*time.Minute {
			t.Errorf("the README's claude: %v %+v", c, c.Options)
		}
	}
	if found != 1 {
		t.Errorf("%d agents files in README.md, want 1", found)
	}
}
