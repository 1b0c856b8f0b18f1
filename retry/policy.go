package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Defaults used for the zero (or negative) fields of a Policy.
const (
	DefaultMaxAttempts    = 4
	DefaultMinWait        = 250 * time.Millisecond
	DefaultMaxWait        = 8 * time.Second
	DefaultMaxServerDelay = 30 * time.Second
)

// DefaultFinalProblemCodes returns the problem codes that are never retried
// by default, whatever their status: agent_start_failed (502), since the
// server already waited for the agent to start, so a retry would only repeat
// that wait or fail the same way.
func DefaultFinalProblemCodes() []string { return []string{"agent_start_failed"} }

// IdempotencyKeyHeader is the request header that makes a POST or PATCH retryable.
const IdempotencyKeyHeader = "Idempotency-Key"

// Policy says which requests are retried and how long to wait between attempts.
// Zero fields take the defaults above, so Policy{} behaves like DefaultPolicy().
type Policy struct {
	MaxAttempts    int           // attempts in total, first included (default 4); 1 = no retries
	MinWait        time.Duration // first backoff ceiling (default 250ms)
	MaxWait        time.Duration // backoff ceiling cap (default 8s)
	MaxServerDelay time.Duration // cap on Retry-After / Retry-After-Ms (default 30s)

	// Budget is the retry token bucket shared by every request of the transport.
	// nil: each NewTransport / NewClient call gets its own NewBudget(DefaultBudgetCapacity).
	// Set the same *Budget on several policies to share one budget between clients.
	Budget *Budget

	CheckRetry CheckRetry // nil = DefaultCheckRetry

	// FinalProblemCodes are the problem codes that end the retries even on a
	// status CheckRetry retries: the server answered for good (it already
	// tried, with its own timeout). An answer is final when it is an
	// application/problem+json document whose "code" is in the list; only
	// such an answer's body is read, at most 64 KiB, and it stays readable.
	// nil = DefaultFinalProblemCodes(); an empty, non-nil list = none.
	FinalProblemCodes []string

	Backoff Backoff       // nil = DefaultBackoff
	OnRetry func(Attempt) // called before each wait (after a failed attempt that will be retried)
	Logger  *slog.Logger  // nil = no logging; never logs header values, query strings or userinfo
}

// DefaultPolicy returns the policy used when none is given: 4 attempts, waits
// drawn from [0, 250ms·2ⁿ] capped at 8s, server-requested delays capped at 30s,
// and a per-client budget of DefaultBudgetCapacity tokens.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:    DefaultMaxAttempts,
		MinWait:        DefaultMinWait,
		MaxWait:        DefaultMaxWait,
		MaxServerDelay: DefaultMaxServerDelay,
	}
}

// Validate reports the fields NewTransport would have to correct: negative
// counts or durations, and MinWait above MaxWait. NewTransport never fails: it
// replaces negative values by the defaults and raises MaxWait to MinWait, but
// callers that take a Policy from configuration can reject it up front.
func (p Policy) Validate() error {
	var errs []error
	if p.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("retry: MaxAttempts %d is negative", p.MaxAttempts))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MinWait", p.MinWait}, {"MaxWait", p.MaxWait}, {"MaxServerDelay", p.MaxServerDelay}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("retry: %s %v is negative", d.name, d.v))
		}
	}
	if p.MinWait > 0 && p.MaxWait > 0 && p.MinWait > p.MaxWait {
		errs = append(errs, fmt.Errorf("retry: MinWait %v is above MaxWait %v", p.MinWait, p.MaxWait))
	}
	return errors.Join(errs...)
}

// withDefaults returns p with every zero or invalid field replaced.
func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MinWait <= 0 {
		p.MinWait = DefaultMinWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	if p.MaxServerDelay <= 0 {
		p.MaxServerDelay = DefaultMaxServerDelay
	}
	if p.CheckRetry == nil {
		p.CheckRetry = DefaultCheckRetry
	}
	if p.FinalProblemCodes == nil {
		p.FinalProblemCodes = DefaultFinalProblemCodes()
	}
	if p.Backoff == nil {
		p.Backoff = DefaultBackoff
	}
	return p
}

// CheckRetry decides after each attempt whether the request should be retried.
// resp is nil when err (the transport error) is not. A non-nil error stops
// retrying and is returned to the caller instead of the response.
type CheckRetry func(ctx context.Context, req *http.Request, resp *http.Response, err error) (bool, error)

// DefaultCheckRetry retries an idempotent request (see IsIdempotent) after a
// retryable transport error (see IsRetryableError) or a retryable status
// (see IsRetryableStatus). It never retries once ctx is done.
func DefaultCheckRetry(ctx context.Context, req *http.Request, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if req == nil || !IsIdempotent(req) {
		return false, nil
	}
	if err != nil {
		return IsRetryableError(err), nil
	}
	return resp != nil && IsRetryableStatus(resp.StatusCode), nil
}

// IsIdempotent reports whether req may be sent more than once: GET, HEAD,
// OPTIONS, PUT and DELETE always; any other method (POST, PATCH, ...) only
// when it carries a non-empty Idempotency-Key header.
func IsIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get(IdempotencyKeyHeader) != ""
}

// IsRetryableStatus reports whether a response status is worth retrying:
// 408, 429, 500, 502, 503 and 504. Never 501, never any other 4xx.
func IsRetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Errors whose only trace is their text (net/http does not type them).
var (
	redirectsErrorRe    = regexp.MustCompile(`stopped after \d+ redirects\z`)
	permanentErrorTexts = []string{
		"unsupported protocol scheme",
		"no Host in request URL",
		"invalid header field",
		"certificate is not trusted", // macOS
		"server gave HTTP response to HTTPS client",
	}
)

// IsRetryableError reports whether a transport error (no response arrived) is
// worth retrying. Connection failures are: refused, reset, EOF, DNS failures,
// timeouts (including a per-attempt http.Client.Timeout). Errors that would fail
// again identically are not: TLS and certificate errors, an unsupported URL
// scheme, too many redirects, an invalid header or URL, and cancellation.
func IsRetryableError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if isTLSError(err) {
		return false
	}
	msg := err.Error()
	if redirectsErrorRe.MatchString(msg) {
		return false
	}
	for _, s := range permanentErrorTexts {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

func isTLSError(err error) bool {
	var (
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		echErr      *tls.ECHRejectionError
		authorityEr x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		rootsErr    x509.SystemRootsError
		opErr       *net.OpError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &echErr), errors.As(err, &authorityEr), errors.As(err, &hostnameErr),
		errors.As(err, &invalidErr), errors.As(err, &rootsErr):
		return true
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		// crypto/tls reports an alert sent by the peer (handshake failure,
		// bad certificate, protocol version) as a net.OpError "remote error".
		return true
	}
	return false
}

// isTimeout reports a transport timeout, which costs TimeoutCost in the budget.
func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded))
}
