package retry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

const agentStartFailed = `{"type":"about:blank","title":"Agent start failed","status":502,` +
	`"code":"agent_start_failed","detail":"agent \"hangs\" did not finish initialize within 30s"}`

func problem(status int, contentType, body string) step {
	return step{status: status, header: http.Header{"Content-Type": {contentType}}, body: body}
}

// A problem whose code is final ends the call at the first attempt, and the
// caller still reads the whole problem, with RoundTrip and with Do.
func TestFinalProblemCodeIsNotRetried(t *testing.T) {
	for _, ct := range []string{"application/problem+json", "application/problem+json; charset=utf-8"} {
		t.Run(ct, func(t *testing.T) {
			steps := []step{problem(502, ct, agentStartFailed), status(200)}
			f := setup(t, fastPolicy(4), steps...)
			req := newRequest(t, context.Background(), http.MethodPost, testURL, strings.NewReader(`{"agent":"hangs"}`))
			req.Header.Set(IdempotencyKeyHeader, "k1")
			resp, body, err := f.do(t, req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 502 || body != agentStartFailed || f.mock.count() != 1 || len(f.slept()) != 0 {
				t.Errorf("RoundTrip: %d %q after %d attempts and %d waits; want 502, the problem, 1 attempt, no wait",
					resp.StatusCode, body, f.mock.count(), len(f.slept()))
			}

			f = setup(t, fastPolicy(4), steps...)
			attempts, resp, body, err := f.observe(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 502 || body != agentStartFailed || len(attempts) != 1 || attempts[0].Wait != 0 {
				t.Errorf("Do: %d %q after %d attempts; want 502, the problem, 1 attempt", resp.StatusCode, body, len(attempts))
			}
		})
	}
}

// Any other 502 is retried as before: no problem document, another code, the
// code outside a problem document, a problem too large to read, or a policy
// that lists no final codes.
func TestOtherRetryableAnswersAreStillRetried(t *testing.T) {
	huge := `{"code":"agent_start_failed","detail":"` + strings.Repeat("x", maxSnapshotBody) + `"}`
	tests := []struct {
		name  string
		first step
		codes []string
	}{
		{"plain 502", status(502), nil},
		{"another code", problem(502, "application/problem+json", `{"code":"internal","status":502}`), nil},
		{"not a problem document", problem(502, "application/json", agentStartFailed), nil},
		{"not JSON", problem(502, "application/problem+json", "<html>bad gateway</html>"), nil},
		{"larger than 64 KiB", problem(502, "application/problem+json", huge), nil},
		{"no final codes", problem(502, "application/problem+json", agentStartFailed), []string{}},
		{"503 with another list", problem(503, "application/problem+json", agentStartFailed), []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fastPolicy(4)
			p.FinalProblemCodes = tt.codes
			f := setup(t, p, tt.first, step{status: 200, body: "ok"})
			resp, body, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || body != "ok" || f.mock.count() != 2 {
				t.Errorf("got %d %q after %d attempts; want 200 \"ok\" after 2", resp.StatusCode, body, f.mock.count())
			}
		})
	}
}

// A custom list applies to every retryable status, also with a custom CheckRetry.
func TestCustomFinalProblemCodes(t *testing.T) {
	p := fastPolicy(4)
	p.FinalProblemCodes = []string{"quota_gone"}
	p.CheckRetry = func(_ context.Context, _ *http.Request, resp *http.Response, err error) (bool, error) {
		return err != nil || resp.StatusCode >= 500, nil
	}
	body := `{"code":"quota_gone","status":503}`
	f := setup(t, p, problem(503, "application/problem+json", body), status(200))
	resp, got, err := f.do(t, newRequest(t, context.Background(), http.MethodPost, testURL, nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || got != body || f.mock.count() != 1 {
		t.Errorf("got %d %q after %d attempts; want 503, the problem, 1 attempt", resp.StatusCode, got, f.mock.count())
	}
}

// A problem's body cut short while it is inspected is retried, and when it
// cannot be, the caller sees the same read error after the bytes that came.
func TestFinalProblemBodyCutShort(t *testing.T) {
	resp := &http.Response{StatusCode: 502, Header: http.Header{"Content-Type": {"application/problem+json"}},
		Body: &cutBody{data: `{"code":"agent_start_failed"`}}
	if isFinalProblem(resp, DefaultFinalProblemCodes()) {
		t.Error("a body cut short was taken as final")
	}
	b := make([]byte, 100)
	n, _ := resp.Body.Read(b)
	if got := string(b[:n]); got != `{"code":"agent_start_failed"` {
		t.Errorf("restored body starts %q", got)
	}
	if _, err := resp.Body.Read(b); err != errCut {
		t.Errorf("restored body then fails with %v, want %v", err, errCut)
	}
}

var errCut = errors.New("connection reset")

// cutBody returns data, then errCut.
type cutBody struct {
	data string
	done bool
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errCut
	}
	b.done = true
	return copy(p, b.data), nil
}

func (*cutBody) Close() error { return nil }
