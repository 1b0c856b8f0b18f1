package refserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/store"
)

func TestHealthNeedsNoToken(t *testing.T) {
	_, c := start(t)
	c.token = ""
	var h gen.Health
	c.do("GET", "/v1/health", nil).want(t, http.StatusOK).decode(t, &h)
	if h.Status != gen.HealthStatusOk || h.Version != refserver.Version || time.Since(h.Time) > time.Minute {
		t.Errorf("health = %+v", h)
	}
}

func TestCapabilitiesReportConfig(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) {
		cfg.MaxBodyBytes = 4096
		cfg.MaxFileBytes = 8192
		cfg.MaxChildren = 2
		cfg.MaxDepth = 3
		cfg.MaxQueuedTurns = 4
		cfg.MaxTurnTimeout = 5 * time.Second
		cfg.StallAfter = 6 * time.Second
	})
	var caps gen.Capabilities
	c.do("GET", "/v1/capabilities", nil).want(t, http.StatusOK).decode(t, &caps)
	want := gen.Limits{MaxBodyBytes: 4096, MaxFileBytes: 8192, DefaultPageSize: 20, MaxPageSize: 100,
		MaxChildren: 2, MaxDepth: 3, MaxQueuedTurns: 4, MaxTurnTimeoutMs: 5000, StallAfterMs: 6000}
	if diff := cmp.Diff(want, caps.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	wantFeatures := gen.Features{Streaming: true, Resume: true, Files: true, Lifecycle: true, Children: true,
		Replay: true, Idempotency: true, Permissions: true, SessionStream: true,
		BusyPolicies: []gen.BusyPolicy{"reject", "enqueue", "interrupt", "steer"}}
	if diff := cmp.Diff(wantFeatures, caps.Features); diff != "" {
		t.Errorf("features (-want +got):\n%s", diff)
	}
	if caps.APIVersion != "v1" || caps.Server.Name != refserver.ServerName {
		t.Errorf("api_version %q, server %+v", caps.APIVersion, caps.Server)
	}
}

func TestAuth(t *testing.T) {
	srv, _ := start(t)
	tests := []struct {
		name, authorization string
	}{
		{"missing", ""},
		{"unknown token", "Bearer not-a-token"},
		{"wrong scheme", "Basic " + srv.Tokens[0]},
		{"no token", "Bearer "},
		{"token without scheme", srv.Tokens[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv, 0)
			c.token = ""
			r := c.do("GET", "/v1/sessions", nil, header{"Authorization", tt.authorization}).want(t, http.StatusUnauthorized, gen.ProblemCodeUnauthorized)
			if got := r.Header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
		})
	}
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		c := newClient(t, srv, 0)
		c.token = ""
		c.do("GET", "/v1/sessions", nil, header{"Authorization", "bearer " + srv.Tokens[0]}).want(t, http.StatusOK)
	})
}

func TestRequestID(t *testing.T) {
	_, c := start(t)
	long := strings.Repeat("a", 129)
	tests := []struct {
		name, sent string
		echoed     bool
		path       string
	}{
		{"valid is echoed", "my-req.01_X", true, "/v1/capabilities"},
		{"echoed on errors", "err-req", true, "/v1/sessions/nope"},
		{"echoed on 404 routes", "route-req", true, "/v1/nowhere"},
		{"128 chars are fine", long[:128], true, "/v1/capabilities"},
		{"too long is replaced", long, false, "/v1/capabilities"},
		{"bad characters are replaced", "a b/c", false, "/v1/capabilities"},
		{"none is generated", "", false, "/v1/capabilities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do("GET", tt.path, nil, header{"X-Request-Id", tt.sent})
			got := r.Header.Get("X-Request-Id")
			if tt.echoed && got != tt.sent {
				t.Errorf("X-Request-Id = %q, want %q", got, tt.sent)
			}
			if !tt.echoed && (got == tt.sent || !strings.HasPrefix(got, "req_")) {
				t.Errorf("X-Request-Id = %q, want a generated req_ id", got)
			}
		})
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/nothing", http.StatusNotFound, ""},
		{"GET", "/", http.StatusNotFound, ""},
		{"GET", "/v2/sessions", http.StatusNotFound, ""},
		{"GET", "/v1/sessions/" + id + "/nothing", http.StatusNotFound, ""},
		{"GET", "/v1/sessions/", http.StatusNotFound, ""},
		{"GET", "/v1//sessions", http.StatusNotFound, ""},
		{"GET", "/v1/sessions/a/../b", http.StatusNotFound, ""},
		{"PUT", "/v1/sessions/" + id, http.StatusMethodNotAllowed, "GET, DELETE"},
		{"PATCH", "/v1/sessions", http.StatusMethodNotAllowed, "GET, POST"},
		{"DELETE", "/v1/health", http.StatusMethodNotAllowed, "GET"},
		{"GET", "/v1/sessions/" + id + "/context", http.StatusMethodNotAllowed, "PATCH"},
		{"GET", "/v1/sessions/" + id + "/pause", http.StatusMethodNotAllowed, "POST"},
		{"POST", "/v1/files/file_x", http.StatusMethodNotAllowed, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := c.do(tt.method, tt.path, nil)
			code := gen.ProblemCodeNotFound
			if tt.status == http.StatusMethodNotAllowed {
				code = gen.ProblemCodeMethodNotAllowed
			}
			r.want(t, tt.status, code)
			if got := r.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

// syncBuffer is a log sink safe for concurrent writers.
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

func TestLogsOneLinePerRequestWithoutTokens(t *testing.T) {
	var logs syncBuffer
	srv, c := start(t, func(cfg *refserver.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	id := c.newSession("echo")
	c.sendTurn(id, gen.TurnRequest{Prompt: "hello"})
	c.do("GET", "/v1/sessions/"+id, nil, header{"X-Request-Id", "log-check-1"})
	c.do("GET", "/v1/sessions", nil, header{"Authorization", "Bearer wrong-" + srv.Tokens[1]})
	c.do("POST", "/v1/sessions", `{"agent":`+strconv.Quote(srv.Tokens[1])+`}`)

	out := logs.String()
	for _, tok := range srv.Tokens {
		if strings.Contains(out, tok) {
			t.Fatalf("the logs contain a token:\n%s", out)
		}
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" && rec["request_id"] == "log-check-1" {
			found = true
			want := map[string]any{"method": "GET", "route": "GET /v1/sessions/{session_id}", "status": float64(200),
				"tenant": refserver.TenantID(srv.Tokens[0])}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("log %s = %v, want %v", k, rec[k], v)
				}
			}
			if _, ok := rec["duration_ms"].(float64); !ok {
				t.Errorf("log line has no duration_ms: %v", rec)
			}
		}
	}
	if !found {
		t.Fatalf("no request log line for log-check-1:\n%s", out)
	}
}

// panicStore fails every read with a panic once armed, to exercise the
// recover middleware.
type panicStore struct {
	store.Store
	armed *atomic.Bool
}

func (p panicStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if p.armed.Load() {
		panic("store exploded")
	}
	return p.Store.View(ctx, fn)
}

func TestPanicIsAProblem(t *testing.T) {
	var logs syncBuffer
	armed := new(atomic.Bool)
	srv, _ := start(t, func(cfg *refserver.Config) {
		cfg.Store = panicStore{store.NewMemory(), armed}
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	armed.Store(true)
	req, _ := http.NewRequest("GET", srv.URL+"/v1/sessions/sess_1", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var p gen.Problem
	_ = json.Unmarshal(data, &p)
	if resp.StatusCode != 500 || p.Code != gen.ProblemCodeInternal || p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-Id") {
		t.Fatalf("status %d, body %s, X-Request-Id %q", resp.StatusCode, data, resp.Header.Get("X-Request-Id"))
	}
	if strings.Contains(string(data), "exploded") {
		t.Errorf("the panic leaks into the answer: %s", data)
	}
	if !strings.Contains(logs.String(), "store exploded") {
		t.Errorf("the panic is not logged:\n%s", logs.String())
	}
}

func TestRateLimitPerTenant(t *testing.T) {
	srv, a := start(t, func(cfg *refserver.Config) {
		cfg.RateLimit = 0.5 // one token every 2 s: the test never refills
		cfg.RateBurst = 2
	})
	b := newClient(t, srv, 1)
	a.do("GET", "/v1/sessions", nil).want(t, http.StatusOK)
	a.do("GET", "/v1/sessions", nil).want(t, http.StatusOK)
	r := a.do("GET", "/v1/sessions", nil).want(t, http.StatusTooManyRequests, gen.ProblemCodeRateLimited)
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After = %q, want 1 or 2 seconds", r.Header.Get("Retry-After"))
	}
	b.do("GET", "/v1/sessions", nil).want(t, http.StatusOK) // another tenant has its own bucket
	a.token = ""
	a.do("GET", "/v1/health", nil).want(t, http.StatusOK) // probes are not limited
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  refserver.Config
		want string
	}{
		{"no tokens", refserver.Config{}, "no bearer token"},
		{"empty token", refserver.Config{Tokens: []string{"a", ""}}, "token 2 is empty"},
		{"bad timeout", refserver.Config{Tokens: []string{"a"}, MaxTurnTimeout: time.Microsecond}, "MaxTurnTimeout"},
		{"bad rate", refserver.Config{Tokens: []string{"a"}, RateLimit: -1}, "RateLimit"},
		{"missing scripts dir", refserver.Config{Tokens: []string{"a"}, ScriptsDir: "/nonexistent/scripts"}, "scripts directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := refserver.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestConfigKeepsNoTokens(t *testing.T) {
	srv, _ := start(t)
	if toks := srv.Server.Config().Tokens; toks != nil {
		t.Errorf("Config().Tokens = %q, want nil", toks)
	}
}

func TestOddMethodsAndTargets(t *testing.T) {
	srv, _ := start(t)
	for _, raw := range []string{
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nAuthorization: Bearer " + srv.Tokens[0] + "\r\n\r\n",
		"BREW /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + srv.Tokens[0] + "\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", srv.HTTP.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, raw)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatalf("%q: %v", strings.SplitN(raw, "\r", 2)[0], err)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%q: status %d", strings.SplitN(raw, "\r", 2)[0], resp.StatusCode)
		}
	}
}
