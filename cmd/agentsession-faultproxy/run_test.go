package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	badRules := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badRules, []byte("rules: [{fault: {kind: explode}}]\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", nil, "-target is required"},
		{"relative target", []string{"-target", "localhost:8080"}, "want an absolute http or https URL"},
		{"missing config", []string{"-target", "http://127.0.0.1:1", "-config", filepath.Join(dir, "none.yaml")}, "read the config"},
		{"bad config", []string{"-target", "http://127.0.0.1:1", "-config", badRules}, `fault.kind "explode"`},
		{"bad log level", []string{"-target", "http://127.0.0.1:1", "-log-level", "loud"}, "log level"},
		{"bad flag", []string{"-nope"}, "flag provided but not defined"},
		{"stray argument", []string{"-target", "http://127.0.0.1:1", "extra"}, "unexpected arguments"},
		{"bad address", []string{"-target", "http://127.0.0.1:1", "-listen", "256.0.0.1:1"}, "listen on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != exitConfig || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr.String(), tt.want)
			}
		})
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, io.Discard, &stderr); code != exitOK || !strings.Contains(stderr.String(), "-config") {
		t.Errorf("-h: exit %d, %s", code, stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the command's goroutine and the test.
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

// TestServeFaultsAndStop starts the command on port 0 with a rules file,
// reads the address it prints, sees a rule fire and the seed flag win over
// the file, then stops it as SIGINT would.
func TestServeFaultsAndStop(t *testing.T) {
	const token = "tok-cmd-secret-91c2"
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from the target") }))
	defer backend.Close()
	rules := filepath.Join(t.TempDir(), "faults.yaml")
	os.WriteFile(rules, []byte("seed: 1\nrules:\n  - name: unavailable\n    match: {path_prefix: /fail}\n    fault: {kind: status, status: 503, retry_after: 2}\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"-listen", "127.0.0.1:0", "-target", backend.URL, "-config", rules, "-seed", "99", "-log-level", "debug"}, pw, stderr)
		pw.Close()
	}()
	line := make([]byte, 256)
	n, err := pr.Read(line)
	if err != nil {
		t.Fatalf("no address printed: %v; stderr %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	base, ok := strings.CutPrefix(strings.TrimSpace(string(line[:n])), "listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("stdout %q", line[:n])
	}

	get := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/ok"); resp.StatusCode != 200 || body != "from the target" {
		t.Errorf("/ok: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("/fail"); resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("/fail: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	_, stats := get("/__faultproxy/stats")
	var s struct{ Requests, Forwarded, Faults int }
	if err := json.Unmarshal([]byte(stats), &s); err != nil || s.Requests != 2 || s.Forwarded != 1 || s.Faults != 1 {
		t.Errorf("stats %s (%v)", stats, err)
	}
	_, cfg := get("/__faultproxy/config")
	if !strings.Contains(cfg, `"seed": 99`) {
		t.Errorf("-seed did not win over the file: %s", cfg)
	}

	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d; stderr %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful stop")
	}
	logs := stderr.String()
	if !strings.Contains(logs, "fault injected") || !strings.Contains(logs, "stopped") {
		t.Errorf("logs lack the fault or the stop: %s", logs)
	}
	if strings.Contains(logs, token) {
		t.Error("the token is in the logs")
	}
}
