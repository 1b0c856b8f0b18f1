package agentsession_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/retry"
	"github.com/agentsession/agentsession/sessions"
	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

const mockBase = "http://api.test/prefix"

// mockClient returns a client whose inner HTTP client is under httpmock:
// every attempt the retry layer makes reaches the mock.
func mockClient(t *testing.T, p retry.Policy, opts ...agentsession.Option) *agentsession.Client {
	t.Helper()
	inner := &http.Client{}
	httpmock.ActivateNonDefault(inner)
	t.Cleanup(func() { httpmock.DeactivateNonDefault(inner); httpmock.Reset() })
	c, err := agentsession.NewClient(append([]agentsession.Option{
		agentsession.WithBaseURL(mockBase), agentsession.WithToken(sdktest.Token),
		agentsession.WithoutEnvironment(), agentsession.WithHTTPClient(inner), agentsession.WithRetryPolicy(p),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func problemResponder(status int, code gen.ProblemCode) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, `{"type":"t","title":"x","status":`+strconv.Itoa(status)+`,"code":"`+string(code)+`","request_id":"req_m","detail":"d"}`)
		resp.Header.Set("Content-Type", "application/problem+json")
		resp.Header.Set("X-Request-Id", "req_m")
		return resp, nil
	}
}

func sessionResponder(status int) httpmock.Responder {
	return httpmock.NewJsonResponderOrPanic(status, sdktest.Session("sess_1", "active"))
}

func TestMockLastAPIErrorSurvivesRetries(t *testing.T) {
	c := mockClient(t, sdktest.FastRetry())
	httpmock.RegisterResponder("GET", mockBase+"/v1/sessions/sess_1", problemResponder(503, gen.ProblemCodeInternal))
	req, _ := gen.NewGetSessionRequest(c.BaseURL(), "sess_1")
	_, err := c.Do(context.Background(), req, &gen.Session{})
	var ae *agentsession.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if ae.StatusCode != 503 || ae.Code != gen.ProblemCodeInternal || ae.Attempts != 4 || ae.RequestID != "req_m" {
		t.Errorf("APIError = status %d code %q attempts %d request %q", ae.StatusCode, ae.Code, ae.Attempts, ae.RequestID)
	}
	if n := httpmock.GetTotalCallCount(); n != 4 {
		t.Errorf("%d attempts reached the server, want 4", n)
	}
	if ae.Err != nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call that ran out of attempts must not look interrupted: %v", err)
	}
}

func TestMockPostRetriedWithSameKeyAndBody(t *testing.T) {
	c := mockClient(t, sdktest.FastRetry())
	var mu sync.Mutex
	var keys, bodies []string
	n := 0
	httpmock.RegisterResponder("POST", mockBase+"/v1/sessions", func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		keys, bodies = append(keys, r.Header.Get("Idempotency-Key")), append(bodies, string(b))
		n++
		switch n {
		case 1:
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET} // ambiguous: maybe processed
		case 2:
			return problemResponder(503, gen.ProblemCodeInternal)(r)
		}
		return sessionResponder(201)(r)
	})
	req, _ := gen.NewCreateSessionRequest(c.BaseURL(), nil, gen.CreateSessionRequest{Agent: "echo"})
	var s gen.Session
	meta, err := c.Do(context.Background(), req, &s)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0] == "" || keys[1] != keys[0] || keys[2] != keys[0] {
		t.Errorf("Idempotency-Key per attempt = %q, want one key reused on all 3", keys)
	}
	if diff := cmp.Diff([]string{`{"agent":"echo"}`, `{"agent":"echo"}`, `{"agent":"echo"}`}, bodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
	if meta.Attempts != 3 || meta.IdempotencyKey != keys[0] || s.SessionID != "sess_1" {
		t.Errorf("Response = %+v, session %q", meta, s.SessionID)
	}
}

func TestMockTransportError(t *testing.T) {
	c := mockClient(t, sdktest.FastRetry())
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	httpmock.RegisterResponder("GET", mockBase+"/v1/health", httpmock.NewErrorResponder(refused))
	_, err := c.Health(context.Background(), agentsession.Header("X-Trace", "1"))
	var te *agentsession.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", err, err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || te.Attempts != 4 || te.Method != "GET" || te.URL != mockBase+"/v1/health" {
		t.Errorf("TransportError = %+v", te)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a refused connection must not match a context error: %v", err)
	}
	if strings.Contains(err.Error(), sdktest.Token) {
		t.Errorf("token in %q", err.Error())
	}
}

// hourPolicy waits an hour between attempts: only the context can end it.
func hourPolicy() retry.Policy {
	p := sdktest.FastRetry()
	p.MaxAttempts, p.MinWait, p.MaxWait = 10, time.Hour, time.Hour
	p.Backoff = func(time.Duration, time.Duration, int, *http.Response) time.Duration { return time.Hour }
	return p
}

func TestMockDeadlineDuringRetries(t *testing.T) {
	c := mockClient(t, hourPolicy())
	httpmock.RegisterResponder("POST", mockBase+"/v1/sessions/sess_1/pause", problemResponder(503, gen.ProblemCodeInternal))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := gen.NewPauseSessionRequest(c.BaseURL(), "sess_1", nil)
	start := time.Now()
	_, err := c.Do(ctx, req, nil)
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the call waited %v: the backoff ignored the deadline", time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to match context.DeadlineExceeded", err)
	}
	var ae *agentsession.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Code != gen.ProblemCodeInternal || ae.IdempotencyKey == "" {
		t.Fatalf("err = %v, want the last *APIError (503) too", err)
	}
	if !errors.Is(err, agentsession.ErrServer) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("err = %q", err.Error())
	}
}

func TestMockCancelDuringBackoff(t *testing.T) {
	c := mockClient(t, hourPolicy())
	httpmock.RegisterResponder("GET", mockBase+"/v1/capabilities", problemResponder(429, gen.ProblemCodeRateLimited))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	_, err := c.Capabilities(ctx, agentsession.OnAttempt(func(a retry.Attempt) {
		if a.Number == 1 {
			cancel() // during the hour-long wait that follows
		}
	}))
	if time.Since(start) > 10*time.Second {
		t.Fatalf("cancel did not end the backoff")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, agentsession.ErrRateLimited) {
		t.Errorf("err = %v, want context.Canceled and the last 429", err)
	}
}

func TestCancelledBeforeAnswer(t *testing.T) {
	c, mux := sdktest.Setup(t)
	release := make(chan struct{})
	defer close(release)
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := c.Health(ctx)
	var te *agentsession.TransportError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want a *TransportError matching context.Canceled", err, err)
	}
}

func TestAttemptTimeout(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	c, mux := sdktest.Setup(t, agentsession.WithAttemptTimeout(50*time.Millisecond))
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first || r.URL.Query().Get("slow") == "always" {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		sdktest.JSON(w, 200, map[string]any{"status": "ok", "version": "1", "time": "2026-01-01T00:00:00Z"})
	})
	var attempts []retry.Attempt
	h, err := c.Health(context.Background(), agentsession.OnAttempt(func(a retry.Attempt) { attempts = append(attempts, a) }))
	if err != nil || h.Status != "ok" {
		t.Fatalf("Health = %v, %v; want the retry after the timed-out attempt to succeed", h, err)
	}
	if len(attempts) != 2 || !errors.Is(attempts[0].Err, retry.ErrAttemptTimeout) || attempts[1].StatusCode != 200 {
		t.Errorf("attempts = %+v", attempts)
	}

	// Every attempt too slow: a TransportError that is a timeout, not the
	// caller's deadline.
	req, _ := http.NewRequest("GET", c.BaseURL()+"v1/health?slow=always", nil)
	_, err = c.Do(context.Background(), req, nil)
	var te *agentsession.TransportError
	if !errors.As(err, &te) || !errors.Is(err, retry.ErrAttemptTimeout) || !te.Timeout() || te.Attempts != 4 {
		t.Fatalf("err = %v, want a *TransportError of 4 timed-out attempts", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an attempt timeout must not look like the caller's deadline: %v", err)
	}
}

// A stream's attempt timeout ends with the response headers.
func TestAttemptTimeoutSparesStreams(t *testing.T) {
	c, mux := sdktest.Setup(t, agentsession.WithAttemptTimeout(50*time.Millisecond))
	mux.HandleFunc("GET /v1/sessions/s/turns/1/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		time.Sleep(150 * time.Millisecond)
		_, _ = w.Write([]byte("data: late\n\n"))
	})
	req, _ := gen.NewStreamTurnRequest(c.BaseURL(), "s", 1, nil)
	resp, _, err := c.Open(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "data: late\n\n" {
		t.Errorf("stream body = %q, %v", b, err)
	}
}

func TestLogsNeverContainToken(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := sdktest.Setup(t, agentsession.WithLogger(logger))
	mux.HandleFunc("GET /v1/capabilities", func(w http.ResponseWriter, r *http.Request) {
		sdktest.Problem(w, 503, gen.ProblemCodeInternal, "down; you sent "+r.Header.Get("Authorization"))
	})
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		sdktest.JSON(w, 200, map[string]any{"status": "ok", "version": "1", "time": "2026-01-01T00:00:00Z"})
	})
	_, _ = c.Capabilities(context.Background())
	_, _ = c.Health(context.Background())
	out := buf.String()
	if strings.Contains(out, sdktest.Token) {
		t.Errorf("logs contain the token:\n%s", out)
	}
	for _, want := range []string{"agentsession call", "retrying HTTP request", "status=200", "attempts=4"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}

// With a Doer that is not an *http.Client, calls still go through it and
// are retried.
type countingDoer struct {
	mu sync.Mutex
	n  int
	h  http.Handler
}

func (d *countingDoer) Do(r *http.Request) (*http.Response, error) {
	d.mu.Lock()
	d.n++
	d.mu.Unlock()
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func TestDoer(t *testing.T) {
	n := 0
	d := &countingDoer{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n++; n < 3 {
			sdktest.Problem(w, 502, gen.ProblemCodeInternal, "proxy")
			return
		}
		sdktest.JSON(w, 200, map[string]any{"status": "ok", "version": "1", "time": "2026-01-01T00:00:00Z"})
	})}
	c, err := agentsession.NewClient(agentsession.WithBaseURL("http://doer.test"), agentsession.WithDoer(d),
		agentsession.WithRetryPolicy(sdktest.FastRetry()), agentsession.WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.n != 3 {
		t.Errorf("doer saw %d attempts, want 3", d.n)
	}
}

func TestWithoutRetries(t *testing.T) {
	c := mockClient(t, sdktest.FastRetry(), agentsession.WithoutRetries())
	httpmock.RegisterResponder("GET", mockBase+"/v1/health", problemResponder(503, gen.ProblemCodeInternal))
	_, err := c.Health(context.Background())
	if !errors.Is(err, agentsession.ErrServer) || httpmock.GetTotalCallCount() != 1 {
		t.Errorf("err = %v after %d attempts, want one attempt", err, httpmock.GetTotalCallCount())
	}
}

func TestUndecodableSuccess(t *testing.T) {
	c := mockClient(t, sdktest.FastRetry())
	httpmock.RegisterResponder("GET", mockBase+"/v1/health", httpmock.NewStringResponder(200, "<html>not json"))
	_, err := c.Health(context.Background())
	if !errors.Is(err, agentsession.ErrUnexpectedResponse) {
		t.Errorf("err = %v, want ErrUnexpectedResponse", err)
	}
}

// 502 agent_start_failed is final: the server already waited for the agent,
// so the SDK gives the typed error after one attempt although the next
// attempt would succeed. Another 502 on the same call is retried.
func TestAgentStartFailedIsNotRetried(t *testing.T) {
	const detail = `agent "hangs" did not answer initialize within 30s`
	for _, tt := range []struct {
		name         string
		first        httpmock.Responder
		wantAttempts int
	}{
		{string(gen.ProblemCodeAgentStartFailed), func(*http.Request) (*http.Response, error) {
			resp := httpmock.NewStringResponse(502, `{"type":"about:blank","title":"Agent start failed","status":502,`+
				`"code":"agent_start_failed","detail":"agent \"hangs\" did not answer initialize within 30s","request_id":"req_a"}`)
			resp.Header.Set("Content-Type", "application/problem+json")
			return resp, nil
		}, 1},
		{"another code", problemResponder(502, gen.ProblemCodeInternal), 2},
		{"no problem", httpmock.NewStringResponder(502, "<html>bad gateway</html>"), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mockClient(t, sdktest.FastRetry())
			n := 0
			httpmock.RegisterResponder("POST", mockBase+"/v1/sessions", func(r *http.Request) (*http.Response, error) {
				n++
				if n == 1 {
					return tt.first(r)
				}
				return sessionResponder(201)(r)
			})
			s, err := sessions.New(c).NewSession(context.Background(), sessions.CreateParams{Agent: "hangs"})
			if n != tt.wantAttempts {
				t.Errorf("%d attempts reached the server, want %d", n, tt.wantAttempts)
			}
			if tt.wantAttempts == 2 {
				if err != nil || s.ID() != "sess_1" {
					t.Errorf("NewSession = %v, %v; want the session after a retry", s, err)
				}
				return
			}
			var ae *agentsession.APIError
			if !errors.As(err, &ae) || !errors.Is(err, agentsession.ErrAgentStartFailed) || !errors.Is(err, agentsession.ErrServer) {
				t.Fatalf("err = %v, want an *APIError matching ErrAgentStartFailed and ErrServer", err)
			}
			if ae.StatusCode != 502 || ae.Code != gen.ProblemCodeAgentStartFailed || ae.Detail != detail || ae.Attempts != 1 || ae.RequestID != "req_a" {
				t.Errorf("APIError = status %d code %q detail %q attempts %d request %q", ae.StatusCode, ae.Code, ae.Detail, ae.Attempts, ae.RequestID)
			}
		})
	}
}
