package refserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
)

// Agents with a process per session (agent.SessionStarter, the ACP
// bridges) are started before the session that will use them exists:
// starting one takes up to its start timeout, too long to hold a store
// transaction or a runner. A create's transaction learns the new session's
// agent and options, and when that agent needs starting it fails with
// needsStart (so nothing is written); the agent is then started under the
// session id drawn beforehand, and the transaction runs again, this time
// creating the session with that id. A start that fails answers 502
// agent_start_failed and creates nothing.

// sessionStart is what a create knows of its session's agent start.
type sessionStart struct {
	id      string // the new session's id, drawn before any transaction
	agent   string // the agent started for it; "" when none was
	options map[string]any
}

// needsStart is the error of a create's transaction whose agent must be
// started first.
type needsStart struct {
	agent   string
	options map[string]any
}

func (needsStart) Error() string { return "the session's agent must be started first" }

// readyToCreate is called by a create's transaction once it knows the new
// session's agent and options in force: it returns needsStart when the
// agent holds a process per session not yet started for this one.
func (s *Server) readyToCreate(st *sessionStart, agentName string, options map[string]any) error {
	ag, ok := s.agents.Get(agentName)
	if !ok {
		return nil // the transaction answers unknown_agent itself
	}
	if _, starts := ag.(agent.SessionStarter); !starts {
		return nil
	}
	if st.agent == agentName && reflect.DeepEqual(st.options, options) {
		return nil
	}
	return needsStart{agent: agentName, options: options}
}

// maxStartRounds bounds the transactions of one create: the first learns
// the agent, the second creates; a third only when the agent or options
// changed in between (a concurrent change of the session continued).
const maxStartRounds = 3

// createStarting runs attempt, a create whose transaction calls
// readyToCreate and creates its session with st.id, starting the session's
// agent when the transaction asks for it. A started agent whose session was
// not created (an error, a replayed answer) is stopped again.
func (s *Server) createStarting(ctx context.Context, attempt func(st *sessionStart) (rawResponse, error)) (rawResponse, error) {
	st := &sessionStart{id: newID("sess_")}
	for round := 1; ; round++ {
		resp, err := attempt(st)
		var ns needsStart
		if !errors.As(err, &ns) || round == maxStartRounds {
			if st.agent != "" && (err != nil || resp.replayed) {
				s.stopAgentSession(st.agent, st.id)
			}
			if errors.As(err, &ns) {
				err = errors.New("refserver: the session's agent kept changing while it was started")
			}
			return resp, err
		}
		if st.agent != "" {
			s.stopAgentSession(st.agent, st.id)
			st.agent = ""
		}
		ag, _ := s.agents.Get(ns.agent)
		if err := ag.(agent.SessionStarter).StartSession(ctx, st.id, ns.options); err != nil {
			s.stopAgentSession(ns.agent, st.id) // whatever a failed start left
			if ctx.Err() != nil {
				return rawResponse{}, context.Cause(ctx)
			}
			s.log.Warn("agent start failed", slog.String("agent", ns.agent), slog.String("error", err.Error()))
			detail := err.Error()
			if !strings.Contains(detail, strconv.Quote(ns.agent)) {
				detail = fmt.Sprintf("agent %q: %s", ns.agent, detail)
			}
			return rawResponse{}, newError(http.StatusBadGateway, gen.ProblemCodeAgentStartFailed,
				"The session's agent could not be started: %s. Nothing was created.", strings.TrimSuffix(detail, "."))
		}
		st.agent, st.options = ns.agent, ns.options
	}
}

// agentStopTimeout bounds stopping one session's agent process (its own
// limits say how long it is given before it is killed).
const agentStopTimeout = time.Minute

// stopAgentSession tells the agent that sessionID ended, in the
// background: an ACP agent's process gets its stop grace, which the
// request that ended the session does not wait for. Shutdown waits for
// these.
func (s *Server) stopAgentSession(agentName, sessionID string) {
	ag, ok := s.agents.Get(agentName)
	if !ok {
		return
	}
	closer, ok := ag.(agent.SessionCloser)
	if !ok {
		return
	}
	s.agentStops.add()
	go func() {
		defer s.agentStops.done()
		ctx, cancel := context.WithTimeout(context.Background(), agentStopTimeout)
		defer cancel()
		if err := closer.CloseSession(ctx, sessionID); err != nil {
			s.log.Warn("stop the session's agent", slog.String("agent", agentName), slog.String("session", sessionID), slog.String("error", err.Error()))
		}
	}()
}

// agentTurnTimeout is the timeout of a turn of ag given the one asked for
// (or the server's default): no longer than the agent's own limit.
func agentTurnTimeout(ag agent.Agent, timeout time.Duration) time.Duration {
	if tl, ok := ag.(agent.TurnLimiter); ok {
		if d := tl.TurnTimeout(); d > 0 && d < timeout {
			return d
		}
	}
	return timeout
}
