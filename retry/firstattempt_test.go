package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

// The first attempt skips retryablehttp's set-up (through the inner
// http.Client for NewClient, straight to the base RoundTripper for
// NewTransport). These scenarios must behave the same on both paths and hand
// over to retryablehttp correctly from the second attempt.
func TestFirstAttemptPaths(t *testing.T) {
	type want struct {
		status   int    // final status, 0 for an error
		body     string // final body
		bodies   []string
		keys     []string
		attempts []Attempt // Number, StatusCode, Wait only
		waits    []time.Duration
		err      func(error) bool
	}
	reset := errors.New("connection reset")
	tests := []struct {
		name   string
		method string
		key    string
		body   string
		steps  []step
		cancel bool // cancel the context during the first wait
		want   want
	}{
		{
			name: "success at once", method: http.MethodGet,
			steps: []step{{status: 200, body: "ok"}},
			want: want{status: 200, body: "ok", bodies: []string{""}, keys: []string{""},
				attempts: []Attempt{{Number: 1, StatusCode: 200}}},
		},
		{
			name: "POST with key retried with the same key and body", method: http.MethodPost, key: "k1", body: `{"a":1}`,
			steps: []step{status(503), {err: reset}, {status: 201, body: "made"}},
			want: want{status: 201, body: "made", bodies: []string{`{"a":1}`, `{"a":1}`, `{"a":1}`}, keys: []string{"k1", "k1", "k1"},
				attempts: []Attempt{{Number: 1, StatusCode: 503, Wait: 100 * time.Millisecond}, {Number: 2, Wait: 200 * time.Millisecond}, {Number: 3, StatusCode: 201}},
				waits:    []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		},
		{
			name: "POST without key not retried", method: http.MethodPost, body: "x",
			steps: []step{status(503), status(200)},
			want: want{status: 503, body: "Service Unavailable", bodies: []string{"x"}, keys: []string{""},
				attempts: []Attempt{{Number: 1, StatusCode: 503}}},
		},
		{
			name: "last answer kept when attempts run out", method: http.MethodGet,
			steps: []step{status(502), status(503), {status: 500, body: "final"}},
			want: want{status: 500, body: "final", bodies: []string{"", "", ""}, keys: []string{"", "", ""},
				attempts: []Attempt{{Number: 1, StatusCode: 502, Wait: 100 * time.Millisecond}, {Number: 2, StatusCode: 503, Wait: 200 * time.Millisecond}, {Number: 3, StatusCode: 500}},
				waits:    []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		},
		{
			name: "context cancelled during the first wait", method: http.MethodGet, cancel: true,
			steps: []step{{status: 429, body: "slow down"}, status(200)},
			want: want{bodies: []string{""}, keys: []string{""},
				attempts: []Attempt{{Number: 1, StatusCode: 429, Wait: 100 * time.Millisecond}},
				waits:    []time.Duration{100 * time.Millisecond},
				err: func(err error) bool {
					var ie *InterruptedError
					return errors.As(err, &ie) && errors.Is(err, context.Canceled) && ie.LastStatus == 429 && string(ie.LastBody) == "slow down" && ie.Attempts == 1
				}},
		},
		{
			name: "connection refused then success", method: http.MethodGet,
			steps: []step{{err: syscall.ECONNREFUSED}, {status: 200, body: "up"}},
			want: want{status: 200, body: "up", bodies: []string{"", ""}, keys: []string{"", ""},
				attempts: []Attempt{{Number: 1, Wait: 100 * time.Millisecond}, {Number: 2, StatusCode: 200}},
				waits:    []time.Duration{100 * time.Millisecond}},
		},
	}
	paths := map[string]func(p Policy, m *mock) *Transport{
		"NewClient": func(p Policy, m *mock) *Transport {
			inner := &http.Client{}
			httpmock.ActivateNonDefault(inner)
			t.Cleanup(httpmock.DeactivateAndReset)
			httpmock.RegisterNoResponder(m.respond)
			return NewClient(p, inner).Transport.(*Transport)
		},
		"NewTransport": func(p Policy, m *mock) *Transport {
			mt := httpmock.NewMockTransport()
			mt.RegisterNoResponder(m.respond)
			tr := NewTransport(p, mt)
			if tr.direct == nil {
				t.Fatal("NewTransport's first attempt should go straight to the base")
			}
			return tr
		},
	}
	exactJitter(t)
	for pathName, build := range paths {
		for _, tt := range tests {
			t.Run(pathName+"/"+tt.name, func(t *testing.T) {
				m := &mock{steps: tt.steps}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				tr := build(fastPolicy(3), m)
				var waits []time.Duration
				tr.sleep = func(ctx context.Context, d time.Duration) error {
					waits = append(waits, d)
					if tt.cancel {
						cancel()
					}
					return ctx.Err()
				}
				var attempts []Attempt
				hook := func(a Attempt) {
					attempts = append(attempts, Attempt{Number: a.Number, StatusCode: a.StatusCode, Wait: a.Wait})
				}
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}
				req := newRequest(t, ctx, tt.method, testURL, body)
				if tt.key != "" {
					req.Header.Set(IdempotencyKeyHeader, tt.key)
				}
				res, err := tr.Do(req, Call{Stream: true, OnAttempt: hook})
				resp := res.Response
				var got want
				if err != nil {
					if tt.want.err == nil || !tt.want.err(err) {
						t.Fatalf("RoundTrip error %v", err)
					}
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					got.status, got.body = resp.StatusCode, string(b)
				}
				for _, s := range m.seen() {
					got.bodies = append(got.bodies, s.Body)
					got.keys = append(got.keys, s.Key)
				}
				got.attempts, got.waits = attempts, waits
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{}), cmp.FilterPath(func(p cmp.Path) bool {
					return p.Last().String() == ".err"
				}, cmp.Ignore())); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}
