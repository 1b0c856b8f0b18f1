package agentsession

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
)

// Environment variables read by NewClient when the matching option is not
// given (WithoutEnvironment turns this off).
const (
	EnvBaseURL = "AGENTSESSION_BASE_URL"
	EnvToken   = "AGENTSESSION_TOKEN"
)

// Doer sends one HTTP request. *http.Client implements it; so do most test
// doubles and instrumented clients.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Option configures a Client. An option given an invalid value makes
// NewClient return an error.
type Option func(*config) error

type config struct {
	baseURL        string
	baseURLSet     bool
	token          string
	tokenSet       bool
	doer           Doer
	retry          retryConfig
	uaSuffix       string
	logger         *slog.Logger
	attemptTimeout time.Duration
	recordDir      string
	noEnv          bool
}

// WithBaseURL sets the server's base URL, such as "https://agents.example.com"
// or "http://127.0.0.1:8080/prefix"; API paths (/v1/...) are appended to it.
// Without it, NewClient reads AGENTSESSION_BASE_URL.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		c.baseURL, c.baseURLSet = u, true
		return nil
	}
}

// WithToken sets the bearer token. Without it, NewClient reads
// AGENTSESSION_TOKEN. The token is sent only in the Authorization header and
// never appears in errors or logs. A client without any token is valid (Health
// needs none); every other call then fails with an error matching ErrAuth.
func WithToken(token string) Option {
	return func(c *config) error {
		c.token, c.tokenSet = token, true
		return nil
	}
}

// WithHTTPClient sends every attempt through hc (its Transport, redirects,
// cookie jar...). The SDK's retries wrap it. Prefer WithAttemptTimeout to
// hc.Timeout: the latter also bounds how long a turn's event stream may last.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.doer = hc
		return nil
	}
}

// WithDoer sends every attempt through d, for instrumented or fake clients.
// The SDK's retries wrap it.
func WithDoer(d Doer) Option {
	return func(c *config) error {
		if d == nil {
			return errors.New("WithDoer: nil Doer")
		}
		c.doer = d
		return nil
	}
}

// WithUserAgent appends suffix (such as "billing-bot/1.2") to the
// User-Agent header "agentsession-go/<Version>".
func WithUserAgent(suffix string) Option {
	return func(c *config) error {
		if strings.ContainsAny(suffix, "\r\n\x00") {
			return errors.New("WithUserAgent: the suffix contains a control character")
		}
		c.uaSuffix = strings.TrimSpace(suffix)
		return nil
	}
}

// WithLogger logs through l: one debug line per call (method, path, status,
// attempts, duration, request id) and the retry policy's warnings, unless the
// policy has its own logger. Tokens and query strings are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil *slog.Logger (use slog.New(slog.DiscardHandler) to discard)")
		}
		c.logger = l
		return nil
	}
}

// WithAttemptTimeout bounds each HTTP attempt, its answer's body included; a
// timed-out attempt fails with an error matching retry.ErrAttemptTimeout and
// is retried like a connection failure. Turns are exempt while the agent works: a
// synchronous turn answers when the turn ends (bound it with the turn's own
// timeout and the context), and a streamed turn is bounded until its response
// headers arrive, then by its idle timeout. 0 (the default) means no bound
// beyond the context.
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithAttemptTimeout: negative duration %v", d)
		}
		c.attemptTimeout = d
		return nil
	}
}

// WithTurnRecord appends every turn to <dir>/<session_id>.jsonl: one JSON
// line per turn with its prompt, events, stop reason, duration and HTTP
// attempts. Read it back with the record package. NewClient creates dir.
func WithTurnRecord(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("WithTurnRecord: empty directory")
		}
		c.recordDir = dir
		return nil
	}
}

// WithoutEnvironment stops NewClient from reading AGENTSESSION_BASE_URL and
// AGENTSESSION_TOKEN: only options configure the client.
func WithoutEnvironment() Option {
	return func(c *config) error {
		c.noEnv = true
		return nil
	}
}

// resolve applies the environment fallbacks.
func (c *config) resolve() {
	if c.noEnv {
		return
	}
	if !c.baseURLSet {
		c.baseURL = os.Getenv(EnvBaseURL)
	}
	if !c.tokenSet {
		c.token = os.Getenv(EnvToken)
	}
}
