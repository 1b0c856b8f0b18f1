package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/refservertest"
)

// runCmd runs the command with the given environment and returns its exit
// status and output.
func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestList(t *testing.T) {
	code, out, _ := runCmd(t, nil, "-list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got []conformance.CheckInfo
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(conformance.Catalogue(), got); d != "" {
		t.Errorf("-list differs from the catalogue (-want +got):\n%s", d)
	}
}

func TestWriteChecks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "CHECKS.md")
	if code, _, errOut := runCmd(t, nil, "-write-checks", p); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := conformance.WriteChecksMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("-write-checks wrote something else than WriteChecksMarkdown")
	}
}

func TestConfigurationErrorsExit2(t *testing.T) {
	srv := refservertest.Start(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no base URL", nil, nil, "no base URL"},
		{"unknown flag", nil, []string{"-nope"}, "flag provided but not defined"},
		{"stray argument", nil, []string{"extra"}, "unexpected arguments"},
		{"bad profile", nil, []string{"-base-url", srv.URL, "-token", srv.Tokens[0], "-profile", "most"}, "profile"},
		{"rejected token", map[string]string{"AGENTSESSION_CONFORMANCE_TOKEN": "not-a-token"}, []string{"-base-url", srv.URL}, "rejects the token"},
		{"missing config file", nil, []string{"-config", filepath.Join(t.TempDir(), "none.yaml")}, "config file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tc.env, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
			if strings.Contains(errOut, "not-a-token") || strings.Contains(errOut, srv.Tokens[0]) {
				t.Errorf("stderr shows a token: %q", errOut)
			}
		})
	}
}

// ranGroups reads the groups a run's results.json holds.
func ranGroups(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, conformance.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var res conformance.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range res.Groups {
		out = append(out, g.Group)
	}
	return out
}

func TestPrecedenceFlagsEnvFile(t *testing.T) {
	srv := refservertest.Start(t)
	file := filepath.Join(t.TempDir(), "conformance.yaml")
	if err := os.WriteFile(file, []byte("base_url: "+srv.URL+"\ninclude: [auth]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"AGENTSESSION_CONFORMANCE_TOKEN": srv.Tokens[0], "AGENTSESSION_CONFORMANCE_CONFIG": file}
	withEnv := map[string]string{"AGENTSESSION_CONFORMANCE_INCLUDE": "service"}
	for k, v := range base {
		withEnv[k] = v
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"file", base, nil, []string{"auth"}},
		{"environment over file", withEnv, nil, []string{"service"}},
		{"flag over environment", withEnv, []string{"-include", "sessions"}, []string{"sessions"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errOut := runCmd(t, tc.env, append([]string{"-out", dir}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			if d := cmp.Diff(tc.want, ranGroups(t, dir)); d != "" {
				t.Errorf("groups run (-want +got):\n%s", d)
			}
		})
	}
}

func TestFullRunAgainstTheReferenceServer(t *testing.T) {
	// Keep-alive comments often enough for STRM-014 (MAY) to see one, and
	// small body limits, cheap to fill under -race; the thresholds of minutes
	// stay, so the checks that wait for them are skipped.
	srv := refservertest.Start(t, func(c *refserver.Config) {
		c.KeepAlive, c.MaxBodyBytes, c.MaxFileBytes = 200*time.Millisecond, 128<<10, 64<<10
	})
	dir := t.TempDir()
	env := map[string]string{"AGENTSESSION_CONFORMANCE_TOKEN": srv.Tokens[0], "AGENTSESSION_CONFORMANCE_TOKEN2": srv.Tokens[1]}
	code, out, errOut := runCmd(t, env, "-base-url", srv.URL, "-out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, f := range []string{conformance.ResultsFile, conformance.JUnitFile, conformance.HTMLFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("report %s: %v", f, err)
		}
	}
	lines := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[ ok ]") {
			lines++
		}
	}
	if lines != len(conformance.Groups()) {
		t.Errorf("%d group lines, want %d:\n%s", lines, len(conformance.Groups()), out)
	}
	if !strings.Contains(out, "PASS: every MUST check passed") {
		t.Errorf("no verdict line:\n%s", out)
	}
	// Nothing fails or warns; what the run cannot test is skipped, and left
	// unverified, so the compliance level falls short of core.
	var res conformance.Result
	data, err := os.ReadFile(filepath.Join(dir, conformance.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if c.Outcome != conformance.Pass && c.Outcome != conformance.Skip {
			t.Errorf("%s: %s %s", c.ID, c.Outcome, c.Message)
		}
	}
	if !strings.Contains(out, "Compliance: none (core not reached") || len(res.Compliance.FalseAdvertising) != 0 {
		t.Errorf("compliance %q, false advertising %v; want core not reached for want of a restart hook and short thresholds", res.Compliance.Summary(), res.Compliance.FalseAdvertising)
	}
}

func TestAFailedMustExits1(t *testing.T) {
	srv := refservertest.Start(t)
	// The same server, but its answers lose X-Request-Id.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.Server.ServeHTTP(stripRequestID{w}, r)
	}))
	t.Cleanup(broken.Close)
	code, out, _ := runCmd(t, map[string]string{"AGENTSESSION_CONFORMANCE_TOKEN": srv.Tokens[0]},
		"-base-url", broken.URL, "-include", "PROTO-001", "-out", "")
	if code != 1 || !strings.Contains(out, "FAIL PROTO-001") {
		t.Errorf("exit %d, want 1 with PROTO-001 failing:\n%s", code, out)
	}
}

// The restart hook runs the -restart-command; a command that fails is the
// run's set-up at fault (an error outcome, which fails a MUST check), never
// a verdict on the server.
func TestRestartCommand(t *testing.T) {
	srv := refservertest.Start(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(t, map[string]string{"AGENTSESSION_CONFORMANCE_TOKEN": srv.Tokens[0]},
		"-base-url", srv.URL, "-include", "IDEM-017", "-out", dir, "-restart-command", "echo restarting; exit 3")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	var res conformance.Result
	data, err := os.ReadFile(filepath.Join(dir, conformance.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	c, ok := res.Check("IDEM-017")
	if !ok || c.Outcome != conformance.Error || !strings.Contains(c.Message, "restart hook failed") || !strings.Contains(c.Message, "restarting") {
		t.Errorf("IDEM-017: %s %q, want an error saying the restart hook failed with its output", c.Outcome, c.Message)
	}
	if !slices.Contains(res.Target.Declared, "restart") {
		t.Errorf("declared %v lacks restart", res.Target.Declared)
	}
}

type stripRequestID struct{ http.ResponseWriter }

func (s stripRequestID) WriteHeader(code int) {
	s.Header().Del("X-Request-Id")
	s.ResponseWriter.WriteHeader(code)
}

func (s stripRequestID) Write(b []byte) (int, error) {
	s.Header().Del("X-Request-Id")
	return s.ResponseWriter.Write(b)
}

func TestInterruptedRunExits130(t *testing.T) {
	srv := refservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt the run as soon as the first check creates a session.
	var once sync.Once
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/sessions" {
			once.Do(cancel)
		}
		srv.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	var stdout, stderr bytes.Buffer
	env := map[string]string{"AGENTSESSION_CONFORMANCE_TOKEN": srv.Tokens[0]}
	code := run(ctx, []string{"-base-url", server.URL, "-out", ""}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 130 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want 130 and the interruption", code, stderr.String())
	}
}
