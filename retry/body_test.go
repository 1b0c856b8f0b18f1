package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

// cut is an answer whose body breaks after its first bytes, as a dropped
// connection or a proxy that closes early leaves it.
func cut(status int, sent string, err error) step {
	return step{fn: func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: http.Header{}, ContentLength: 100, Request: req,
			Body: io.NopCloser(io.MultiReader(strings.NewReader(sent), errReader{err}))}, nil
	}}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// doTransport builds a NewTransport over the mock's steps, without waits.
func doTransport(t *testing.T, p Policy, steps ...step) (*Transport, *mock) {
	t.Helper()
	m := &mock{steps: steps}
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(m.respond)
	tr := NewTransport(p, mt)
	tr.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return tr, m
}

// A keyed POST or a GET whose 2xx body is cut is sent again (same key, same
// body) until an attempt reads it whole: the server replays the answer of
// the work it did once.
func TestDoRetriesACutBody(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name, method, key string
		steps             []step
		wantBody          string
		wantAttempts      int
		wantErr           error // nil: success
	}{
		{"keyed POST, EOF", "POST", "k1", []step{cut(200, `{"turn`, io.ErrUnexpectedEOF), {status: 200, body: `{"turn_index":1}`}}, `{"turn_index":1}`, 2, nil},
		{"keyed POST, reset", "POST", "k1", []step{cut(201, `{"id"`, reset), cut(201, ``, reset), {status: 201, body: `{"id":"x"}`}}, `{"id":"x"}`, 3, nil},
		{"GET", "GET", "", []step{cut(200, `[`, io.ErrUnexpectedEOF), {status: 200, body: `[]`}}, `[]`, 2, nil},
		{"POST without a key is not sent again", "POST", "", []step{cut(200, `{`, io.ErrUnexpectedEOF), {status: 200, body: "{}"}}, "", 1, io.ErrUnexpectedEOF},
		{"out of attempts", "POST", "k2", []step{cut(200, `{`, reset)}, "", 3, syscall.ECONNRESET},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, m := doTransport(t, fastPolicy(3), tt.steps...)
			req := newRequest(t, context.Background(), tt.method, testURL, strings.NewReader(`{"prompt":"p"}`))
			if tt.key != "" {
				req.Header.Set(IdempotencyKeyHeader, tt.key)
			}
			var attempts []Attempt
			res, err := tr.Do(req, Call{OnAttempt: func(a Attempt) { attempts = append(attempts, a) }})
			if res.Attempts != tt.wantAttempts || len(attempts) != tt.wantAttempts || m.count() != tt.wantAttempts {
				t.Errorf("Attempts %d, reported %d, sent %d; want %d", res.Attempts, len(attempts), m.count(), tt.wantAttempts)
			}
			for _, s := range m.seen() {
				if s.Key != tt.key || (tt.method == "POST" && s.Body != `{"prompt":"p"}`) {
					t.Errorf("attempt sent key %q body %q", s.Key, s.Body)
				}
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(fmt.Sprint(err), "reading the body of the") || res.Response != nil {
					t.Errorf("Do = %+v, %v; want an error matching %v", res, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(res.Body) != tt.wantBody || res.Response.Body != http.NoBody {
				t.Fatalf("Do = %q, %v; want %q", res.Body, err, tt.wantBody)
			}
			if first := attempts[0]; first.StatusCode/100 != 2 || first.Err == nil || first.Wait == 0 {
				t.Errorf("the cut attempt was reported as %+v, want its status, its error and a wait", first)
			}
		})
	}
}

// Through a real connection: a server that declares a Content-Length and
// closes early, once.
func TestDoRetriesAShortBodyOverTheNetwork(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		if n.Add(1) == 1 {
			_, _ = io.WriteString(w, "0123456789") // 10 of 20 bytes, then the handler ends: the server closes
			return
		}
		_, _ = io.WriteString(w, "01234567890123456789")
	}))
	defer srv.Close()
	tr := NewTransport(Policy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}, nil)
	req := newRequest(t, context.Background(), "POST", srv.URL, strings.NewReader("x"))
	req.Header.Set(IdempotencyKeyHeader, "k")
	res, err := tr.Do(req, Call{})
	if err != nil || string(res.Body) != "01234567890123456789" || res.Attempts != 2 {
		t.Fatalf("Do = %q after %d attempts, %v", res.Body, res.Attempts, err)
	}
}

// Streams and RoundTrip leave the body to the caller: nothing is read ahead,
// nothing is retried once the headers arrived.
func TestStreamsAndRoundTripLeaveTheBody(t *testing.T) {
	tr, m := doTransport(t, fastPolicy(3), cut(200, "data: 1\n\n", io.ErrUnexpectedEOF))
	req := newRequest(t, context.Background(), "GET", testURL, nil)
	res, err := tr.Do(req, Call{Stream: true})
	if err != nil || res.Body != nil || m.count() != 1 {
		t.Fatalf("Do(Stream) = %+v, %v after %d attempts", res, err, m.count())
	}
	b, err := io.ReadAll(res.Response.Body)
	if string(b) != "data: 1\n\n" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream body %q, %v", b, err)
	}
	resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", testURL, nil))
	if err != nil || m.count() != 2 {
		t.Fatalf("RoundTrip: %v after %d attempts", err, m.count())
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("RoundTrip read its body ahead: %v", err)
	}
}

// Call.AttemptTimeout bounds each attempt, body included unless the answer is
// a stream; a timed-out attempt is retried and matches ErrAttemptTimeout.
func TestCallAttemptTimeout(t *testing.T) {
	slowHeaders := step{fn: func(req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}}
	slowBody := step{fn: func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: req, ContentLength: -1,
			Body: io.NopCloser(ctxReader{req.Context()})}, nil
	}}
	for name, s := range map[string]step{"headers": slowHeaders, "body": slowBody} {
		t.Run(name, func(t *testing.T) {
			tr, m := doTransport(t, fastPolicy(2), s, step{status: 200, body: "late but whole"})
			res, err := tr.Do(newRequest(t, context.Background(), "GET", testURL, nil), Call{AttemptTimeout: 20 * time.Millisecond})
			if err != nil || string(res.Body) != "late but whole" || m.count() != 2 {
				t.Fatalf("Do = %q, %v after %d attempts", res.Body, err, m.count())
			}
			tr, _ = doTransport(t, fastPolicy(2), s)
			_, err = tr.Do(newRequest(t, context.Background(), "GET", testURL, nil), Call{AttemptTimeout: 20 * time.Millisecond})
			var ne net.Error
			if !errors.Is(err, ErrAttemptTimeout) || !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("error %v, want ErrAttemptTimeout", err)
			}
		})
	}
	// A stream's timeout ends with its headers.
	tr, _ := doTransport(t, fastPolicy(1), slowBody)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := tr.Do(newRequest(t, ctx, "GET", testURL, nil), Call{AttemptTimeout: 20 * time.Millisecond, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(res.Response.Body)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stream read ended with %v, want the call's deadline, not the attempt timeout", err)
	}
}

type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

// Every *url.Error layer is removed, also two (a caller's http.Client inside
// the one NewClient wraps), in one place.
func TestNestedURLErrorsUnwrapped(t *testing.T) {
	refused := syscall.ECONNREFUSED
	inner := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Get", URL: req.URL.String(), Err: &url.Error{Op: "Get", URL: "x?token=q", Err: refused}}
	})}
	client := NewClient(Policy{MaxAttempts: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond}, inner)
	var last Attempt
	res, err := client.Transport.(*Transport).Do(newRequest(t, context.Background(), "GET", testURL+"?token=q", nil),
		Call{OnAttempt: func(a Attempt) { last = a }})
	if err != refused || last.Err != refused || res.Attempts != 2 {
		t.Errorf("Do error %#v, attempt error %#v after %d attempts; want the bare %v", err, last.Err, res.Attempts, refused)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An error answer is read within the attempt too: cut short, it is sent
// again when it may be, else it stands with the part of its body that came;
// a retryable status that runs out of attempts keeps its body.
func TestDoReadsErrorAnswers(t *testing.T) {
	problem := `{"code":"turn_in_progress"}`
	tr, m := doTransport(t, fastPolicy(3), cut(409, `{"co`, io.ErrUnexpectedEOF), step{status: 409, body: problem})
	req := newRequest(t, context.Background(), "POST", testURL, strings.NewReader("{}"))
	req.Header.Set(IdempotencyKeyHeader, "k")
	res, err := tr.Do(req, Call{})
	if err != nil || res.Response.StatusCode != 409 || string(res.Body) != problem || m.count() != 2 {
		t.Errorf("keyed: %d %q, %v after %d attempts; want the whole 409 after 2", res.Response.StatusCode, res.Body, err, m.count())
	}

	tr, m = doTransport(t, fastPolicy(3), cut(409, `{"co`, io.ErrUnexpectedEOF), step{status: 409, body: problem})
	res, err = tr.Do(newRequest(t, context.Background(), "POST", testURL, strings.NewReader("{}")), Call{})
	if err != nil || res.Response.StatusCode != 409 || string(res.Body) != `{"co` || m.count() != 1 {
		t.Errorf("without a key: %+v, %v after %d attempts; want the cut 409 as it came", res, err, m.count())
	}

	tr, _ = doTransport(t, fastPolicy(2), step{status: 503, body: "busy"})
	res, err = tr.Do(newRequest(t, context.Background(), "GET", testURL, nil), Call{})
	if err != nil || res.Response.StatusCode != 503 || string(res.Body) != "busy" || res.Response.Body != http.NoBody {
		t.Errorf("exhausted 503: %+v, %v", res, err)
	}
}

func TestReadAll(t *testing.T) {
	reset := errors.New("connection reset")
	tests := []struct {
		name    string
		r       io.Reader
		n       int64
		want    string
		wantErr error
	}{
		{"exact", strings.NewReader("hello"), 5, "hello", nil},
		{"unknown length", strings.NewReader("hello"), -1, "hello", nil},
		{"empty", strings.NewReader(""), 0, "", nil},
		{"short", strings.NewReader("hel"), 5, "hel", io.ErrUnexpectedEOF},
		{"nothing of it", strings.NewReader(""), 5, "", io.ErrUnexpectedEOF},
		{"reset", io.MultiReader(strings.NewReader("he"), errReader{reset}), 5, "he", reset},
		{"longer than announced", strings.NewReader("hello, world"), 5, "hello, world", nil},
	}
	for _, tt := range tests {
		got, err := readAll(tt.r, tt.n, -1)
		if string(got) != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}
