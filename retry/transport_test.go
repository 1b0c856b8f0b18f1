package retry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jarcoal/httpmock"
)

func TestStatusCodes(t *testing.T) {
	exactJitter(t)
	tests := []struct {
		status       int
		wantAttempts int
	}{
		{408, 3}, {429, 3}, {500, 3}, {502, 3}, {503, 3}, {504, 3},
		{200, 1}, {201, 1}, {204, 1}, {304, 1},
		{400, 1}, {401, 1}, {403, 1}, {404, 1}, {409, 1}, {422, 1},
		{501, 1}, {505, 1}, {507, 1},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := setup(t, fastPolicy(3), status(tt.status))
			resp, body, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			type result struct {
				Attempts, Status int
				Body             string
				Waits            int
			}
			got := result{f.mock.count(), resp.StatusCode, body, len(f.slept())}
			want := result{tt.wantAttempts, tt.status, http.StatusText(tt.status), tt.wantAttempts - 1}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecoversAfterRetryableStatus(t *testing.T) {
	exactJitter(t)
	f := setup(t, fastPolicy(4), status(503), status(502), step{status: 200, body: "ok"})
	resp, body, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body != "ok" || f.mock.count() != 3 {
		t.Errorf("got %d %q after %d attempts, want 200 \"ok\" after 3", resp.StatusCode, body, f.mock.count())
	}
	if diff := cmp.Diff([]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, f.slept()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestMethods(t *testing.T) {
	tests := []struct {
		method, key  string
		wantAttempts int
	}{
		{http.MethodGet, "", 3},
		{http.MethodHead, "", 3},
		{http.MethodOptions, "", 3},
		{http.MethodPut, "", 3},
		{http.MethodDelete, "", 3},
		{http.MethodPost, "", 1},
		{http.MethodPatch, "", 1},
		{"PURGE", "", 1},
		{http.MethodPost, "key-1", 3},
		{http.MethodPatch, "key-1", 3},
		{"PURGE", "key-1", 3},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/key="+tt.key, func(t *testing.T) {
			for _, failure := range []step{status(503), {err: io.ErrUnexpectedEOF}} {
				f := setup(t, fastPolicy(3), failure)
				req := newRequest(t, context.Background(), tt.method, testURL, nil)
				if tt.key != "" {
					req.Header.Set("Idempotency-Key", tt.key)
				}
				_, _, _ = f.do(t, req)
				if got := f.mock.count(); got != tt.wantAttempts {
					t.Errorf("after status %d / error %v: %d attempts, want %d", failure.status, failure.err, got, tt.wantAttempts)
				}
				httpmock.DeactivateAndReset()
			}
		})
	}
}

// An empty Idempotency-Key does not make a POST retryable.
func TestPostWithEmptyKeyIsNotRetried(t *testing.T) {
	f := setup(t, fastPolicy(3), status(503))
	req := newRequest(t, context.Background(), http.MethodPost, testURL, strings.NewReader("x"))
	req.Header["Idempotency-Key"] = []string{""}
	if _, _, err := f.do(t, req); err != nil {
		t.Fatal(err)
	}
	if got := f.mock.count(); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
}

// A POST without a key that fails after it may have reached the server (the
// connection dropped while waiting for the answer) is not sent again.
func TestPostWithoutKeyNotRetriedAfterAmbiguousFailure(t *testing.T) {
	tests := []struct {
		name string
		fail step
	}{
		{"unexpected EOF", step{err: io.ErrUnexpectedEOF}},
		{"connection reset", step{err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}},
		{"timeout", step{err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}},
		{"503", status(503)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, fastPolicy(4), tt.fail, status(201))
			req := newRequest(t, context.Background(), http.MethodPost, testURL, strings.NewReader(`{"prompt":"hi"}`))
			resp, _, err := f.do(t, req)
			if got := f.mock.count(); got != 1 {
				t.Errorf("%d attempts, want 1", got)
			}
			switch {
			case tt.fail.err != nil && !errors.Is(err, tt.fail.err):
				t.Errorf("error %v, want one matching %v", err, tt.fail.err)
			case tt.fail.err == nil && (err != nil || resp.StatusCode != tt.fail.status):
				t.Errorf("got %v, %v; want status %d", resp, err, tt.fail.status)
			}
		})
	}
}

// opaqueReader hides the concrete type, so http.NewRequest sets no GetBody.
type opaqueReader struct{ io.Reader }

func TestPostWithKeyResendsSameKeyAndBody(t *testing.T) {
	const payload = `{"prompt":"hello","files":["f1"]}`
	bodies := map[string]func() io.Reader{
		"strings.Reader (GetBody)": func() io.Reader { return strings.NewReader(payload) },
		"bytes.Buffer (GetBody)":   func() io.Reader { return bytes.NewBufferString(payload) },
		"opaque reader (buffered)": func() io.Reader { return opaqueReader{strings.NewReader(payload)} },
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			f := setup(t, fastPolicy(4),
				step{err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
				step{err: io.ErrUnexpectedEOF},
				status(503),
				step{status: 201, body: "created"})
			req := newRequest(t, context.Background(), http.MethodPost, testURL, body())
			req.Header.Set("Idempotency-Key", "key-123")
			resp, got, err := f.do(t, req)
			if err != nil || resp.StatusCode != 201 || got != "created" {
				t.Fatalf("got %v %q %v, want 201 created", resp, got, err)
			}
			want := []seen{
				{http.MethodPost, "key-123", payload},
				{http.MethodPost, "key-123", payload},
				{http.MethodPost, "key-123", payload},
				{http.MethodPost, "key-123", payload},
			}
			if diff := cmp.Diff(want, f.mock.seen()); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name         string
		err          error
		wantAttempts int
	}{
		{"connection refused", refused, 3},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, 3},
		{"unexpected EOF", io.ErrUnexpectedEOF, 3},
		{"dns", &net.DNSError{Err: "no such host", Name: "api.test", IsNotFound: true}, 3},
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, 3},
		{"unknown authority", x509.UnknownAuthorityError{}, 1},
		{"hostname mismatch", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "api.test"}, 1},
		{"expired certificate", x509.CertificateInvalidError{Reason: x509.Expired}, 1},
		{"certificate verification", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, 1},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, 1},
		{"TLS alert from peer", &net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}, 1},
		{"unsupported scheme", errors.New(`unsupported protocol scheme "ftp"`), 1},
		{"too many redirects", errors.New("stopped after 10 redirects"), 1},
		{"canceled elsewhere", context.Canceled, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, fastPolicy(3), step{err: tt.err})
			_, _, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
			if got := f.mock.count(); got != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
			}
			if !errors.Is(err, tt.err) && err.Error() != (&url.Error{Op: "Get", URL: testURL, Err: tt.err}).Error() {
				t.Errorf("error %v does not carry %v", err, tt.err)
			}
			// http.Client wraps RoundTrip's error once; the transport must not add a second *url.Error.
			var ue *url.Error
			if errors.As(err, &ue) {
				var inner *url.Error
				if errors.As(ue.Err, &inner) {
					t.Errorf("doubly wrapped *url.Error: %v", err)
				}
			}
		})
	}
}

// Real sockets: a refused connection is retried, a certificate the client
// does not trust is not.
func TestRealTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	tests := []struct {
		name         string
		url          string
		wantAttempts int
		check        func(error) bool
	}{
		{"connection refused", "http://" + closedAddr + "/", 3, func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
		{"untrusted certificate", tlsSrv.URL, 1, func(err error) bool {
			var cv *tls.CertificateVerificationError
			return errors.As(err, &cv)
		}},
		{"unsupported scheme", "ftp://" + closedAddr + "/", 1, func(err error) bool {
			return strings.Contains(err.Error(), "unsupported protocol scheme")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts []Attempt
			client := NewClient(fastPolicy(3), nil)
			tr := client.Transport.(*Transport)
			tr.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
			res, err := tr.Do(newRequest(t, context.Background(), http.MethodGet, tt.url, nil),
				Call{OnAttempt: func(a Attempt) { attempts = append(attempts, a) }})
			if res.Attempts != len(attempts) {
				t.Errorf("Result.Attempts %d, %d reported", res.Attempts, len(attempts))
			}
			if err == nil || !tt.check(err) {
				t.Errorf("error %v is not the expected kind", err)
			}
			if len(attempts) != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", len(attempts), tt.wantAttempts)
			}
		})
	}
}

// A per-attempt timeout (the inner client's Timeout) is a retryable transport
// error and costs the budget's timeout price.
func TestPerAttemptTimeout(t *testing.T) {
	budget := NewBudget(100)
	p := fastPolicy(2)
	p.Budget = budget
	f := setup(t, p, step{fn: func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}})
	inner := f.tr.inner
	inner.Timeout = 10 * time.Millisecond
	_, _, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %v, want a timeout", err)
	}
	if got := f.mock.count(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
	if got, want := budget.Available(), 100-DefaultTimeoutCost; got != want {
		t.Errorf("budget %d, want %d", got, want)
	}
}

func TestLastResponsePreserved(t *testing.T) {
	big := strings.Repeat("x", 200<<10) // larger than any internal buffer
	tests := []struct {
		name    string
		policy  Policy
		budget  *Budget
		status  int
		body    string
		attempt int
	}{
		{"attempts exhausted", fastPolicy(3), nil, 503, `{"code":"unavailable","detail":"try later"}`, 3},
		{"attempts exhausted, large body", fastPolicy(2), nil, 500, big, 2},
		{"budget exhausted", fastPolicy(5), NewBudget(DefaultRetryCost), 429, `{"code":"rate_limited"}`, 2},
		{"not retryable", fastPolicy(3), nil, 404, `{"code":"not_found"}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			p.Budget = tt.budget
			f := setup(t, p, step{
				status: tt.status,
				header: http.Header{"X-Request-Id": {"req-1"}, "Content-Type": {"application/problem+json"}},
				body:   tt.body,
			})
			resp, body, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			type result struct {
				Attempts, Status int
				RequestID, Body  string
			}
			got := result{f.mock.count(), resp.StatusCode, resp.Header.Get("X-Request-Id"), body}
			want := result{tt.attempt, tt.status, "req-1", tt.body}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestContextCanceledDuringBackoff(t *testing.T) {
	f := setup(t, fastPolicy(4), step{
		status: 503,
		header: http.Header{"Retry-After": {"30"}, "X-Request-Id": {"req-7"}},
		body:   `{"code":"unavailable"}`,
	})
	waiting := make(chan time.Duration, 1)
	f.tr.sleep = func(ctx context.Context, d time.Duration) error {
		waiting <- d
		return sleepContext(ctx, d) // the real wait: only ctx can end it early
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := f.client.Do(newRequest(t, ctx, http.MethodGet, testURL, nil))
		done <- result{resp, err}
	}()

	if d := <-waiting; d != 30*time.Second {
		t.Errorf("waiting %v, want the server's 30s", d)
	}
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing assertion
		t.Fatal("Do still waiting after ctx was cancelled")
	}

	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("error %v does not match context.Canceled", r.err)
	}
	var ie *InterruptedError
	if !errors.As(r.err, &ie) {
		t.Fatalf("error %T %v is not an *InterruptedError", r.err, r.err)
	}
	type got struct {
		Attempts, LastStatus int
		RequestID, Body      string
		Calls                int
	}
	want := got{1, 503, "req-7", `{"code":"unavailable"}`, 1}
	if diff := cmp.Diff(want, got{ie.Attempts, ie.LastStatus, ie.LastHeader.Get("X-Request-Id"), string(ie.LastBody), f.mock.count()}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.resp != nil {
		t.Errorf("response %v returned with the error", r.resp)
	}
}

func TestDeadlineDuringBackoff(t *testing.T) {
	f := setup(t, fastPolicy(4), step{status: 503, header: http.Header{"Retry-After": {"30"}}, body: "busy"})
	f.tr.sleep = sleepContext // real wait, ended by the deadline
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.client.Do(newRequest(t, ctx, http.MethodGet, testURL, nil))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.LastStatus != 503 || string(ie.LastBody) != "busy" || ie.Attempts != 1 {
		t.Errorf("error %#v, want an *InterruptedError with the 503 and its body", err)
	}
}

// ctx ends during the attempt that follows a failed one: the error still
// carries the previous attempt's answer.
func TestContextCanceledDuringRetryAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := setup(t, fastPolicy(4),
		step{status: 502, body: "bad gateway"},
		step{fn: func(req *http.Request) (*http.Response, error) {
			cancel() // the caller gives up while the second attempt is in flight
			<-req.Context().Done()
			return nil, req.Context().Err()
		}})
	_, err := f.client.Do(newRequest(t, ctx, http.MethodGet, testURL, nil))
	var ie *InterruptedError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ie) {
		t.Fatalf("error %v, want an *InterruptedError matching context.Canceled", err)
	}
	if ie.Attempts != 2 || ie.LastStatus != 502 || string(ie.LastBody) != "bad gateway" {
		t.Errorf("got attempts %d, last %d %q; want 2, 502 \"bad gateway\"", ie.Attempts, ie.LastStatus, ie.LastBody)
	}
}

// ctx ends during the first attempt: nothing failed before, so the error is
// the plain transport error, as with net/http.
func TestContextCanceledDuringFirstAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := setup(t, fastPolicy(4), step{fn: func(req *http.Request) (*http.Response, error) {
		cancel()
		return nil, req.Context().Err()
	}})
	_, err := f.client.Do(newRequest(t, ctx, http.MethodGet, testURL, nil))
	var ie *InterruptedError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ie) {
		t.Errorf("error %v, want context.Canceled without *InterruptedError", err)
	}
	if f.mock.count() != 1 {
		t.Errorf("%d attempts, want 1", f.mock.count())
	}
}

func TestInterruptedErrorBoundsBody(t *testing.T) {
	big := strings.Repeat("y", maxSnapshotBody+1000)
	f := setup(t, fastPolicy(4), step{status: 503, body: big})
	ctx, cancel := context.WithCancel(context.Background())
	f.tr.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := f.client.Do(newRequest(t, ctx, http.MethodGet, testURL, nil))
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is not an *InterruptedError", err)
	}
	if len(ie.LastBody) != maxSnapshotBody || string(ie.LastBody) != big[:maxSnapshotBody] {
		t.Errorf("LastBody has %d bytes, want the first %d", len(ie.LastBody), maxSnapshotBody)
	}
	if msg := ie.Error(); msg != "retry: interrupted after 1 attempt(s) (last status 503): context canceled" {
		t.Errorf("Error() = %q", msg)
	}
}

func TestAttemptHookAndOnRetry(t *testing.T) {
	exactJitter(t)
	fakeClock(t, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), 10*time.Millisecond)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

	var onRetry []Attempt
	p := fastPolicy(4)
	p.OnRetry = func(a Attempt) { onRetry = append(onRetry, a) }
	f := setup(t, p,
		step{err: refused},
		step{status: 503, header: http.Header{"Retry-After": {"2"}}},
		step{status: 200, body: "ok"})

	req := newRequest(t, context.Background(), http.MethodGet, "https://user:pw@api.test/v1/sessions/s1?token=abc#frag", nil)
	first, _, _, err := f.observe(t, req)
	if err != nil {
		t.Fatal(err)
	}

	const redacted = "https://api.test/v1/sessions/s1"
	want := []Attempt{
		{Number: 1, Method: "GET", URL: redacted, Err: refused, Duration: 10 * time.Millisecond, Wait: 100 * time.Millisecond},
		{Number: 2, Method: "GET", URL: redacted, StatusCode: 503, Duration: 10 * time.Millisecond, Wait: 2 * time.Second},
		{Number: 3, Method: "GET", URL: redacted, StatusCode: 200, Duration: 10 * time.Millisecond},
	}
	opts := cmpopts.EquateErrors()
	if diff := cmp.Diff(want, first, opts); diff != "" {
		t.Errorf("first hook (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:2], onRetry, opts); diff != "" {
		t.Errorf("OnRetry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{100 * time.Millisecond, 2 * time.Second}, f.slept()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestLogsHaveNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	p := fastPolicy(3)
	p.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := setup(t, p,
		step{status: 503, header: http.Header{"Set-Cookie": {"session=cookie-secret"}}},
		step{err: io.ErrUnexpectedEOF},
		step{status: 503})

	const secretURL = "http://user:url-password@api.test/v1/sessions?token=query-secret"
	req := newRequest(t, context.Background(), http.MethodPost, secretURL, strings.NewReader(`{"prompt":"body-secret"}`))
	req.Header.Set("Authorization", "Bearer secret-token")
	req.Header.Set("Idempotency-Key", "key-secret")
	var attempts []Attempt
	res, err := f.tr.Do(req, Call{OnAttempt: func(a Attempt) { attempts = append(attempts, a) }}) // no *url.Error from http.Client
	if err != nil {
		t.Fatal(err)
	}
	res.Response.Body.Close()

	out := logs.String()
	for _, want := range []string{"retrying HTTP request", "giving up retrying HTTP request", "url=http://api.test/v1/sessions", "status=503", "unexpected EOF"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"secret-token", "Bearer", "url-password", "query-secret", "key-secret", "cookie-secret", "body-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
		for _, a := range attempts {
			if strings.Contains(a.URL, secret) || a.Err != nil && strings.Contains(a.Err.Error(), secret) {
				t.Errorf("attempt %+v contains %q", a, secret)
			}
		}
	}
	if len(attempts) != 3 {
		t.Errorf("%d attempts, want 3", len(attempts))
	}
}

// The transport's own errors and InterruptedError never carry the URL's
// query string or the token.
func TestErrorsHaveNoSecrets(t *testing.T) {
	f := setup(t, fastPolicy(2), step{err: io.ErrUnexpectedEOF})
	req := newRequest(t, context.Background(), http.MethodGet, "http://api.test/x?token=query-secret", nil)
	req.Header.Set("Authorization", "Bearer secret-token")
	_, err := f.tr.RoundTrip(req)
	if err == nil || strings.Contains(err.Error(), "query-secret") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error %v", err)
	}

	f = setup(t, fastPolicy(3), step{status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	f.tr.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	req = newRequest(t, ctx, http.MethodGet, "http://api.test/x?token=query-secret", nil)
	req.Header.Set("Authorization", "Bearer secret-token")
	_, err = f.tr.RoundTrip(req)
	if err == nil || strings.Contains(err.Error(), "query-secret") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error %v", err)
	}
}

func TestWaitsAreCapped(t *testing.T) {
	tests := []struct {
		name    string
		backoff Backoff
		header  http.Header
		want    time.Duration
	}{
		{"backoff above MaxWait", func(time.Duration, time.Duration, int, *http.Response) time.Duration { return time.Hour }, nil, time.Second},
		{"negative backoff", func(time.Duration, time.Duration, int, *http.Response) time.Duration { return -time.Second }, nil, 0},
		{"server delay above MaxServerDelay", nil, http.Header{"Retry-After": {"3600"}}, 5 * time.Second},
		{"server delay between MaxWait and MaxServerDelay", nil, http.Header{"Retry-After": {"3"}}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fastPolicy(2)
			p.MaxServerDelay = 5 * time.Second
			p.Backoff = tt.backoff
			f := setup(t, p, step{status: 503, header: tt.header}, status(200))
			if _, _, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]time.Duration{tt.want}, f.slept()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCustomCheckRetry(t *testing.T) {
	stop := errors.New("stop here")
	p := fastPolicy(4)
	p.CheckRetry = func(ctx context.Context, req *http.Request, resp *http.Response, err error) (bool, error) {
		if resp != nil && resp.StatusCode == 418 {
			return false, stop
		}
		return resp != nil && resp.StatusCode == 409, nil // retry conflicts, even for POST
	}
	f := setup(t, p, status(409), status(409), status(418))
	_, err := f.client.Do(newRequest(t, context.Background(), http.MethodPost, testURL, strings.NewReader("x")))
	if !errors.Is(err, stop) {
		t.Errorf("error %v, want %v", err, stop)
	}
	if f.mock.count() != 3 {
		t.Errorf("%d attempts, want 3", f.mock.count())
	}
}

// NewTransport on its own, with an httpmock transport as base: retries, and
// leaves redirects to the http.Client that uses it.
func TestNewTransport(t *testing.T) {
	exactJitter(t)
	mt := httpmock.NewMockTransport()
	m := &mock{steps: []step{status(503), {status: 302, header: http.Header{"Location": {"/moved"}}}}}
	mt.RegisterResponder(http.MethodGet, "http://api.test/start", m.respond)
	mt.RegisterResponder(http.MethodGet, "http://api.test/moved", httpmock.NewStringResponder(200, "moved here"))

	rt := NewTransport(fastPolicy(3), mt)
	rt.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }

	resp, err := rt.RoundTrip(newRequest(t, context.Background(), http.MethodGet, "http://api.test/start", nil))
	if err != nil || resp.StatusCode != 302 {
		t.Fatalf("RoundTrip: %v %v, want the 302 itself", resp, err)
	}
	resp.Body.Close()

	m.calls = nil
	client := &http.Client{Transport: rt}
	resp, err = client.Get("http://api.test/start")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "moved here" || m.count() != 2 {
		t.Errorf("got %d %q after %d attempts on /start; want 200 \"moved here\" after 2", resp.StatusCode, body, m.count())
	}
}

// RoundTrip must not modify the caller's request.
func TestRequestNotModified(t *testing.T) {
	f := setup(t, fastPolicy(3), status(503), status(200))
	req := newRequest(t, context.Background(), http.MethodPut, testURL, opaqueReader{strings.NewReader("data")})
	body := req.Body
	header := req.Header.Clone()
	if _, _, err := f.do(t, req); err != nil {
		t.Fatal(err)
	}
	if req.Body != body {
		t.Error("req.Body was replaced")
	}
	if diff := cmp.Diff(header, req.Header); diff != "" {
		t.Errorf("req.Header changed (-before +after):\n%s", diff)
	}
}

// A request that ends in an error must not close the idle connections other
// requests of the same client reuse (retryablehttp closes them on failure).
func TestFailureKeepsIdleConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	client := NewClient(Policy{MaxAttempts: 2}, nil)
	client.Transport.(*Transport).sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	get := func(url string) error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	if err := get(srv.URL); err != nil {
		t.Fatal(err)
	}
	if err := get(refused); err == nil {
		t.Fatal("no error from a refused connection")
	}
	if err := get(srv.URL); err != nil {
		t.Fatal(err)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1 (the idle one reused)", got)
	}
}

// ctx ends right after the retry decision (here: in OnRetry), before any
// wait: whichever of retryablehttp's zero timer or our wait sees it first, the
// caller gets an *InterruptedError with the last answer.
func TestContextCanceledBeforeWait(t *testing.T) {
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		p := fastPolicy(4)
		p.OnRetry = func(Attempt) { cancel() }
		f := setup(t, p, step{status: 504, body: "gateway timeout"})
		_, err := f.client.Do(newRequest(t, ctx, http.MethodGet, testURL, nil))
		var ie *InterruptedError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &ie) || ie.LastStatus != 504 || string(ie.LastBody) != "gateway timeout" {
			t.Fatalf("error %v, want an *InterruptedError with the 504", err)
		}
		if f.mock.count() != 1 {
			t.Fatalf("%d attempts, want 1", f.mock.count())
		}
		httpmock.DeactivateAndReset()
		cancel()
	}
}
