package acp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/keyedlock"
	"github.com/agentsession/agentsession/refserver/agent"
)

// Bridge is an agent.Agent whose turns an ACP agent answers: one agent
// process per server session, started on the session's first turn and
// stopped by CloseSession. It is safe for concurrent use; turns of one
// session run one at a time.
type Bridge struct {
	cfg           Config
	log           *slog.Logger
	sessions      SessionStore
	lookupEnv     func(string) (string, bool)
	clientVersion string

	locks keyedlock.Locks // one turn (or close) per session at a time

	mu     sync.Mutex
	procs  map[string]*process
	closed bool
}

var _ agent.Agent = (*Bridge)(nil)

// The server starts a session's process at create, stops it when the
// session ends, and bounds its turns by limits.turn_timeout.
var (
	_ agent.SessionStarter = (*Bridge)(nil)
	_ agent.SessionCloser  = (*Bridge)(nil)
	_ agent.TurnLimiter    = (*Bridge)(nil)
)

// Option configures a Bridge.
type Option func(*Bridge)

// WithLogger sets the logger of the bridge's warnings (and acp-go-sdk's
// connection diagnostics, shortened); default none. Env values never
// reach it.
func WithLogger(l *slog.Logger) Option { return func(b *Bridge) { b.log = l } }

// WithSessionStore sets where ACP session ids are kept; default
// DirSessionStore(StateDir) when the config has a state_dir, else
// MemorySessionStore().
func WithSessionStore(s SessionStore) Option { return func(b *Bridge) { b.sessions = s } }

// WithLookupEnv sets how "${NAME}" templates and inherit_env read the
// server's environment; default os.LookupEnv.
func WithLookupEnv(f func(string) (string, bool)) Option { return func(b *Bridge) { b.lookupEnv = f } }

// WithClientVersion sets the version the bridge gives in initialize.
func WithClientVersion(v string) Option { return func(b *Bridge) { b.clientVersion = v } }

// New checks cfg, fills in its defaults and returns its bridge. Nothing
// starts until a session's first turn.
func New(cfg Config, opts ...Option) (*Bridge, error) {
	b := &Bridge{log: slog.New(slog.DiscardHandler), lookupEnv: os.LookupEnv, clientVersion: "1", procs: map[string]*process{}}
	for _, o := range opts {
		o(b)
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if err := cfg.validate(b.lookupEnv); err != nil {
		return nil, fmt.Errorf("acp agent %q: %w", cfg.Name, err)
	}
	cfg.Options = slices.Clone(cfg.Options)
	for i := range cfg.Options {
		o := &cfg.Options[i]
		o.Default, o.Enum = jsonValue(o.Default), slices.Clone(o.Enum)
		for j := range o.Enum {
			o.Enum[j] = jsonValue(o.Enum[j])
		}
	}
	if b.sessions == nil {
		if cfg.StateDir != "" {
			s, err := DirSessionStore(cfg.StateDir)
			if err != nil {
				return nil, fmt.Errorf("acp agent %q: %w", cfg.Name, err)
			}
			b.sessions = s
		} else {
			b.sessions = MemorySessionStore()
		}
	}
	b.cfg = cfg
	return b, nil
}

// Config is the bridge's configuration, defaults filled in.
func (b *Bridge) Config() Config { return b.cfg }

// Info describes the agent as capabilities show it: kind model; it may
// ask permission (ACP's session/request_permission) and takes the options
// of its config; it cannot be steered (ACP has no guidance for a running
// prompt).
func (b *Bridge) Info() gen.AgentInfo {
	d := b.cfg.Description
	if d == "" {
		d = "ACP agent " + filepath.Base(b.cfg.Command) + "."
	}
	info := gen.AgentInfo{Name: b.cfg.Name, Kind: gen.AgentKindModel, Description: d, Permissions: true}
	for _, o := range b.cfg.Options {
		info.Options = append(info.Options, gen.AgentOption{
			Name: o.Name, Type: gen.AgentOptionType(o.Type), Description: o.Description, Default: o.Default, Enum: o.Enum,
		})
	}
	return info
}

// TurnTimeout is limits.turn_timeout: the default and the longest timeout
// of this agent's turns (0: the server's).
func (b *Bridge) TurnTimeout() time.Duration { return b.cfg.Limits.TurnTimeout }

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("acp: the bridge is closed")

// Run answers one turn with the session's agent process, starting it (and
// its ACP session) first when the session has none or its last one died.
// When ctx ends the bridge sends session/cancel and waits up to
// limits.cancel_grace for the agent's stop reason, then stops the process;
// Run then returns ctx's cause (unless the agent finished on its own).
// A process that dies during the turn makes Run return an error that
// quotes the end of its stderr; the next turn starts a new process.
// Permission requests go to the Permissions of WithPermissions(ctx).
func (b *Bridge) Run(ctx context.Context, in agent.Input, emit agent.Emit) (agent.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return agent.Outcome{}, context.Cause(ctx)
	}
	held, err := b.locks.Lock(ctx, in.SessionID)
	if err != nil {
		return agent.Outcome{}, context.Cause(ctx)
	}
	defer held.Unlock()
	p, err := b.process(ctx, in.SessionID, in.Options)
	if err != nil {
		return agent.Outcome{}, err
	}
	out, err := p.prompt(ctx, in, emit)
	var nd notDelivered
	if errors.As(err, &nd) {
		// The process died between turns, unseen until the prompt could
		// not be written: nothing of this turn happened, so a new process
		// gets it.
		b.forget(in.SessionID, p)
		if p, err = b.process(ctx, in.SessionID, in.Options); err != nil {
			return agent.Outcome{}, err
		}
		out, err = p.prompt(ctx, in, emit)
		if errors.As(err, &nd) {
			err = nd.error
		}
	}
	if p.dead() {
		b.forget(in.SessionID, p)
	}
	return out, err
}

// StartSession starts sessionID's agent process and ACP session now
// rather than on its first turn, so that a server can refuse to create a
// session whose agent cannot start: the error is then a *StartError (or
// ctx's cause). options are the session's agent options in force. A
// session whose process runs is left as it is.
func (b *Bridge) StartSession(ctx context.Context, sessionID string, options map[string]any) error {
	held, err := b.locks.Lock(ctx, sessionID)
	if err != nil {
		return context.Cause(ctx)
	}
	defer held.Unlock()
	_, err = b.process(ctx, sessionID, options)
	return err
}

// process returns the live process of sessionID, starting one when there
// is none.
func (b *Bridge) process(ctx context.Context, sessionID string, options map[string]any) (*process, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if p := b.procs[sessionID]; p != nil {
		if !p.dead() {
			b.mu.Unlock()
			return p, nil
		}
		delete(b.procs, sessionID)
	}
	victim, err := b.makeRoomLocked(sessionID)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if victim != nil {
		victim.stop(context.Background())
	}
	p, err := b.start(ctx, sessionID, options)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		go p.stop(context.Background())
		return nil, ErrClosed
	}
	b.procs[sessionID] = p
	return p, nil
}

// makeRoomLocked picks the least recently used idle process to stop when
// limits.max_processes would be passed; it fails when every one is busy.
func (b *Bridge) makeRoomLocked(sessionID string) (*process, error) {
	limit := b.cfg.Limits.MaxProcesses
	if limit <= 0 || len(b.procs) < limit {
		return nil, nil
	}
	var victim *process
	for _, p := range b.procs {
		if !p.busy.Load() && (victim == nil || p.lastUsed.Load() < victim.lastUsed.Load()) {
			victim = p
		}
	}
	if victim == nil {
		return nil, fmt.Errorf("agent %q runs %d processes, every one in a turn (limits.max_processes); try again later", b.cfg.Name, limit)
	}
	delete(b.procs, victim.sessionID)
	return victim, nil
}

// forget drops p (dead) as sessionID's process.
func (b *Bridge) forget(sessionID string, p *process) {
	b.mu.Lock()
	if b.procs[sessionID] == p {
		delete(b.procs, sessionID)
	}
	b.mu.Unlock()
}

// sessionDir is sessionID's working directory, made when it is a
// per-session one.
func (b *Bridge) sessionDir(sessionID string) (string, error) {
	if !b.cfg.SessionDirs {
		return b.cfg.Cwd, nil
	}
	if !validSessionID.MatchString(sessionID) {
		return "", fmt.Errorf("agent %q: session id %q cannot name a directory", b.cfg.Name, sessionID)
	}
	dir := filepath.Join(b.cfg.Cwd, sessionID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("agent %q: working directory: %w", b.cfg.Name, err)
	}
	return dir, nil
}

// CloseSession stops sessionID's agent process (session/close when the
// agent supports it and its stdin closes; SIGTERM when it has not exited
// within limits.stop_grace, SIGKILL a second later) and forgets its ACP
// session. The server is to call it when the session ends; a turn still
// running ends (with an error, or cancelled if the agent says so).
// Closing a session without a process does nothing.
func (b *Bridge) CloseSession(ctx context.Context, sessionID string) error {
	b.take(sessionID).stop(ctx) // ends a running turn
	// Wait for that turn (or a start under way) to finish, and stop what
	// it may have started.
	held, err := b.locks.Lock(ctx, sessionID)
	if err != nil {
		return err
	}
	defer held.Unlock()
	b.take(sessionID).stop(ctx)
	return b.sessions.Delete(sessionID)
}

// take removes sessionID's process from the bridge and returns it (nil
// when it has none).
func (b *Bridge) take(sessionID string) *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.procs[sessionID]
	delete(b.procs, sessionID)
	return p
}

// Close stops every process, as CloseSession does, but keeps the ACP
// session ids (a restarted server can load them); later turns fail with
// ErrClosed.
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.closed = true
	procs := b.procs
	b.procs = map[string]*process{}
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(context.Background())
		}()
	}
	wg.Wait()
	return nil
}

// Processes is how many agent processes are running.
func (b *Bridge) Processes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, p := range b.procs {
		if !p.dead() {
			n++
		}
	}
	return n
}
