package refserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/agent/acp"
	"github.com/agentsession/agentsession/refserver/store"
)

// Version is the server implementation's version (capabilities, health).
const Version = "1.0.0"

// ServerName is the implementation's name in getCapabilities.
const ServerName = "agentsession-refserver"

// Server is the reference server: an http.Handler serving the whole v1 API.
// Create it with New; stop it with Shutdown before closing its store.
type Server struct {
	cfg     Config
	store   store.Store
	agents  *agent.Registry
	log     *slog.Logger
	metrics *Metrics // nil: none
	tenants map[string]struct{}
	routes  map[string]*route
	inner   *http.ServeMux // the operations and the not-routed fallback
	mux     http.Handler   // inner, as the generated handler returns it
	limiter *rateLimiter
	turns   runnerSet
	// hub wakes the session-wide streams when a session's logs grow.
	hub *sessionHub
	// baseCtx is the parent of every running turn's context; Shutdown
	// cancels it with errShutdown.
	baseCtx context.Context
	stop    context.CancelCauseFunc
	active  tracker // turn runners running
	// agentStops counts the agent sessions being stopped (stopAgentSession).
	agentStops tracker
	// owned are the agents New made (the ACP agents of the configuration);
	// Shutdown closes them.
	owned   []io.Closer
	workers *workers
	now     func() time.Time
}

// api implements genserver.StrictServerInterface; it is a separate type so that
// Server's exported method set stays small.
type api struct{ *Server }

var _ genserver.StrictServerInterface = api{}

// New returns a server for cfg. It registers the agents (and the scripts of
// cfg.ScriptsDir), prepares the routes from the embedded spec, and ends
// every turn that was left running in the store by an unclean stop.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	agents, err := agent.NewRegistry(cfg.Agents.All()...)
	if err != nil {
		return nil, fmt.Errorf("refserver: %w", err)
	}
	if cfg.ScriptsDir != "" {
		scripts, err := agent.LoadDir(cfg.ScriptsDir)
		if err != nil {
			return nil, fmt.Errorf("refserver: %w", err)
		}
		for _, a := range scripts {
			if err := agents.Register(a); err != nil {
				return nil, fmt.Errorf("refserver: script %s.json in %s: %w", a.Info().Name, cfg.ScriptsDir, err)
			}
		}
	}
	bridges, err := newBridges(cfg, agents)
	if err != nil {
		return nil, err
	}
	cfg.Agents = agents
	doc, err := loadSpec()
	if err != nil {
		closeAll(bridges)
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		store:   cfg.Store,
		agents:  agents,
		log:     cfg.Logger,
		tenants: map[string]struct{}{},
		inner:   http.NewServeMux(),
		turns:   runnerSet{m: map[sessKey]*runner{}},
		hub:     &sessionHub{},
		workers: newWorkers(),
		owned:   bridges,
		now:     func() time.Time { return time.Now().UTC() },
	}
	for _, t := range cfg.Tokens {
		s.tenants[TenantID(t)] = struct{}{}
	}
	if m := cfg.Metrics; m != nil {
		if err := m.register(s); err != nil {
			closeAll(bridges)
			return nil, fmt.Errorf("refserver: metrics (one Metrics per Server): %w", err)
		}
		s.metrics = m
		s.store = metricsStore{Store: cfg.Store, m: m}
	}
	s.store = hubStore{Store: s.store, hub: s.hub}
	s.cfg.Tokens = nil // only the digests are kept
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	s.baseCtx, s.stop = context.WithCancelCause(context.Background())
	s.routes = s.buildRoutes(doc)
	strict := genserver.NewStrictHandlerWithOptions(api{s}, nil, genserver.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  s.handleRequestError,
		ResponseErrorHandlerFunc: s.handleError,
	})
	s.mux = genserver.HandlerWithOptions(strict, genserver.StdHTTPServerOptions{
		BaseRouter:       routeMux{s: s, mux: s.inner},
		ErrorHandlerFunc: s.handleParamError,
	})
	s.inner.HandleFunc("/", s.notRouted)
	if err := s.recoverTurns(context.Background()); err != nil {
		closeAll(bridges)
		return nil, fmt.Errorf("refserver: end the turns left running: %w", err)
	}
	return s, nil
}

// Config returns the server's configuration with every default applied
// and the agents of ScriptsDir registered. Tokens is nil: the server keeps
// only their digests.
func (s *Server) Config() Config { return s.cfg }

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s }

// Shutdown ends every running and queued turn with stop_reason error and an
// error event saying the server is shutting down, so that open streams end
// with turn.completed, and waits for the turn runners to finish (or ctx).
// Call it before http.Server.Shutdown and before closing the store. A turn
// sent after Shutdown began ends the same way at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop(errShutdown)
	s.shutdownTurns(turnEnd{stop: gen.StopReasonError, message: errShutdown.Error() + "; the turn was ended."})
	if err := s.active.wait(ctx); err != nil {
		return fmt.Errorf("refserver: shutdown: %w", err)
	}
	s.workers.stop()
	// The agents' processes last: the turns they served have ended.
	err := s.agentStops.wait(ctx)
	closeAll(s.owned)
	if err != nil {
		return fmt.Errorf("refserver: shutdown: stop the agents: %w", err)
	}
	return nil
}

// newBridges makes the ACP agents of cfg (its AgentsFile, then its
// ACPAgents) and registers them in agents.
func newBridges(cfg Config, agents *agent.Registry) ([]io.Closer, error) {
	cfgs := cfg.ACPAgents
	if cfg.AgentsFile != "" {
		fromFile, err := acp.LoadConfig(cfg.AgentsFile)
		if err != nil {
			return nil, fmt.Errorf("refserver: %w", err)
		}
		cfgs = append(fromFile, cfgs...)
	}
	var made []io.Closer
	for _, c := range cfgs {
		b, err := acp.New(c, acp.WithLogger(cfg.Logger), acp.WithClientVersion(Version))
		if err == nil {
			err = agents.Register(b)
		}
		if err != nil {
			closeAll(made)
			return nil, fmt.Errorf("refserver: %w", err)
		}
		made = append(made, b)
		cfg.Logger.Info("acp agent", slog.Any("config", c))
	}
	return made, nil
}

func closeAll(cs []io.Closer) {
	for _, c := range cs {
		_ = c.Close()
	}
}

var errShutdown = errors.New("the server is shutting down")

// tracker counts running goroutines; unlike sync.WaitGroup it may be added
// to while someone waits.
type tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{}
}

func (t *tracker) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.zero = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.zero)
	}
	t.mu.Unlock()
}

func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	zero := t.zero
	t.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
