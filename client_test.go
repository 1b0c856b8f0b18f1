package agentsession_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/retry"
	"github.com/google/go-cmp/cmp"
)

func TestNewClientOptions(t *testing.T) {
	bad := retry.DefaultPolicy()
	bad.MaxAttempts = -1
	tests := []struct {
		name    string
		env     map[string]string
		opts    []agentsession.Option
		wantURL string
		wantErr string // substring; "" = success
	}{
		{name: "base URL option", opts: []agentsession.Option{agentsession.WithBaseURL("http://h:1")}, wantURL: "http://h:1/"},
		{name: "base path kept", opts: []agentsession.Option{agentsession.WithBaseURL("https://h/api/v")}, wantURL: "https://h/api/v/"},
		{name: "env fallback", env: map[string]string{"AGENTSESSION_BASE_URL": "http://from-env:9"}, wantURL: "http://from-env:9/"},
		{name: "option beats env", env: map[string]string{"AGENTSESSION_BASE_URL": "http://from-env"},
			opts: []agentsession.Option{agentsession.WithBaseURL("http://opt")}, wantURL: "http://opt/"},
		{name: "without environment", env: map[string]string{"AGENTSESSION_BASE_URL": "http://from-env"},
			opts: []agentsession.Option{agentsession.WithoutEnvironment()}, wantErr: "no base URL"},
		{name: "no base URL", wantErr: "no base URL"},
		{name: "bad scheme", opts: []agentsession.Option{agentsession.WithBaseURL("ftp://h")}, wantErr: "scheme"},
		{name: "relative", opts: []agentsession.Option{agentsession.WithBaseURL("/v1")}, wantErr: "scheme"},
		{name: "no host", opts: []agentsession.Option{agentsession.WithBaseURL("http://")}, wantErr: "no host"},
		{name: "credentials in URL", opts: []agentsession.Option{agentsession.WithBaseURL("http://u:secretpw@h")}, wantErr: "credentials"},
		{name: "query", opts: []agentsession.Option{agentsession.WithBaseURL("http://h/?token=x")}, wantErr: "no query"},
		{name: "ends in /v1", opts: []agentsession.Option{agentsession.WithBaseURL("https://h/api/v1")}, wantErr: `drop the trailing /v1 (use "https://h/api")`},
		{name: "ends in /v1/", opts: []agentsession.Option{agentsession.WithBaseURL("http://h:8080/v1/")}, wantErr: `drop the trailing /v1 (use "http://h:8080")`},
		{name: "v1 inside the path kept", opts: []agentsession.Option{agentsession.WithBaseURL("https://h/v1x/")}, wantURL: "https://h/v1x/"},
		{name: "unparsable", opts: []agentsession.Option{agentsession.WithBaseURL("http://h/%zz")}, wantErr: "invalid base URL"},
		{name: "negative attempt timeout", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithAttemptTimeout(-time.Second)}, wantErr: "negative"},
		{name: "nil http client", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithHTTPClient(nil)}, wantErr: "nil *http.Client"},
		{name: "nil doer", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithDoer(nil)}, wantErr: "nil Doer"},
		{name: "nil logger", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithLogger(nil)}, wantErr: "nil *slog.Logger"},
		{name: "nil option", opts: []agentsession.Option{nil}, wantErr: "nil Option"},
		{name: "user agent newline", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithUserAgent("a\r\nX-Evil: 1")}, wantErr: "control character"},
		{name: "token newline", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithToken("t\n")}, wantErr: "token"},
		{name: "bad retry policy", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithRetryPolicy(bad)}, wantErr: "MaxAttempts"},
		{name: "empty record dir", opts: []agentsession.Option{agentsession.WithBaseURL("http://h"), agentsession.WithTurnRecord("")}, wantErr: "empty directory"},
		{name: "all valid options", opts: []agentsession.Option{
			agentsession.WithBaseURL("http://h"), agentsession.WithToken("tok"), agentsession.WithHTTPClient(&http.Client{}),
			agentsession.WithUserAgent("app/1"), agentsession.WithLogger(slog.New(slog.DiscardHandler)),
			agentsession.WithAttemptTimeout(time.Second), agentsession.WithRetryPolicy(retry.DefaultPolicy()),
			agentsession.WithTurnRecord(t.TempDir()), agentsession.WithoutRetries(),
		}, wantURL: "http://h/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AGENTSESSION_BASE_URL", tt.env["AGENTSESSION_BASE_URL"])
			t.Setenv("AGENTSESSION_TOKEN", tt.env["AGENTSESSION_TOKEN"])
			c, err := agentsession.NewClient(tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewClient error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secretpw") {
					t.Errorf("error leaks the URL's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			if diff := cmp.Diff(tt.wantURL, c.BaseURL()); diff != "" {
				t.Errorf("BaseURL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	t.Setenv("AGENTSESSION_TOKEN", "env-token-123456")
	var got string
	c0, mux := sdktest.Setup(t) // c0 ignores the environment; c reads it
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		sdktest.JSON(w, 200, map[string]any{"status": "ok", "version": "1", "time": "2026-01-01T00:00:00Z"})
	})
	c, err := agentsession.NewClient(agentsession.WithBaseURL(c0.BaseURL()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer env-token-123456" {
		t.Errorf("Authorization = %q, want the environment's token", got)
	}
}

func TestHeaders(t *testing.T) {
	c, mux := sdktest.Setup(t, agentsession.WithUserAgent("billing-bot/1.2"))
	var got []http.Header
	record := func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Clone())
		sdktest.JSON(w, 200, map[string]any{"status": "ok", "version": "1", "time": "2026-01-01T00:00:00Z"})
	}
	mux.HandleFunc("GET /v1/health", record)
	mux.HandleFunc("POST /v1/sessions", record)
	ctx := context.Background()

	if _, err := c.Health(ctx, agentsession.RequestID("my-req-1")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", c.BaseURL()+"v1/sessions", strings.NewReader(`{"agent":"echo"}`))
	if _, err := c.Do(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", c.BaseURL()+"v1/sessions", strings.NewReader(`{"agent":"echo"}`))
	if _, err := c.Do(ctx, req, nil, agentsession.IdempotencyKey("caller-key")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d requests, want 3", len(got))
	}
	for i, h := range got {
		if h.Get("Authorization") != "Bearer "+sdktest.Token {
			t.Errorf("request %d: Authorization = %q", i, h.Get("Authorization"))
		}
		if want := "agentsession-go/" + agentsession.Version + " billing-bot/1.2"; h.Get("User-Agent") != want {
			t.Errorf("request %d: User-Agent = %q, want %q", i, h.Get("User-Agent"), want)
		}
		if h.Get("Accept") != "application/json" {
			t.Errorf("request %d: Accept = %q", i, h.Get("Accept"))
		}
	}
	if got[0].Get("Idempotency-Key") != "" {
		t.Errorf("GET carried an Idempotency-Key")
	}
	if got[0].Get("X-Request-Id") != "my-req-1" {
		t.Errorf("X-Request-Id = %q", got[0].Get("X-Request-Id"))
	}
	if k := got[1].Get("Idempotency-Key"); len(k) < 20 {
		t.Errorf("POST Idempotency-Key = %q, want a generated random key", k)
	}
	if k := got[2].Get("Idempotency-Key"); k != "caller-key" {
		t.Errorf("POST Idempotency-Key = %q, want the caller's", k)
	}
}

func TestIdempotencyKeysAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := agentsession.NewIdempotencyKey()
		if seen[k] || len(k) < 20 {
			t.Fatalf("key %q repeated or too short", k)
		}
		seen[k] = true
	}
}

func TestGenClientSharesTheStack(t *testing.T) {
	c, mux := sdktest.Setup(t)
	var auth, key string
	mux.HandleFunc("POST /v1/sessions/{id}/pause", func(w http.ResponseWriter, r *http.Request) {
		auth, key = r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key")
		sdktest.Problem(w, 409, gen.ProblemCodeInvalidTransition, "A completed session cannot be paused.")
	})
	resp, err := c.Gen().PauseSessionWithResponse(context.Background(), "sess_1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer "+sdktest.Token || key == "" {
		t.Errorf("generated client request: Authorization %q, Idempotency-Key %q", auth, key)
	}
	if resp.ApplicationProblemJSON409 == nil || resp.ApplicationProblemJSON409.Code != gen.ProblemCodeInvalidTransition {
		t.Errorf("generated client did not decode the problem: %+v", resp)
	}
	// The raw client + CheckResponse gives the typed error.
	raw, err := c.HTTPClient().Post(c.BaseURL()+"v1/sessions/sess_1/pause", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckResponse(raw); !errorsIs(err, agentsession.ErrInvalidTransition) {
		t.Errorf("CheckResponse = %v, want ErrInvalidTransition", err)
	}
}
