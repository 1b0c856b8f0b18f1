package retry

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

// step is what the mock server does for one attempt: answer with status,
// header and body, fail with err, or run fn.
type step struct {
	status int
	header http.Header
	body   string
	err    error
	fn     httpmock.Responder
}

func status(code int) step { return step{status: code, body: http.StatusText(code)} }

// seen is what the mock server received in one attempt.
type seen struct {
	Method, Key, Body string
}

// mock plays its steps in order (the last one repeats) and records requests.
type mock struct {
	mu    sync.Mutex
	steps []step
	calls []seen
}

func (m *mock) respond(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	m.mu.Lock()
	s := m.steps[min(len(m.calls), len(m.steps)-1)]
	m.calls = append(m.calls, seen{Method: req.Method, Key: req.Header.Get("Idempotency-Key"), Body: string(body)})
	m.mu.Unlock()
	switch {
	case s.fn != nil:
		return s.fn(req)
	case s.err != nil:
		return nil, s.err
	}
	resp := httpmock.NewStringResponse(s.status, s.body)
	for k, v := range s.header {
		resp.Header[k] = v
	}
	resp.Request = req
	return resp, nil
}

func (m *mock) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

func (m *mock) seen() []seen {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]seen(nil), m.calls...)
}

// fixture is a retrying client whose inner HTTPClient is mocked by httpmock
// and whose waits are recorded instead of slept.
type fixture struct {
	client *http.Client
	tr     *Transport
	mock   *mock

	mu    sync.Mutex
	waits []time.Duration
}

func setup(t *testing.T, p Policy, steps ...step) *fixture {
	t.Helper()
	inner := &http.Client{}
	httpmock.ActivateNonDefault(inner)
	t.Cleanup(httpmock.DeactivateAndReset)
	m := &mock{steps: steps}
	httpmock.RegisterNoResponder(m.respond)

	client := NewClient(p, inner)
	f := &fixture{client: client, tr: client.Transport.(*Transport), mock: m}
	f.tr.sleep = f.sleep
	return f
}

// sleep records d and returns at once, failing only when ctx is done.
func (f *fixture) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fixture) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// do sends a request and returns the response with its body read.
func (f *fixture) do(t *testing.T, req *http.Request) (*http.Response, string, error) {
	t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the final response body: %v", err)
	}
	return resp, string(b), nil
}

// observe sends req with Transport.Do (the body of a 2xx answer read whole)
// and returns every attempt, the final answer's status and body.
func (f *fixture) observe(t *testing.T, req *http.Request) ([]Attempt, *http.Response, string, error) {
	t.Helper()
	var attempts []Attempt
	res, err := f.tr.Do(req, Call{OnAttempt: func(a Attempt) { attempts = append(attempts, a) }})
	if err != nil {
		return attempts, nil, "", err
	}
	if len(attempts) != res.Attempts {
		t.Errorf("Result.Attempts = %d, OnAttempt saw %d", res.Attempts, len(attempts))
	}
	body := string(res.Body)
	if res.Body == nil {
		b, _ := io.ReadAll(res.Response.Body)
		res.Response.Body.Close()
		body = string(b)
	}
	return attempts, res.Response, body, nil
}

func newRequest(t *testing.T, ctx context.Context, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// exactJitter makes DefaultBackoff return its ceiling, so waits are exact.
func exactJitter(t *testing.T) {
	old := jitter
	jitter = func(ceiling time.Duration) time.Duration { return ceiling }
	t.Cleanup(func() { jitter = old })
}

// fakeClock makes timeNow start at start and advance by step on every call.
func fakeClock(t *testing.T, start time.Time, step time.Duration) {
	old := timeNow
	var mu sync.Mutex
	now := start
	timeNow = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(step)
		return t
	}
	t.Cleanup(func() { timeNow = old })
}

// fastPolicy retries up to n attempts with small, exact-able waits.
func fastPolicy(n int) Policy {
	return Policy{MaxAttempts: n, MinWait: 100 * time.Millisecond, MaxWait: time.Second}
}

const testURL = "http://api.test/v1/sessions"
