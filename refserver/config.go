package refserver

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/agent/acp"
	"github.com/agentsession/agentsession/refserver/store"
)

// Defaults of Config's zero values.
const (
	DefaultMaxBodyBytes    = 1 << 20  // 1 MiB
	DefaultMaxFileBytes    = 10 << 20 // 10 MiB
	DefaultMaxChildren     = 5
	DefaultMaxDepth        = 1
	DefaultMaxQueuedTurns  = 16
	DefaultMaxTurnTimeout  = 10 * time.Minute
	DefaultStallAfter      = 2 * time.Minute
	DefaultKeepAlive       = 15 * time.Second
	DefaultBodyReadTimeout = 30 * time.Second
	DefaultPageSize        = 20
	MaxPageSize            = 100
)

// Config configures a Server. The zero value of every field but Tokens
// means its default.
type Config struct {
	// Store holds the data; nil means a new in-memory store. The Server
	// never closes it: whoever opened it does.
	Store store.Store
	// Tokens are the accepted bearer tokens; each one is a tenant. At least
	// one is required. The server keeps only their SHA-256 digests.
	Tokens []string
	// Agents are the agents sessions can use; nil means agent.Default()
	// (echo and scripted).
	Agents *agent.Registry
	// ScriptsDir, when set, registers one scripted agent per <name>.json
	// file in it (see agent.LoadDir). A bad file fails New.
	ScriptsDir string
	// AgentsFile, when set, is a file of ACP agents (acp.LoadConfig): each
	// one is registered under its name, backed by an acp.Bridge that runs
	// one agent process per session. A bad file fails New.
	AgentsFile string
	// ACPAgents are more ACP agents, given in Go.
	ACPAgents []acp.Config
	// Logger receives one line per request and the server's events; nil
	// discards them. Tokens are never logged.
	Logger *slog.Logger
	// Metrics, when set, records the server's metrics (NewMetrics); serve
	// Metrics.Handler on a listener of its own. nil records none.
	Metrics *Metrics

	// MaxBodyBytes bounds JSON request bodies (413 above it).
	MaxBodyBytes int64
	// MaxFileBytes bounds uploaded files (413 above it).
	MaxFileBytes int64
	// MaxChildren caps the non-ended children of one session; negative
	// forbids children.
	MaxChildren int
	// MaxDepth caps a child session's depth (a root has depth 0); negative
	// forbids children.
	MaxDepth int
	// MaxQueuedTurns caps the turns waiting behind the running one.
	MaxQueuedTurns int
	// MaxTurnTimeout is the default and the largest turn timeout_ms.
	MaxTurnTimeout time.Duration
	// StallAfter is how long a running turn may show no progress before the
	// session's activity is "stalled".
	StallAfter time.Duration
	// KeepAlive is the interval of ": keep-alive" comments on quiet streams.
	KeepAlive time.Duration
	// BodyReadTimeout bounds the time a request body takes to arrive; past
	// it the answer is 408 request_timeout and the connection is closed.
	BodyReadTimeout time.Duration

	// RateLimit is the number of requests per second each tenant may make
	// (a token bucket); 0 disables rate limiting.
	RateLimit float64
	// RateBurst is the bucket size; 0 means max(1, RateLimit).
	RateBurst int
}

// withDefaults returns c with every zero value replaced by its default, or
// an error when a value is unusable.
func (c Config) withDefaults() (Config, error) {
	if len(c.Tokens) == 0 {
		return c, errors.New("refserver: no bearer token configured; every tenant needs one")
	}
	for i, t := range c.Tokens {
		if t == "" {
			return c, fmt.Errorf("refserver: token %d is empty", i+1)
		}
	}
	if c.Store == nil {
		c.Store = store.NewMemory()
	}
	if c.Agents == nil {
		c.Agents = agent.Default()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setInt64(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	setInt64(&c.MaxFileBytes, DefaultMaxFileBytes)
	setInt(&c.MaxChildren, DefaultMaxChildren)
	setInt(&c.MaxDepth, DefaultMaxDepth)
	setInt(&c.MaxQueuedTurns, DefaultMaxQueuedTurns)
	setDur(&c.MaxTurnTimeout, DefaultMaxTurnTimeout)
	setDur(&c.StallAfter, DefaultStallAfter)
	setDur(&c.KeepAlive, DefaultKeepAlive)
	setDur(&c.BodyReadTimeout, DefaultBodyReadTimeout)
	if c.MaxChildren < 0 {
		c.MaxChildren = 0
	}
	if c.MaxDepth < 0 {
		c.MaxDepth = 0
	}
	switch {
	case c.MaxBodyBytes < 0, c.MaxFileBytes < 0:
		return c, errors.New("refserver: body limits must be positive")
	case c.MaxQueuedTurns < 0:
		return c, errors.New("refserver: MaxQueuedTurns must not be negative")
	case c.MaxTurnTimeout < time.Millisecond || c.MaxTurnTimeout.Milliseconds() > math.MaxInt32:
		return c, fmt.Errorf("refserver: MaxTurnTimeout %v is outside 1ms..%v", c.MaxTurnTimeout, time.Duration(math.MaxInt32)*time.Millisecond)
	case c.StallAfter < 0, c.KeepAlive < 0, c.BodyReadTimeout < 0:
		return c, errors.New("refserver: durations must be positive")
	case c.RateLimit < 0 || math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0):
		return c, errors.New("refserver: RateLimit must be a positive number or 0 (off)")
	case c.RateBurst < 0:
		return c, errors.New("refserver: RateBurst must not be negative")
	}
	if c.RateLimit > 0 && c.RateBurst == 0 {
		c.RateBurst = int(math.Max(1, math.Ceil(c.RateLimit)))
	}
	return c, nil
}

func setInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

func setInt64(v *int64, def int64) {
	if *v == 0 {
		*v = def
	}
}

func setDur(v *time.Duration, def time.Duration) {
	if *v == 0 {
		*v = def
	}
}
