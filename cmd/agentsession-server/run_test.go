package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSettingsPrecedence(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(*settings)
	}{
		{"defaults", nil, nil, func(s *settings) {}},
		{"env", nil, map[string]string{"AGENTSESSION_ADDR": "0.0.0.0:9", "AGENTSESSION_DB": ":memory:",
			"AGENTSESSION_KEEP_ALIVE": "2s", "AGENTSESSION_MAX_CHILDREN": "7", "AGENTSESSION_RATE_LIMIT": "2.5"},
			func(s *settings) {
				s.addr, s.db, s.keepAlive, s.maxChildren, s.rateLimit = "0.0.0.0:9", ":memory:", 2*time.Second, 7, 2.5
			}},
		{"body and header bounds", []string{"-read-header-timeout", "3s"},
			map[string]string{"AGENTSESSION_BODY_READ_TIMEOUT": "5s", "AGENTSESSION_READ_HEADER_TIMEOUT": "9s"},
			func(s *settings) { s.bodyReadTimeout, s.readHeaderTimeout = 5*time.Second, 3*time.Second }},
		{"flag wins over env", []string{"-addr", "127.0.0.1:0", "-stall-after", "1m"},
			map[string]string{"AGENTSESSION_ADDR": "0.0.0.0:9", "AGENTSESSION_STALL_AFTER": "5s", "AGENTSESSION_LOG_LEVEL": "debug"},
			func(s *settings) { s.addr, s.stallAfter, s.logLevel = "127.0.0.1:0", time.Minute, "debug" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := parseSettings(nil, envOf(nil), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			tt.want(&want)
			got, err := parseSettings(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(settings{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_, err := parseSettings(nil, envOf(map[string]string{"AGENTSESSION_MAX_DEPTH": "deep"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "AGENTSESSION_MAX_DEPTH") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestReadTokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(file, []byte("# operators\nalpha\n\n  beta  \n# gamma\n"), 0o600)
	got, err := readTokens(" one, ,two ", file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"one", "two", "alpha", "beta"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := readTokens("", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing tokens file is not an error")
	}
}

func TestConfigErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	badScripts := filepath.Join(dir, "scripts")
	os.Mkdir(badScripts, 0o755)
	os.WriteFile(filepath.Join(badScripts, "bad.json"), []byte("{"), 0o644)
	badAgents := filepath.Join(dir, "bad-agents.yaml")
	os.WriteFile(badAgents, []byte("agents:\n  - {name: a, command: x, cwd: .,  env: {KEY: '${AGENTSESSION_TEST_NOT_SET}'}}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no token", []string{"-db", ":memory:"}, nil, "no bearer token configured"},
		{"empty tokens", []string{"-db", ":memory:", "-tokens", " , "}, nil, "no bearer token configured"},
		{"bad log level", []string{"-db", ":memory:", "-log-level", "loud"}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "log level"},
		{"bad log format", []string{"-db", ":memory:", "-log-format", "xml"}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "log format"},
		{"bad flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
		{"database in a missing directory", []string{"-db", filepath.Join(dir, "no", "such", "x.db")}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "open the database"},
		{"bad script", []string{"-db", ":memory:", "-scripts", badScripts}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "bad.json"},
		{"missing agents file", []string{"-db", ":memory:", "-agents-file", filepath.Join(dir, "agents.yaml")}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "acp config: open " + filepath.Join(dir, "agents.yaml")},
		{"agents file naming an unset variable", []string{"-db", ":memory:"}, map[string]string{"AGENTSESSION_TOKENS": "t", "AGENTSESSION_AGENTS_FILE": badAgents}, "agents[0] (a): env KEY: ${AGENTSESSION_TEST_NOT_SET}: AGENTSESSION_TEST_NOT_SET is not set in the server's environment"},
		{"bad -acp-agent", []string{"-db", ":memory:", "-acp-agent", "no-command="}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "-acp-agent: want NAME=COMMAND [ARG...]"},
		{"address in use or invalid", []string{"-db", ":memory:", "-addr", "256.0.0.1:1"}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "listen on"},
		{"pprof without an operator listener", []string{"-db", ":memory:", "-pprof"}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "-pprof needs -metrics-addr"},
		{"metrics token without an operator listener", []string{"-db", ":memory:", "-metrics-token", "op"}, map[string]string{"AGENTSESSION_TOKENS": "t"}, "-metrics-token needs -metrics-addr"},
		{"metrics token that is a tenant's", []string{"-db", ":memory:", "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-metrics-token", "t"},
			map[string]string{"AGENTSESSION_TOKENS": "t"}, "also a tenant token"},
		{"metrics path", []string{"-db", ":memory:", "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-metrics-path", "metrics"},
			map[string]string{"AGENTSESSION_TOKENS": "t"}, "-metrics-path"},
		{"metrics address invalid", []string{"-db", ":memory:", "-addr", "127.0.0.1:0", "-metrics-addr", "256.0.0.1:1"},
			map[string]string{"AGENTSESSION_TOKENS": "t"}, "-metrics-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, envOf(tt.env), &stdout, &stderr)
			if code != exitConfig || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr.String(), tt.want)
			}
		})
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, envOf(nil), io.Discard, &stderr); code != exitOK ||
		!strings.Contains(stderr.String(), "AGENTSESSION_TOKENS_FILE") {
		t.Errorf("-h: exit %d, %s", code, stderr.String())
	}
}

// lineWriter hands each written line to a channel.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		w.lines <- l
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeAndShutDown runs the command on an SQLite file, serves a few
// requests, then stops it like SIGTERM would while a turn streams: the
// stream ends with turn.completed and the logs never show the token.
func TestServeAndShutDown(t *testing.T) {
	const token = "s3cret-token-value"
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	os.Mkdir(scripts, 0o755)
	os.WriteFile(filepath.Join(scripts, "greeter.json"), []byte(`{"steps":[{"event":{"type":"text","content":"hi"}}]}`), 0o644)
	tokensFile := filepath.Join(dir, "tokens")
	os.WriteFile(tokensFile, []byte("# ops\n"+token+"\n"), 0o600)
	db := filepath.Join(dir, "data.db")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout := lineWriter{make(chan string, 10)}
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db, "-scripts", scripts, "-log-format", "json"},
			envOf(map[string]string{"AGENTSESSION_TOKENS_FILE": tokensFile, "AGENTSESSION_LOG_LEVEL": "debug"}), stdout, &stderr)
	}()
	var base string
	select {
	case line := <-stdout.lines:
		var ok bool
		if base, ok = strings.CutPrefix(line, "listening on "); !ok || strings.HasSuffix(base, ":0") {
			t.Fatalf("first stdout line %q", line)
		}
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("no listening line")
	}

	call := func(method, path, body string, out any) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
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
	call("GET", "/v1/capabilities", "", &caps)
	if len(caps.Agents) != 3 || caps.Agents[2].Name != "greeter" {
		t.Errorf("agents = %+v", caps.Agents)
	}
	var sess gen.Session
	if code := call("POST", "/v1/sessions", `{"agent":"scripted"}`, &sess); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code := call("GET", "/v1/sessions", "", nil); code != 200 {
		t.Fatalf("list: %d", code)
	}
	req, _ := http.NewRequest("POST", base+"/v1/sessions/"+sess.SessionID+"/turns",
		strings.NewReader(`{"prompt":"{\"steps\":[{\"event\":{\"type\":\"text\",\"content\":\"go\"}},{\"delay_ms\":60000}]}"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := sse.NewReader(resp.Body)
	for i := 0; i < 2; i++ { // turn.accepted, then the first event
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}

	stop() // what SIGINT/SIGTERM do
	var last sse.Frame
	for {
		f, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the stream broke instead of ending: %v", err)
		}
		last = f
	}
	var sum gen.TurnSummary
	if json.Unmarshal([]byte(last.Data), &sum); last.Event != "turn.completed" || sum.StopReason != gen.StopReasonError {
		t.Errorf("last frame = %+v", last)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no graceful exit")
	}
	logs := stderr.String()
	if strings.Contains(logs, token) {
		t.Fatalf("the logs contain the token:\n%s", logs)
	}
	for _, want := range []string{`"msg":"request"`, `"route":"POST /v1/sessions"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("no database file: %v", err)
	}
}

// TestOperatorListener: -metrics-addr serves the metrics (and, with -pprof,
// pprof) on a listener of its own behind the operator token; the API's
// listener serves neither, and a tenant token opens neither.
func TestOperatorListener(t *testing.T) {
	const tenant, operator = "tenant-token-1", "operator-token-1"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout := lineWriter{make(chan string, 10)}
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "m.db"),
			"-metrics-addr", "127.0.0.1:0", "-metrics-path", "/ops/metrics", "-pprof"},
			envOf(map[string]string{"AGENTSESSION_TOKENS": tenant, "AGENTSESSION_METRICS_TOKEN": operator}), stdout, &stderr)
	}()
	var api, metrics string
	for metrics == "" {
		select {
		case line := <-stdout.lines:
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				api = u
			} else if u, ok := strings.CutPrefix(line, "metrics on "); ok {
				metrics = u
			} else {
				t.Fatalf("stdout line %q", line)
			}
		case code := <-done:
			t.Fatalf("exited %d: %s", code, stderr.String())
		case <-time.After(10 * time.Second):
			t.Fatal("no listening lines")
		}
	}
	if api == "" || !strings.HasSuffix(metrics, "/ops/metrics") || strings.HasPrefix(metrics, api) {
		t.Fatalf("api %q, metrics %q: want two listeners", api, metrics)
	}
	ops := strings.TrimSuffix(metrics, "/ops/metrics")
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	if code, _ := get(api+"/v1/capabilities", tenant); code != 200 {
		t.Fatalf("capabilities: %d", code)
	}
	code, text := get(metrics, operator)
	if code != 200 || !strings.Contains(text, `agentsession_http_requests_total{operation="getCapabilities",status="200"} 1`) {
		t.Errorf("metrics with the operator token: %d\n%s", code, text)
	}
	if code, text := get(ops+"/debug/pprof/", operator); code != 200 || !strings.Contains(text, "goroutine") {
		t.Errorf("pprof with the operator token: %d %.200s", code, text)
	}
	for _, tc := range []struct{ url, token string }{
		{metrics, ""}, {metrics, tenant}, {ops + "/debug/pprof/", tenant}, {ops + "/debug/pprof/goroutine", ""},
	} {
		if code, _ := get(tc.url, tc.token); code != http.StatusUnauthorized {
			t.Errorf("GET %s with token %q: %d, want 401", tc.url, tc.token, code)
		}
	}
	for _, p := range []string{"/metrics", "/ops/metrics", "/debug/pprof/"} {
		for _, tok := range []string{tenant, operator} {
			if code, _ := get(api+p, tok); code == 200 {
				t.Errorf("the API serves %s (token %q)", p, tok)
			}
		}
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
	if logs := stderr.String(); strings.Contains(logs, operator) || strings.Contains(logs, tenant) {
		t.Errorf("the logs contain a token:\n%s", logs)
	}
}
