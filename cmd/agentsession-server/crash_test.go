package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// serverProcess is the server binary running as a child process.
type serverProcess struct {
	cmd *exec.Cmd
	url string
}

func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agentsession-server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startServer(t *testing.T, bin, db, token string) *serverProcess {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", db, "-tokens", token, "-log-level", "warn")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		u, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			t.Fatalf("first stdout line %q", line)
		}
		return &serverProcess{cmd: cmd, url: u}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start")
		return nil
	}
}

// TestKillMidTurnLosesNothingAcknowledged kills the server with SIGKILL
// while a streamed turn is in flight and other sessions send turns as fast
// as they can, restarts it on the same SQLite file, and checks that every
// turn and event a client was told about is there, unchanged, and that the
// turn in flight ended with stop_reason error.
func TestKillMidTurnLosesNothingAcknowledged(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL is a Unix signal")
	}
	const token = "crash-test-token"
	bin := buildServer(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	srv := startServer(t, bin, db, token)
	hc := &http.Client{Timeout: 30 * time.Second}
	call := func(base, method, path string, in, out any, hdr ...string) (int, error) {
		var body io.Reader
		if in != nil {
			data, _ := json.Marshal(in)
			body = strings.NewReader(string(data))
		}
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		if out != nil && resp.StatusCode < 300 {
			if err := json.Unmarshal(data, out); err != nil {
				return 0, fmt.Errorf("decode %s: %w", data, err)
			}
		}
		return resp.StatusCode, nil
	}
	newSession := func(agentName string) string {
		var s gen.Session
		if code, err := call(srv.url, "POST", "/v1/sessions", gen.CreateSessionRequest{Agent: agentName}, &s); code != 201 {
			t.Fatalf("create session: %d %v", code, err)
		}
		return s.SessionID
	}

	// Acknowledged turns: every answer a client received before the kill.
	var mu sync.Mutex
	acked := map[string][]gen.TurnResult{}
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for w := range 4 {
		id := newSession("echo")
		load.Add(1)
		go func() {
			defer load.Done()
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				var res gen.TurnResult
				code, err := call(srv.url, "POST", "/v1/sessions/"+id+"/turns", gen.TurnRequest{Prompt: fmt.Sprintf("worker %d turn %d", w, i)}, &res,
					"Idempotency-Key", fmt.Sprintf("w%d-%d", w, i))
				if err != nil || code != 200 {
					return // the server is gone: this turn was not acknowledged
				}
				mu.Lock()
				acked[id] = append(acked[id], res)
				mu.Unlock()
			}
		}()
	}

	// The turn in flight: three events streamed (so acknowledged), then a
	// long wait, during which the server is killed.
	slow := newSession("scripted")
	prompt, _ := json.Marshal(gen.AgentScript{Steps: []gen.ScriptStep{
		{Event: gen.ScriptEvent{Type: gen.EventTypeThinking, Content: "one"}},
		{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: "two"}},
		{DelayMs: 5, Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: "three"}},
		{DelayMs: 600000},
	}})
	req, _ := http.NewRequest("POST", srv.url+"/v1/sessions/"+slow+"/turns", strings.NewReader(string(must(json.Marshal(gen.TurnRequest{Prompt: string(prompt)})))))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := sse.NewReader(resp.Body)
	var streamed []gen.Event
	for len(streamed) < 3 {
		f, err := rd.Next()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if f.Event == "" {
			var ev gen.Event
			if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
				t.Fatal(err)
			}
			streamed = append(streamed, ev)
		}
	}
	time.Sleep(50 * time.Millisecond) // the load runs on while the turn waits

	if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	srv.cmd.Wait()
	close(stopLoad)
	load.Wait()

	after := startServer(t, bin, db, token)
	total := 0
	mu.Lock()
	defer mu.Unlock()
	for id, results := range acked {
		total += len(results)
		for _, want := range results {
			var got gen.Turn
			if code, err := call(after.url, "GET", fmt.Sprintf("/v1/sessions/%s/turns/%d", id, want.TurnIndex), nil, &got); code != 200 {
				t.Fatalf("acknowledged turn %s/%d after the restart: %d %v", id, want.TurnIndex, code, err)
			}
			if got.Status != gen.TurnStatusCompleted || got.StopReason != want.StopReason {
				t.Errorf("turn %s/%d: %s %s, acknowledged as %s", id, want.TurnIndex, got.Status, got.StopReason, want.StopReason)
			}
			if diff := cmp.Diff(want.Events, got.Events); diff != "" {
				t.Errorf("turn %s/%d events (-acknowledged +after restart):\n%s", id, want.TurnIndex, diff)
			}
		}
	}
	if total == 0 {
		t.Fatal("no turn was acknowledged before the kill: the test checked nothing")
	}
	t.Logf("%d acknowledged turns in %d sessions survived the kill", total, len(acked))

	var inFlight gen.Turn
	if code, err := call(after.url, "GET", "/v1/sessions/"+slow+"/turns/1", nil, &inFlight); code != 200 {
		t.Fatalf("the turn in flight after the restart: %d %v", code, err)
	}
	if inFlight.Status != gen.TurnStatusCompleted || inFlight.StopReason != gen.StopReasonError {
		t.Errorf("the turn in flight is %s %s, want completed error", inFlight.Status, inFlight.StopReason)
	}
	if len(inFlight.Events) != len(streamed)+1 {
		t.Fatalf("the turn in flight has %d events, want the %d streamed and an error event: %+v", len(inFlight.Events), len(streamed), inFlight.Events)
	}
	if diff := cmp.Diff(streamed, inFlight.Events[:len(streamed)]); diff != "" {
		t.Errorf("streamed events (-streamed +after restart):\n%s", diff)
	}
	if last := inFlight.Events[len(streamed)]; last.Type != gen.EventTypeError || last.Seq != streamed[len(streamed)-1].Seq+1 {
		t.Errorf("last event %+v, want an error event right after the streamed ones", last)
	}
	// The session is usable again.
	var res gen.TurnResult
	if code, err := call(after.url, "POST", "/v1/sessions/"+slow+"/turns", gen.TurnRequest{Prompt: `{"steps":[]}`}, &res); code != 200 || res.TurnIndex != 2 {
		t.Errorf("a turn after the restart: %d %v %+v", code, err, res)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
