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

// expect prints how err looks and checks that it matches want.
func expect(what string, err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: got %v, want an error matching %v", what, err, want)
	}
	fmt.Printf("  %-34s errors.Is(err, %s)\n      %v\n", what+":", name(want), err)
	return nil
}

func name(err error) string {
	for n, e := range map[string]error{
		"ErrNotFound": agentsession.ErrNotFound, "ErrValidation": agentsession.ErrValidation,
		"ErrInvalidTransition": agentsession.ErrInvalidTransition, "ErrBusy": agentsession.ErrBusy,
		"ErrSessionEnded": agentsession.ErrSessionEnded, "ErrAuth": agentsession.ErrAuth,
		"ErrRateLimited": agentsession.ErrRateLimited, "context.DeadlineExceeded": context.DeadlineExceeded,
		"syscall.ECONNREFUSED": syscall.ECONNREFUSED,
	} {
		if e == err {
			return n
		}
	}
	return err.Error()
}

func run(ctx context.Context) error {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("errors-example"))
	if err != nil {
		return err
	}
	svc, lc := sessions.New(c), lifecycle.New(c)

	fmt.Println("typed errors:")
	_, err = svc.Get(ctx, "sess_does_not_exist")
	if err := expect("a session that does not exist", err, agentsession.ErrNotFound); err != nil {
		return err
	}
	_, err = svc.NewSession(ctx, sessions.CreateParams{Agent: "gpt-9"})
	if err := expect("an agent the server lacks", err, agentsession.ErrValidation); err != nil {
		return err
	}
	var ae *agentsession.APIError
	if errors.As(err, &ae) {
		fmt.Printf("      errors.As: status %d, code %s, request id %s, attempts %d\n", ae.StatusCode, ae.Code, ae.RequestID, ae.Attempts)
	}

	s, err := lc.Start(ctx, lifecycle.StartParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	if _, err := lc.End(ctx, s.SessionID, lifecycle.EndCompleted, ""); err != nil {
		return err
	}
	_, err = lc.Pause(ctx, s.SessionID)
	if err := expect("pausing an ended session", err, agentsession.ErrInvalidTransition); err != nil {
		return err
	}

	// A second turn while one runs (the server's busy policy "reject").
	busy, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		st := busy.TurnStream(ctx, `{"steps":[{"event":{"type":"text","content":"working"}},{"delay_ms":30000}]}`)
		once := sync.Once{}
		for _, err := range st.Events() {
			if err != nil {
				done <- err
				return
			}
			once.Do(func() { close(started) })
		}
		done <- nil
	}()
	<-started
	// Another Service has its own handles, so its turn is not queued behind
	// the first one by the SDK: the server answers 409 turn_in_progress.
	_, err = sessions.New(c).Session(busy.ID()).Turn(ctx, "me too")
	if err := expect("a turn while another runs", err, agentsession.ErrBusy); err != nil {
		return err
	}
	if _, err := busy.Cancel(ctx); err != nil {
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	if err := busy.Close(ctx); err != nil {
		return err
	}
	_, err = busy.Turn(ctx, "are you there?")
	if err := expect("a turn after Close", err, agentsession.ErrSessionEnded); err != nil {
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

	return retries(ctx)
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
		fmt.Fprint(w, `{"type":"about:blank","title":"Too many requests","status":429,"code":"rate_limited","request_id":"proxy","detail":"slow down"}`)
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

func retries(ctx context.Context) error {
	target, err := url.Parse(os.Getenv(agentsession.EnvBaseURL))
	if err != nil {
		return err
	}
	proxy := &flaky{next: httputil.NewSingleHostReverseProxy(target), failures: 2, attempts: map[string]int{}}
	srv := httptest.NewServer(proxy)
	defer srv.Close()

	policy := retry.DefaultPolicy()
	policy.MinWait, policy.MaxWait = 100*time.Millisecond, time.Second
	c, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithRetryPolicy(policy))
	if err != nil {
		return err
	}

	fmt.Println("\nretries (through a proxy that fails each call's first 2 attempts):")
	show := agentsession.OnAttempt(func(a agentsession.Attempt) {
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
	fmt.Printf("  created %s: all %d attempts carried the same Idempotency-Key (%d distinct key seen),\n"+
		"  so the server made one session\n", s.ID(), proxy.attempts[firstKey(proxy)], len(proxy.attempts))
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

	down, err := agentsession.NewClient(agentsession.WithBaseURL("http://127.0.0.1:1"), agentsession.WithRetryPolicy(policy))
	if err != nil {
		return err
	}
	_, err = down.Health(ctx)
	if err := expect("no server listening", err, syscall.ECONNREFUSED); err != nil {
		return err
	}
	var te *agentsession.TransportError
	if errors.As(err, &te) {
		fmt.Printf("      a *TransportError after %d attempts\n", te.Attempts)
	}
	return nil
}

func firstKey(f *flaky) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.attempts {
		return k
	}
	return ""
}
