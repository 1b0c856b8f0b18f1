package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "conformance.yaml")
	err := os.WriteFile(file, []byte(`
base_url: http://from-file:1
token: file-token
profile: core
include: [auth, sessions]
echo_agent: file-echo
check_timeout: 30s
request_timeout: 5s
concurrency: 3
keep: true
report_dir: file-reports
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"AGENTSESSION_CONFORMANCE_BASE_URL":        "http://from-env:2",
		"AGENTSESSION_CONFORMANCE_TOKEN2":          "env-token-2",
		"AGENTSESSION_CONFORMANCE_EXCLUDE":         "AUTH-001, AUTH-002",
		"AGENTSESSION_CONFORMANCE_REQUEST_TIMEOUT": "7s",
		"AGENTSESSION_CONFORMANCE_KEEP":            "false",
	}
	tests := []struct {
		name string
		path string
		env  map[string]string
		want Config
	}{
		{"nothing", "", nil, Config{}},
		{"file only", file, nil, Config{
			BaseURL: "http://from-file:1", Token: "file-token", Profile: ProfileCore, Include: []string{"auth", "sessions"},
			EchoAgent: "file-echo", CheckTimeout: 30 * time.Second, RequestTimeout: 5 * time.Second, Concurrency: 3, Keep: true, ReportDir: "file-reports",
		}},
		{"environment wins over the file", file, env, Config{
			BaseURL: "http://from-env:2", Token: "file-token", Token2: "env-token-2", Profile: ProfileCore, Include: []string{"auth", "sessions"},
			Exclude: []string{"AUTH-001", "AUTH-002"}, EchoAgent: "file-echo", CheckTimeout: 30 * time.Second, RequestTimeout: 7 * time.Second,
			Concurrency: 3, Keep: false, ReportDir: "file-reports",
		}},
		{"file named by the environment", "", map[string]string{"AGENTSESSION_CONFORMANCE_CONFIG": file}, Config{
			BaseURL: "http://from-file:1", Token: "file-token", Profile: ProfileCore, Include: []string{"auth", "sessions"},
			EchoAgent: "file-echo", CheckTimeout: 30 * time.Second, RequestTimeout: 5 * time.Second, Concurrency: 3, Keep: true, ReportDir: "file-reports",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(tc.path, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(Config{}), cmpopts.IgnoreFields(Config{}, "HTTPClient", "Progress")); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		env  map[string]string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), nil},
		{"unknown key", write("typo.yaml", "base_ulr: http://x\n"), nil},
		{"bad duration in file", write("dur.yaml", "check_timeout: soon\n"), nil},
		{"bad duration in env", "", map[string]string{"AGENTSESSION_CONFORMANCE_CHECK_TIMEOUT": "soon"}},
		{"bad concurrency", "", map[string]string{"AGENTSESSION_CONFORMANCE_CONCURRENCY": "many"}},
		{"bad keep", "", map[string]string{"AGENTSESSION_CONFORMANCE_KEEP": "perhaps"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadConfig(tc.path, func(k string) string { return tc.env[k] }); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{BaseURL: "http://h:1/", Token: "t"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	got := []any{cfg.BaseURL, cfg.Profile, cfg.CheckTimeout, cfg.RequestTimeout, cfg.Concurrency, len(cfg.Prefix), cfg.HTTPClient != nil}
	want := []any{"http://h:1", ProfileFull, 60 * time.Second, 20 * time.Second, 8, len("cf-12345678"), true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
	other, _ := Config{BaseURL: "http://h:1", Token: "t"}.withDefaults()
	if other.Prefix == cfg.Prefix {
		t.Errorf("two runs share the prefix %s", cfg.Prefix)
	}
}

func TestRestartCommandConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("restart_command: from the file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(file, func(string) string { return "" })
	if err != nil || cfg.RestartCommand != "from the file" {
		t.Fatalf("file: %q, %v", cfg.RestartCommand, err)
	}
	env := map[string]string{EnvPrefix + "RESTART_COMMAND": "exit 0"}
	cfg, err = LoadConfig(file, func(k string) string { return env[k] })
	if err != nil || cfg.RestartCommand != "exit 0" {
		t.Fatalf("environment over file: %q, %v", cfg.RestartCommand, err)
	}
	cfg.BaseURL, cfg.Token = "http://127.0.0.1:1", "t"
	if cfg, err = cfg.withDefaults(); err != nil || cfg.Restart == nil {
		t.Fatalf("withDefaults: restart hook %v, %v", cfg.Restart != nil, err)
	}
	if err := cfg.Restart(context.Background()); err != nil {
		t.Errorf("exit 0: %v", err)
	}
	if err := shellRestart("echo broke >&2; exit 4")(context.Background()); err == nil || !strings.Contains(err.Error(), "broke") {
		t.Errorf("a failing command: %v, want its output in the error", err)
	}
}
