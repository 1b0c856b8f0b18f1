// Package sdkclient holds what the SDK's service packages need from an
// *agentsession.Client beyond its exported API: the per-session order of
// turns and the settings of turns and of the turn record. It keeps these out
// of the Client's public surface; package agentsession registers the
// accessor when it is initialised, and only the SDK's own packages can
// import this one.
package sdkclient

import (
	"log/slog"
	"time"

	"github.com/agentsession/agentsession/internal/keyedlock"
	"github.com/agentsession/agentsession/record"
)

// State is the part of a Client the service packages share.
type State struct {
	// TurnOrder serializes, per session id, the turns sent without a busy
	// policy: the order callers send them is the order the server sees,
	// whatever handle or Service they go through.
	TurnOrder keyedlock.Locks
	// Recorder is the turn record (WithTurnRecord), nil when off.
	Recorder *record.Recorder
	// Logger is the client's logger (WithLogger), nil when none.
	Logger *slog.Logger
	// AttemptTimeout is the client's per-attempt timeout (WithAttemptTimeout).
	AttemptTimeout time.Duration
}

var of func(client any) *State

// Register installs the accessor; package agentsession calls it once, from
// its init function.
func Register(f func(client any) *State) { of = f }

// Of returns the State of c, an *agentsession.Client.
func Of(c any) *State { return of(c) }

// Query returns an agentsession.CallOption that sets a query parameter of
// the request: the sessions package's typed list filters (a filter the
// list method's signature has no room for) are made with it. Package
// agentsession installs it from its init function.
var Query func(key, value string) any
