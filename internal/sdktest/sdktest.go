// Package sdktest holds test helpers shared by the SDK's packages: a fake
// server mounted under a base-path prefix (go-github's setup style) and a
// fast retry policy.
package sdktest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/retry"
)

// Token is the bearer token of Setup's client.
const Token = "sdktest-secret-token-7f3a9c"

// BasePath is the prefix the fake server is mounted under, so every test
// also checks that the client keeps the base URL's path.
const BasePath = "/prefix"

// FastRetry retries like the default policy, with waits of a few
// milliseconds and its own budget.
func FastRetry() retry.Policy {
	p := retry.DefaultPolicy()
	p.MinWait, p.MaxWait, p.MaxServerDelay = time.Millisecond, 5*time.Millisecond, 5*time.Millisecond
	p.Budget = retry.NewBudget(10_000)
	return p
}

// Setup starts a server whose mux answers under BasePath and returns a
// client for it (token Token, FastRetry, no environment) and the mux, on
// which the test registers API paths such as "POST /v1/sessions". A request
// outside BasePath fails the test.
func Setup(t testing.TB, opts ...agentsession.Option) (*agentsession.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle(BasePath+"/", http.StripPrefix(BasePath, mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	all := append([]agentsession.Option{
		agentsession.WithBaseURL(srv.URL + BasePath),
		agentsession.WithToken(Token),
		agentsession.WithoutEnvironment(),
		agentsession.WithRetryPolicy(FastRetry()),
	}, opts...)
	c, err := agentsession.NewClient(all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux
}

// JSON writes v as a JSON answer with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_test")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Problem writes an RFC 9457 problem answer.
func Problem(w http.ResponseWriter, status int, code gen.ProblemCode, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Request-Id", "req_test")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://agentsession.dev/problems/" + string(code), "title": http.StatusText(status),
		"status": status, "detail": detail, "code": code, "request_id": "req_test",
	})
}

// Session returns a minimal valid session document.
func Session(id, status string) map[string]any {
	return map[string]any{
		"session_id": id, "agent": "echo", "status": status, "activity": "idle",
		"meta": map[string]any{}, "context_summary": map[string]any{}, "depth": 0,
		"turn_count": 0, "action_count": 0, "artifact_count": 0, "last_event_seq": 0,
		"created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
	}
}
