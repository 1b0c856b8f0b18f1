package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// Input is what an agent gets for one turn.
type Input struct {
	SessionID string
	TurnIndex int
	Prompt    string
	// Files are the metadata of the files attached to the turn.
	Files []gen.File
	// Options are the session's agent options in force (AgentInfo.Options,
	// defaults filled in); nil when the agent declares none.
	Options map[string]any
	// Permissions asks the client for permission; nil when nobody can be
	// asked, in which case an agent treats a request as answered
	// "cancelled".
	Permissions Permissions
	// Guidance, when set, returns the steer prompts sent to the turn since
	// it was last called (recording each as a guidance event of the turn).
	// An agent that can be steered calls it at its step boundaries; it
	// returns an error once the turn is over, as Emit does.
	Guidance func() ([]string, error)
}

// Outcome is how a turn ended, as the agent reports it.
type Outcome struct {
	// StopReason defaults to end_turn when empty.
	StopReason gen.StopReason
	// Usage is the zero value when the agent reports none.
	Usage gen.Usage
	// Events are the turn's last events, after the emitted ones. The
	// server stores them in the same write as the turn's end, where emit
	// costs a write each: an agent whose last events are ready when it
	// returns ends its turn with one write fewer. They are dropped, as an
	// emit would fail, when Run returns an error or after its ctx is done.
	Events []gen.ScriptEvent
}

// Emit records one event of the turn. It returns an error once the turn is
// over (cancelled, interrupted, timed out, or the server is stopping); the
// agent should then return promptly.
type Emit func(gen.ScriptEvent) error

// Agent answers turns. Run must honour ctx: when it is done, Run returns
// promptly (its outcome is then ignored and the turn ends cancelled or with
// an error, as the server decides). An error return ends the turn with
// stop_reason error and an error event holding the message.
type Agent interface {
	Info() gen.AgentInfo
	Run(ctx context.Context, in Input, emit Emit) (Outcome, error)
}

// ErrDuplicate is returned when a registry already has an agent of that name.
var ErrDuplicate = errors.New("agent: duplicate name")

// Registry finds agents by name. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	agents map[string]Agent
	order  []string
}

// NewRegistry returns a registry holding agents, in that order.
func NewRegistry(agents ...Agent) (*Registry, error) {
	r := &Registry{agents: map[string]Agent{}}
	for _, a := range agents {
		if err := r.Register(a); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Default returns a registry with the echo and scripted agents.
func Default() *Registry {
	r, _ := NewRegistry(Echo(), Scripted())
	return r
}

// Register adds a. The name must be new and non-empty.
func (r *Registry) Register(a Agent) error {
	name := a.Info().Name
	if name == "" {
		return errors.New("agent: empty name")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.agents[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	r.agents[name] = a
	r.order = append(r.order, name)
	return nil
}

// Get returns the agent called name.
func (r *Registry) Get(name string) (Agent, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.agents[name]
	return a, ok
}

// List describes every agent, in registration order.
func (r *Registry) List() []gen.AgentInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]gen.AgentInfo, 0, len(r.order))
	for _, name := range r.order {
		out = append(out, r.agents[name].Info())
	}
	return out
}

// All returns every agent, in registration order.
func (r *Registry) All() []Agent {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Agent, 0, len(r.order))
	for _, name := range r.order {
		out = append(out, r.agents[name])
	}
	return out
}

// Names lists the agents' names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := slices.Clone(r.order)
	slices.Sort(names)
	return names
}

// SessionStarter is implemented by agents that hold a resource per
// session (an ACP agent's process): the server calls StartSession when it
// creates a session, before the session exists for the client, and an
// error refuses the create with that error's message (it must name the
// agent and the reason, and hold no secret).
type SessionStarter interface {
	// StartSession prepares sessionID with its agent options in force
	// (AgentInfo.Options, defaults filled in; nil when none).
	StartSession(ctx context.Context, sessionID string, options map[string]any) error
}

// SessionCloser is implemented by agents that hold a resource per
// session: the server calls CloseSession once the session has ended
// (ended, closed, or closed with its parent), and when a create that
// StartSession prepared did not go through.
type SessionCloser interface {
	CloseSession(ctx context.Context, sessionID string) error
}

// TurnLimiter is implemented by agents with a turn timeout of their own:
// the default and the longest timeout of their turns (0: the server's).
type TurnLimiter interface {
	TurnTimeout() time.Duration
}
