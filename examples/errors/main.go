// Errors and retries: what each failure looks like to a caller (errors.Is
// with the SDK's sentinels, errors.As for the details), and the retries the
// SDK makes on its own.
//
// The retry part puts a small flaky proxy in front of the server, so it
// needs nothing but a running server:
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/errors
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/retry"
	"github.com/agentsession/agentsession/sessions"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "errors:", err)
		os.Exit(1)
	}
}

// explain says what a failed call's error means, the way a caller tells the
// cases apart.
func explain(err error) string {
	var apiErr *agentsession.APIError
	var netErr *agentsession.TransportError
	switch {
	case errors.Is(err, agentsession.ErrNotFound): // 404 (or another tenant's session)
		return "not found"
	case errors.Is(err, agentsession.ErrBusy): // 409 turn_in_progress: another turn runs
		return "busy: another turn runs"
	case errors.Is(err, context.DeadlineExceeded): // the deadline passed, maybe while retrying
		return "out of time"
	case errors.As(err, &apiErr): // any other answer: status, problem code, request id
		return fmt.Sprintf("%d %s: %s (request %s, %d attempt(s))",
			apiErr.StatusCode, apiErr.Code, apiErr.Detail, apiErr.RequestID, apiErr.Attempts)
	case errors.As(err, &netErr): // no answer: the network error
		return fmt.Sprintf("no answer after %d attempts: %v", netErr.Attempts, netErr.Err)
	}
	return err.Error()
}

// expect prints how err looks and checks that it matches want.
func expect(what string, err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: got %v, want an error matching %v", what, err, want)
	}
	fmt.Printf("  %-30s %s\n      %v\n", what+":", explain(err), err)
	return nil
}

func run(ctx context.Context) error {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("errors-example"))
	if err != nil {
		return err
	}
	svc := sessions.New(c)

	fmt.Println("typed errors:")
	_, err = svc.Get(ctx, "sess_does_not_exist")
	if err := expect("a session that does not exist", err, agentsession.ErrNotFound); err != nil {
		return err
	}
	_, err = svc.NewSession(ctx, sessions.CreateParams{Agent: "gpt-9"})
	if err := expect("an agent the server lacks", err, agentsession.ErrValidation); err != nil {
		return err
	}

	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	if err := s.End(ctx, lifecycle.EndCompleted, ""); err != nil {
		return err
	}
	err = s.Pause(ctx)
	if err := expect("pausing an ended session", err, agentsession.ErrInvalidTransition); err != nil {
		return err
	}
	_, err = s.Turn(ctx, "are you there?")
	if err := expect("a turn on an ended session", err, agentsession.ErrSessionEnded); err != nil {
		return err
	}

	// A second turn while one runs, with the busy policy "reject".
	busy, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	st := busy.TurnStream(ctx, `{"steps":[{"event":{"type":"text","content":"working"}},{"delay_ms":30000}]}`)
	asked := false
	for _, err := range st.Events() {
		if err != nil {
			return err
		}
		if asked {
			continue
		}
		asked = true
		_, err = busy.Turn(ctx, "me too", sessions.WithBusyPolicy(sessions.BusyReject))
		if err := expect("a turn while another runs", err, agentsession.ErrBusy); err != nil {
			return err
		}
		if _, err := busy.Cancel(ctx); err != nil {
			return err
		}
	}
	if _, err := st.Result(); err != nil {
		return err
	}
	if err := busy.Close(ctx); err != nil {
		return err
	}

	bad, err := agentsession.NewClient(agentsession.WithToken("not-a-valid-token"))
	if err != nil {
		return err
	}
	_, err = bad.Capabilities(ctx)
	if err := expect("a wrong token", err, agentsession.ErrAuth); err != nil {
		return err
	}
	if strings.Contains(err.Error(), "not-a-valid-token") {
		return errors.New("the token leaked into the error")
	}
	_, err = agentsession.NewClient(agentsession.WithBaseURL("http://127.0.0.1:8080/v1"))
	fmt.Printf("  %-30s %v\n", "a base URL ending in /v1:", err)
	if err == nil {
		return errors.New("NewClient accepted a base URL ending in /v1")
	}
	return retries(ctx)
}

// patientClient retries more than the default policy does, with shorter
// waits, and bounds each attempt.
func patientClient(baseURL string) (*agentsession.Client, error) {
	p := retry.DefaultPolicy()
	p.MaxAttempts, p.MinWait, p.MaxWait = 6, 100*time.Millisecond, time.Second
	return agentsession.NewClient(agentsession.WithBaseURL(baseURL),
		agentsession.WithRetryPolicy(p), agentsession.WithAttemptTimeout(30*time.Second))
}

// flaky is a proxy to the real server that fails the first attempts of
// each call, the way an overloaded load balancer would.
type flaky struct {
	next     http.Handler
	failures int // failed attempts per call before passing it on

	mu       sync.Mutex
	attempts map[string]int // by Idempotency-Key (or path for reads)
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/capabilities": // always overloaded; asks for a 1 s pause
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case "/v1/health": // rate limited
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTooManyRequests)
		write(w, `{"type":"about:blank","title":"Too many requests","status":429,"code":"rate_limited","request_id":"proxy","detail":"slow down"}`)
		return
	}
	call := r.Header.Get("Idempotency-Key")
	if call == "" {
		call = r.URL.Path
	}
	f.mu.Lock()
	f.attempts[call]++
	n := f.attempts[call]
	f.mu.Unlock()
	if n <= f.failures {
		http.Error(w, "upstream overloaded", http.StatusServiceUnavailable)
		return
	}
	f.next.ServeHTTP(w, r)
}

// write sends a body; a client that left is only logged.
func write(w io.Writer, body string) {
	if _, err := io.WriteString(w, body); err != nil {
		log.Printf("flaky proxy: %v", err)
	}
}

func retries(ctx context.Context) error {
	target, err := url.Parse(os.Getenv(agentsession.EnvBaseURL))
	if err != nil {
		return err
	}
	proxy := &flaky{next: httputil.NewSingleHostReverseProxy(target), failures: 2, attempts: map[string]int{}}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	c, err := patientClient(srv.URL)
	if err != nil {
		return err
	}

	fmt.Println("\nretries (through a proxy that fails each call's first 2 attempts):")
	show := agentsession.OnAttempt(func(a retry.Attempt) {
		wait := ""
		if a.Wait > 0 {
			wait = fmt.Sprintf(", retry in %v", a.Wait.Round(time.Millisecond))
		}
		fmt.Printf("    attempt %d: %s %s -> %d%s\n", a.Number, a.Method, strings.TrimPrefix(a.URL, srv.URL), a.StatusCode, wait)
	})
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"}, show)
	if err != nil {
		return err
	}
	fmt.Printf("  created %s: every attempt carried the same Idempotency-Key, so the server made one session\n", s.ID())
	res, err := s.Turn(ctx, "hello through a flaky network", sessions.WithCallOptions(show))
	if err != nil {
		return err
	}
	fmt.Printf("  turn %d answered %q after %d attempts\n", res.TurnIndex, res.Text(), res.Response.Attempts)

	fmt.Println("\nwhen retrying cannot help:")
	short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	_, err = c.Capabilities(short)
	if err := expect("a deadline during retries", err, context.DeadlineExceeded); err != nil {
		return err
	}
	if !errors.As(err, new(*agentsession.APIError)) {
		return errors.New("the last answer was lost")
	}
	fmt.Println("      ... and errors.As still finds the last *APIError (503)")

	once, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithoutRetries())
	if err != nil {
		return err
	}
	_, err = once.Health(ctx)
	if err := expect("rate limited", err, agentsession.ErrRateLimited); err != nil {
		return err
	}
	d, _ := agentsession.RetryAfter(err)
	fmt.Printf("      the server asks to wait %v (APIError.RetryAfter)\n", d)

	down, err := patientClient("http://127.0.0.1:1")
	if err != nil {
		return err
	}
	_, err = down.Health(ctx)
	return expect("no server listening", err, syscall.ECONNREFUSED)
}
