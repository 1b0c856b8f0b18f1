package agentsession

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/agentsession/agentsession/retry"
)

// Everything the client takes from package retry is wired here.

type retryConfig struct {
	policy retry.Policy
	set    bool
}

// WithRetryPolicy sets which requests are retried and how long to wait
// between attempts (default: retry.DefaultPolicy: 4 attempts, exponential
// backoff with full jitter from 250ms to 8s, server delays capped at 30s, a
// retry budget per client). A policy with negative values is an error.
func WithRetryPolicy(p retry.Policy) Option {
	return func(c *config) error {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("WithRetryPolicy: %w", err)
		}
		c.retry = retryConfig{policy: p, set: true}
		return nil
	}
}

// WithoutRetries makes every call a single attempt.
func WithoutRetries() Option {
	return func(c *config) error {
		p := retry.DefaultPolicy()
		p.MaxAttempts = 1
		c.retry = retryConfig{policy: p, set: true}
		return nil
	}
}

func newRetryTransport(rc retryConfig, logger *slog.Logger, base http.RoundTripper) *retry.Transport {
	p := rc.policy
	if !rc.set {
		p = retry.DefaultPolicy()
	}
	if p.Logger == nil {
		p.Logger = logger
	}
	return retry.NewTransport(p, base)
}
