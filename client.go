package agentsession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdkclient"
	"github.com/agentsession/agentsession/record"
	"github.com/agentsession/agentsession/retry"
)

// Version is the SDK's version, sent in the User-Agent header
// ("agentsession-go/<Version>"). It is the module's release, whose changes
// CHANGELOG.md lists.
const Version = "1.1.0"

func init() {
	sdkclient.Register(func(c any) *sdkclient.State { return &c.(*Client).state })
	sdkclient.Query = func(key, value string) any {
		return CallOption(func(o *callOptions) {
			if o.query == nil {
				o.query = url.Values{}
			}
			o.query.Set(key, value)
		})
	}
}

// Client talks to an Agent Session API server. It is safe for concurrent use
// and meant to be shared: the service packages (sessions, lifecycle) are thin
// views over it, and every call they make goes through Client.Do or
// Client.Open, the SDK's single request path (auth, User-Agent, idempotency
// keys, retries, request ids, typed errors, decoding).
type Client struct {
	base      string // absolute, ends with "/"
	token     string
	userAgent string
	// header values shared by every request (see setHeaders)
	hdrUserAgent, hdrAuthorization []string
	logger                         *slog.Logger
	attemptTimeout                 time.Duration
	retry                          *retry.Transport // retries and per-attempt timeouts over the base
	hc                             *http.Client     // headerTransport over retry, for Gen and HTTPClient
	gen                            *gen.ClientWithResponses
	state                          sdkclient.State // what the service packages share (turn order, record)
}

// NewClient returns a client configured by opts. The base URL and the token
// fall back to AGENTSESSION_BASE_URL and AGENTSESSION_TOKEN unless
// WithoutEnvironment is given. An invalid option is an error.
func NewClient(opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("agentsession: nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("agentsession: %w", err)
		}
	}
	cfg.resolve()

	base, err := normalizeBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.token, "\r\n\x00") || strings.TrimSpace(cfg.token) != cfg.token {
		return nil, errors.New("agentsession: the token contains whitespace or a control character")
	}

	c := &Client{
		base:           base,
		token:          cfg.token,
		userAgent:      "agentsession-go/" + Version,
		logger:         cfg.logger,
		attemptTimeout: cfg.attemptTimeout,
	}
	if cfg.uaSuffix != "" {
		c.userAgent += " " + cfg.uaSuffix
	}
	c.hdrUserAgent = []string{c.userAgent}
	c.hdrAuthorization = []string{"Bearer " + c.token}
	c.state.Logger, c.state.AttemptTimeout = cfg.logger, cfg.attemptTimeout
	if cfg.recordDir != "" {
		if c.state.Recorder, err = record.New(cfg.recordDir); err != nil {
			return nil, fmt.Errorf("agentsession: WithTurnRecord: %w", err)
		}
	}

	var base0 http.RoundTripper
	if cfg.doer != nil {
		base0 = doerTransport{cfg.doer}
	} else {
		base0 = defaultTransport()
	}
	c.retry = newRetryTransport(cfg.retry, cfg.logger, base0)
	c.hc = &http.Client{Transport: &headerTransport{c: c}}
	if c.gen, err = gen.NewClientWithResponses(c.base, gen.WithHTTPClient(c.hc)); err != nil {
		return nil, fmt.Errorf("agentsession: %w", err)
	}
	return c, nil
}

// normalizeBaseURL checks that raw is an absolute http(s) URL without
// credentials, query or fragment, and returns it with a trailing slash.
func normalizeBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("agentsession: no base URL: use WithBaseURL or set %s", EnvBaseURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("agentsession: invalid base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("agentsession: invalid base URL %q: the scheme must be http or https", u.Redacted())
	case u.Host == "":
		return "", fmt.Errorf("agentsession: invalid base URL %q: no host", u.Redacted())
	case u.User != nil:
		return "", errors.New("agentsession: invalid base URL: it holds credentials; pass the token with WithToken")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("agentsession: invalid base URL %q: no query or fragment allowed", u.Redacted())
	case strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/v1"):
		// Every API path starts with /v1, which the SDK adds: this base
		// would send .../v1/v1/sessions.
		fixed := *u
		fixed.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1")
		fixed.RawPath = ""
		return "", fmt.Errorf("agentsession: invalid base URL %q: drop the trailing /v1 (use %q): the SDK adds /v1 to every path",
			u.Redacted(), fixed.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.String(), nil
}

// BaseURL returns the server's base URL, ending with "/". Pass it to the
// gen.New*Request builders to build a request for Client.Do.
func (c *Client) BaseURL() string { return c.base }

// HTTPClient returns the client's configured HTTP client: it adds the auth
// and User-Agent headers and an Idempotency-Key to POST and PATCH requests
// that lack one, and retries per the retry policy. Unless a request asks for
// text/event-stream, its answer's body is read within the attempt (so that
// one cut short is retried) and handed over from memory.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// Gen returns the generated client (package gen), configured with the same
// HTTP client, for operations the SDK does not wrap. Its *WithResponse
// methods read whole bodies; stream with Client.Open instead. Turn a non-2xx
// answer into the SDK's typed error with CheckResponse.
func (c *Client) Gen() *gen.ClientWithResponses { return c.gen }

// Health checks that the server is up (no authentication needed).
func (c *Client) Health(ctx context.Context, opts ...CallOption) (*Health, error) {
	req, err := gen.NewGetHealthRequest(c.base)
	if err != nil {
		return nil, err
	}
	var h Health
	if _, err := c.Do(ctx, req, &h, opts...); err != nil {
		return nil, err
	}
	return &h, nil
}

// Capabilities returns the server's agents, optional features and limits.
func (c *Client) Capabilities(ctx context.Context, opts ...CallOption) (*Capabilities, error) {
	req, err := gen.NewGetCapabilitiesRequest(c.base)
	if err != nil {
		return nil, err
	}
	var caps Capabilities
	if _, err := c.Do(ctx, req, &caps, opts...); err != nil {
		return nil, err
	}
	return &caps, nil
}

// minRedactedToken is the shortest token redacted from server text: a
// shorter one would match ordinary words.
const minRedactedToken = 6

// redact removes the token from text the server sent back (a problem's
// detail or code, a request id...), so that no error, log line or record can
// carry it even when a server or proxy echoes request headers.
func (c *Client) redact(s string) string {
	if len(c.token) < minRedactedToken || !strings.Contains(s, c.token) {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[REDACTED]")
}

// redactHeader returns h, or a copy with the token redacted from its values
// when one holds it.
func (c *Client) redactHeader(h http.Header) http.Header {
	if len(c.token) < minRedactedToken {
		return h
	}
	for _, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, c.token) {
				out := make(http.Header, len(h))
				for k, vs := range h {
					out[k] = make([]string, len(vs))
					for i, v := range vs {
						out[k][i] = c.redact(v)
					}
				}
				return out
			}
		}
	}
	return h
}
