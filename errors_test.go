package agentsession_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

var sentinels = map[string]error{
	"ErrAuth": agentsession.ErrAuth, "ErrNotFound": agentsession.ErrNotFound,
	"ErrConflict": agentsession.ErrConflict, "ErrInvalidTransition": agentsession.ErrInvalidTransition,
	"ErrBusy": agentsession.ErrBusy, "ErrSessionPaused": agentsession.ErrSessionPaused,
	"ErrSessionEnded": agentsession.ErrSessionEnded, "ErrSpawnLimit": agentsession.ErrSpawnLimit,
	"ErrValidation": agentsession.ErrValidation, "ErrTooLarge": agentsession.ErrTooLarge, "ErrRateLimited": agentsession.ErrRateLimited,
	"ErrServer":             agentsession.ErrServer,
	"ErrPermissionResolved": agentsession.ErrPermissionResolved, "ErrTurnEnded": agentsession.ErrTurnEnded,
	"ErrUnknownOption": agentsession.ErrUnknownOption, "ErrUnsupportedBusyPolicy": agentsession.ErrUnsupportedBusyPolicy,
	"ErrInvalidAgentOptions": agentsession.ErrInvalidAgentOptions, "ErrAgentStartFailed": agentsession.ErrAgentStartFailed,
}

// matching lists the sentinels err matches.
func matching(err error) []string {
	var out []string
	for name, s := range sentinels {
		if errors.Is(err, s) {
			out = append(out, name)
		}
	}
	return sortStrings(out)
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestStatusToTypedError(t *testing.T) {
	type answer struct {
		status      int
		code        gen.ProblemCode // "" = no problem body
		body        string          // raw body when code == ""
		retryAfter  string
		contentType string
	}
	tests := []struct {
		name         string
		answer       answer
		want         []string // sentinels, sorted
		wantAttempts int
		wantText     string // substring of Error()
		check        func(t *testing.T, e *agentsession.APIError)
	}{
		{name: "400 invalid_request", answer: answer{status: 400, code: gen.ProblemCodeInvalidRequest}, want: []string{"ErrValidation"}, wantAttempts: 1},
		{name: "400 invalid_cursor", answer: answer{status: 400, code: gen.ProblemCodeInvalidCursor}, want: []string{"ErrValidation"}, wantAttempts: 1},
		{name: "401", answer: answer{status: 401, code: gen.ProblemCodeUnauthorized}, want: []string{"ErrAuth"}, wantAttempts: 1},
		{name: "403 without problem", answer: answer{status: 403, body: "forbidden by proxy", contentType: "text/plain"}, want: []string{"ErrAuth"}, wantAttempts: 1, wantText: `403 Forbidden: body "forbidden by proxy"`},
		{name: "404", answer: answer{status: 404, code: gen.ProblemCodeNotFound}, want: []string{"ErrNotFound"}, wantAttempts: 1},
		{name: "409 invalid_transition", answer: answer{status: 409, code: gen.ProblemCodeInvalidTransition}, want: []string{"ErrConflict", "ErrInvalidTransition"}, wantAttempts: 1},
		{name: "409 turn_in_progress", answer: answer{status: 409, code: gen.ProblemCodeTurnInProgress}, want: []string{"ErrBusy", "ErrConflict"}, wantAttempts: 1},
		{name: "409 turn_queue_full", answer: answer{status: 409, code: gen.ProblemCodeTurnQueueFull}, want: []string{"ErrBusy", "ErrConflict"}, wantAttempts: 1},
		{name: "409 session_paused", answer: answer{status: 409, code: gen.ProblemCodeSessionPaused}, want: []string{"ErrConflict", "ErrSessionPaused"}, wantAttempts: 1},
		{name: "409 session_ended", answer: answer{status: 409, code: gen.ProblemCodeSessionEnded}, want: []string{"ErrConflict", "ErrSessionEnded"}, wantAttempts: 1},
		{name: "409 spawn_limit_exceeded", answer: answer{status: 409, code: gen.ProblemCodeSpawnLimitExceeded}, want: []string{"ErrConflict", "ErrSpawnLimit"}, wantAttempts: 1},
		{name: "409 permission_resolved", answer: answer{status: 409, code: gen.ProblemCodePermissionResolved}, want: []string{"ErrConflict", "ErrPermissionResolved"}, wantAttempts: 1},
		{name: "409 turn_ended", answer: answer{status: 409, code: gen.ProblemCodeTurnEnded}, want: []string{"ErrConflict", "ErrTurnEnded"}, wantAttempts: 1},
		{name: "422 unknown_option", answer: answer{status: 422, code: gen.ProblemCodeUnknownOption}, want: []string{"ErrUnknownOption", "ErrValidation"}, wantAttempts: 1},
		{name: "422 unsupported_busy_policy", answer: answer{status: 422, code: gen.ProblemCodeUnsupportedBusyPolicy}, want: []string{"ErrUnsupportedBusyPolicy", "ErrValidation"}, wantAttempts: 1},
		{name: "422 invalid_agent_options", answer: answer{status: 422, code: gen.ProblemCodeInvalidAgentOptions}, want: []string{"ErrInvalidAgentOptions", "ErrValidation"}, wantAttempts: 1},
		{name: "408 request_timeout retried then kept", answer: answer{status: 408, code: gen.ProblemCodeRequestTimeout}, want: nil, wantAttempts: 4},
		{name: "409 unknown code by status", answer: answer{status: 409, code: gen.ProblemCode("brand_new_code")}, want: []string{"ErrConflict"}, wantAttempts: 1},
		{name: "413 payload_too_large", answer: answer{status: 413, code: gen.ProblemCodePayloadTooLarge}, want: []string{"ErrTooLarge", "ErrValidation"}, wantAttempts: 1},
		{name: "413 from a proxy", answer: answer{status: 413, body: "<h1>too big</h1>", contentType: "text/html"}, want: []string{"ErrTooLarge", "ErrValidation"}, wantAttempts: 1},
		{name: "415 unsupported_media_type", answer: answer{status: 415, code: gen.ProblemCodeUnsupportedMediaType}, want: []string{"ErrValidation"}, wantAttempts: 1},
		{name: "422 unknown_agent", answer: answer{status: 422, code: gen.ProblemCodeUnknownAgent}, want: []string{"ErrValidation"}, wantAttempts: 1},
		{name: "422 idempotency_key_reused", answer: answer{status: 422, code: gen.ProblemCodeIdempotencyKeyReused}, want: []string{"ErrValidation"}, wantAttempts: 1},
		{name: "429 with Retry-After", answer: answer{status: 429, code: gen.ProblemCodeRateLimited, retryAfter: "7"}, want: []string{"ErrRateLimited"}, wantAttempts: 4,
			check: func(t *testing.T, e *agentsession.APIError) {
				if e.RetryAfter != 7*time.Second {
					t.Errorf("RetryAfter = %v, want 7s", e.RetryAfter)
				}
				if d, ok := agentsession.RetryAfter(e); !ok || d != 7*time.Second {
					t.Errorf("agentsession.RetryAfter = %v, %v", d, ok)
				}
			}},
		{name: "429 with a Retry-After beyond int64", answer: answer{status: 429, code: gen.ProblemCodeRateLimited, retryAfter: "99999999999999999999"},
			want: []string{"ErrRateLimited"}, wantAttempts: 4,
			check: func(t *testing.T, e *agentsession.APIError) {
				if e.RetryAfter != time.Duration(math.MaxInt64) {
					t.Errorf("RetryAfter = %v, want the longest duration (capped, not ignored)", e.RetryAfter)
				}
			}},
		{name: "500 retried then kept", answer: answer{status: 500, code: gen.ProblemCodeInternal}, want: []string{"ErrServer"}, wantAttempts: 4},
		{name: "502 agent_start_failed not retried", answer: answer{status: 502, code: gen.ProblemCodeAgentStartFailed}, want: []string{"ErrAgentStartFailed", "ErrServer"}, wantAttempts: 1,
			wantText: "502 agent_start_failed: detail of agent_start_failed",
			check: func(t *testing.T, e *agentsession.APIError) {
				if e.Temporary() {
					t.Error("Temporary() = true for agent_start_failed; the server already waited")
				}
			}},
		{name: "502 internal retried then kept", answer: answer{status: 502, code: gen.ProblemCodeInternal}, want: []string{"ErrServer"}, wantAttempts: 4,
			check: func(t *testing.T, e *agentsession.APIError) {
				if !e.Temporary() {
					t.Error("Temporary() = false for 502 internal")
				}
			}},
		{name: "501 not retried", answer: answer{status: 501, body: "", contentType: "text/plain"}, want: []string{"ErrServer"}, wantAttempts: 1, wantText: "501 Not Implemented: empty body"},
		{name: "502 html body", answer: answer{status: 502, body: "<html>" + strings.Repeat("bad gateway ", 100) + "</html>", contentType: "text/html"},
			want: []string{"ErrServer"}, wantAttempts: 4, wantText: `502 Bad Gateway: body "<html>bad gateway`,
			check: func(t *testing.T, e *agentsession.APIError) {
				if !strings.HasPrefix(string(e.Body), "<html>") || len(e.Body) != 6+1200+7 {
					t.Errorf("Body = %d bytes, want the whole raw body", len(e.Body))
				}
				if len(e.Error()) > 400 {
					t.Errorf("Error() is %d characters; the snippet must be bounded", len(e.Error()))
				}
			}},
		{name: "418 empty", answer: answer{status: 418}, want: nil, wantAttempts: 1, wantText: "418 I'm a teapot: empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// httpmock on the inner HTTP client: every attempt the retry
			// layer makes gets this answer.
			c := mockClient(t, sdktest.FastRetry())
			httpmock.RegisterResponder("GET", mockBase+"/v1/capabilities", func(r *http.Request) (*http.Response, error) {
				var resp *http.Response
				if tt.answer.code != "" {
					code := string(tt.answer.code)
					resp = httpmock.NewStringResponse(tt.answer.status, `{"type":"https://agentsession.dev/problems/`+code+
						`","title":"`+http.StatusText(tt.answer.status)+`","status":`+strconv.Itoa(tt.answer.status)+
						`,"detail":"detail of `+code+`","code":"`+code+`","request_id":"req_test"}`)
					resp.Header.Set("Content-Type", "application/problem+json")
				} else {
					resp = httpmock.NewStringResponse(tt.answer.status, tt.answer.body)
					resp.Header.Set("Content-Type", tt.answer.contentType)
				}
				resp.Header.Set("X-Request-Id", "req_test")
				if tt.answer.retryAfter != "" {
					resp.Header.Set("Retry-After", tt.answer.retryAfter)
				}
				return resp, nil
			})
			_, err := c.Capabilities(context.Background())
			var ae *agentsession.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if diff := cmp.Diff(tt.want, matching(err)); diff != "" {
				t.Errorf("sentinels (-want +got):\n%s", diff)
			}
			if ae.StatusCode != tt.answer.status || ae.Code != tt.answer.code {
				t.Errorf("StatusCode, Code = %d, %q", ae.StatusCode, ae.Code)
			}
			if tt.answer.code != "" && (ae.Detail != "detail of "+string(tt.answer.code) || ae.RequestID != "req_test" || ae.Title == "") {
				t.Errorf("problem fields not decoded: %+v", ae)
			}
			if ae.Attempts != tt.wantAttempts {
				t.Errorf("Attempts = %d, want %d", ae.Attempts, tt.wantAttempts)
			}
			if n := httpmock.GetTotalCallCount(); n != tt.wantAttempts {
				t.Errorf("%d attempts reached the server, want %d", n, tt.wantAttempts)
			}
			if ae.Method != "GET" || ae.URL != mockBase+"/v1/capabilities" {
				t.Errorf("Method, URL = %q, %q", ae.Method, ae.URL)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Error() = %q, want it to contain %q", err.Error(), tt.wantText)
			}
			if strings.Contains(err.Error(), sdktest.Token) {
				t.Errorf("Error() contains the token: %q", err.Error())
			}
			if tt.check != nil {
				tt.check(t, ae)
			}
		})
	}
}

func TestFieldErrorsAndIdempotencyKeyInAPIError(t *testing.T) {
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("POST /v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"type":"t","title":"Invalid request","status":400,"code":"invalid_request","request_id":"req_9",
			"detail":"body.agent: required","errors":[{"location":"body.agent","message":"required"}]}`))
	})
	req, _ := http.NewRequest("POST", c.BaseURL()+"v1/sessions?secret=1", strings.NewReader(`{}`))
	_, err := c.Do(context.Background(), req, nil, agentsession.IdempotencyKey("k-1"))
	var ae *agentsession.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v", err)
	}
	want := []struct{ Location, Message string }{{"body.agent", "required"}}
	var got []struct{ Location, Message string }
	for _, fe := range ae.FieldErrors {
		got = append(got, struct{ Location, Message string }{fe.Location, fe.Message})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FieldErrors (-want +got):\n%s", diff)
	}
	if ae.IdempotencyKey != "k-1" || ae.RequestID != "req_9" {
		t.Errorf("IdempotencyKey, RequestID = %q, %q", ae.IdempotencyKey, ae.RequestID)
	}
	if strings.Contains(ae.URL, "secret") || strings.Contains(err.Error(), "secret=1") {
		t.Errorf("the query string leaked into the error: %q", err.Error())
	}
}

// A server (or proxy) that echoes the Authorization header must not make
// the token appear in the error.
func TestTokenRedactedFromEchoedBodies(t *testing.T) {
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("GET /v1/capabilities", func(w http.ResponseWriter, r *http.Request) {
		sdktest.Problem(w, 401, gen.ProblemCodeUnauthorized, "bad header: "+r.Header.Get("Authorization"))
	})
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte("you sent " + r.Header.Get("Authorization")))
	})
	for _, call := range []func() error{
		func() error { _, err := c.Capabilities(context.Background()); return err },
		func() error { _, err := c.Health(context.Background()); return err },
	} {
		err := call()
		var ae *agentsession.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), sdktest.Token) || strings.Contains(string(ae.Body), sdktest.Token) || strings.Contains(ae.Detail, sdktest.Token) {
			t.Errorf("token not redacted: %q / %q", err.Error(), ae.Body)
		}
		if !strings.Contains(err.Error(), "[REDACTED]") {
			t.Errorf("Error() = %q, want the echoed token replaced", err.Error())
		}
	}
}
