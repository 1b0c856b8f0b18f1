package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// The tokens the fake server accepts.
const (
	fakeToken  = "fake-secret-token-1"
	fakeToken2 = "fake-secret-token-2"
)

// fakeServer is a tiny server that answers getHealth and getCapabilities the
// way the contract says (so Run's preflight passes) and hands every other
// request to extra. Tests use it to feed the harness exact answers.
func fakeServer(t *testing.T, extra http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, gen.Health{Status: gen.HealthStatusOk, Version: "test", Time: time.Now()})
	})
	mux.HandleFunc("GET /v1/capabilities", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "Bearer "+fakeToken && a != "Bearer "+fakeToken2 {
			writeProblem(w, http.StatusUnauthorized, gen.ProblemCodeUnauthorized)
			return
		}
		writeJSON(w, http.StatusOK, gen.Capabilities{
			APIVersion: "v1",
			Server:     gen.ServerInfo{Name: "fake", Version: "0"},
			Agents:     []gen.AgentInfo{{Name: "echo", Kind: gen.AgentKindEcho}, {Name: "scripted", Kind: gen.AgentKindScripted}},
			Features:   gen.Features{BusyPolicies: []gen.BusyPolicy{gen.BusyPolicyReject}},
			Limits:     gen.Limits{MaxBodyBytes: 1 << 20, MaxFileBytes: 1 << 20, DefaultPageSize: 20, MaxPageSize: 100, MaxChildren: 5, MaxDepth: 1, MaxQueuedTurns: 4, MaxTurnTimeoutMs: 60000, StallAfterMs: 60000},
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if extra == nil {
			writeProblem(w, http.StatusNotFound, gen.ProblemCodeNotFound)
			return
		}
		extra(w, r)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_fake")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, code gen.ProblemCode) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(gen.Problem{Type: "about:blank", Title: string(code), Status: int32(status), Code: code, RequestID: "req_fake"})
}

// withCatalogue replaces the catalogue for one test.
func withCatalogue(t *testing.T, checks ...*check) {
	t.Helper()
	saved := catalogue
	catalogue = checks
	t.Cleanup(func() { catalogue = saved })
}

// testRun runs the (replaced) catalogue against srv and fails the test on a run error.
func testRun(t *testing.T, srv *httptest.Server, mutate func(*Config)) *Result {
	t.Helper()
	cfg := Config{BaseURL: srv.URL, Token: fakeToken, Concurrency: 2}
	if mutate != nil {
		mutate(&cfg)
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}
