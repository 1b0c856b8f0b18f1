package acptestagent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	acp "github.com/coder/acp-go-sdk"
)

// Name is the agent's name in its initialize answer.
const Name = "agentsession-acp-testagent"

// Options configure an agent.
type Options struct {
	// StateDir, when set, is where sessions are saved; the agent then
	// supports session/load.
	StateDir string
	// Stderr receives what /stderr, /flood-stderr and /crash write; nil
	// discards it.
	Stderr io.Writer
	// Exit ends the process for /crash; nil means os.Exit.
	Exit func(code int)
	// RequireAuth makes session/new and session/load answer ACP's
	// "authentication required", as an agent without credentials does.
	RequireAuth bool
}

// Serve runs one agent over r (what the client sends) and w (what the agent
// sends) until r ends or ctx is done.
func Serve(ctx context.Context, r io.Reader, w io.Writer, opts Options) error {
	a := newAgent(opts)
	conn := acp.NewAgentSideConnection(a, w, r)
	conn.SetLogger(discardLogger())
	a.conn = conn
	close(a.ready)
	select {
	case <-conn.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type agent struct {
	// conn is set once the connection exists; requests may arrive before
	// that (the connection reads as soon as it is made), so handlers reach
	// it through peer, which waits for ready.
	conn  *acp.AgentSideConnection
	ready chan struct{}
	opts  Options

	mu       sync.Mutex
	sessions map[acp.SessionId]*session
}

var (
	_ acp.Agent       = (*agent)(nil)
	_ acp.AgentLoader = (*agent)(nil)
)

// session is one ACP session; its exported fields are what StateDir keeps.
type session struct {
	mu      sync.Mutex    // one prompt at a time
	ID      acp.SessionId `json:"id"`
	Cwd     string        `json:"cwd"`
	Prompts int           `json:"prompts"`
	History []exchange    `json:"history"`
}

type exchange struct {
	Prompt string `json:"prompt"`
	Reply  string `json:"reply"`
}

func newAgent(opts Options) *agent {
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.Exit == nil {
		opts.Exit = os.Exit
	}
	return &agent{opts: opts, ready: make(chan struct{}), sessions: map[acp.SessionId]*session{}}
}

// peer is the connection to the client, once Serve has it.
func (a *agent) peer() *acp.AgentSideConnection {
	<-a.ready
	return a.conn
}

func (a *agent) Initialize(_ context.Context, p acp.InitializeRequest) (acp.InitializeResponse, error) {
	return acp.InitializeResponse{
		ProtocolVersion: acp.ProtocolVersionNumber,
		AgentInfo:       &acp.Implementation{Name: Name, Version: "1"},
		AgentCapabilities: acp.AgentCapabilities{
			LoadSession: a.opts.StateDir != "",
		},
	}, nil
}

func (a *agent) Authenticate(context.Context, acp.AuthenticateRequest) (acp.AuthenticateResponse, error) {
	return acp.AuthenticateResponse{}, nil
}

func (a *agent) Logout(context.Context, acp.LogoutRequest) (acp.LogoutResponse, error) {
	return acp.LogoutResponse{}, acp.NewMethodNotFound(acp.AgentMethodLogout)
}

func (a *agent) NewSession(ctx context.Context, p acp.NewSessionRequest) (acp.NewSessionResponse, error) {
	if a.opts.RequireAuth {
		return acp.NewSessionResponse{}, acp.NewAuthRequired(map[string]any{"reason": "no API key configured"})
	}
	if !filepath.IsAbs(p.Cwd) {
		return acp.NewSessionResponse{}, acp.NewInvalidParams(map[string]any{"cwd": "must be an absolute path"})
	}
	s := &session{ID: acp.SessionId(newID()), Cwd: p.Cwd}
	a.mu.Lock()
	a.sessions[s.ID] = s
	a.mu.Unlock()
	if err := a.save(s); err != nil {
		return acp.NewSessionResponse{}, err
	}
	// Agents announce their slash commands this way; clients may ignore it.
	_ = a.peer().SessionUpdate(ctx, acp.SessionNotification{SessionId: s.ID, Update: acp.SessionUpdate{
		AvailableCommandsUpdate: &acp.SessionAvailableCommandsUpdate{AvailableCommands: availableCommands()},
	}})
	return acp.NewSessionResponse{SessionId: s.ID}, nil
}

var validSessionID = regexp.MustCompile(`^sess_[0-9a-f]{1,64}$`)

func (a *agent) LoadSession(ctx context.Context, p acp.LoadSessionRequest) (acp.LoadSessionResponse, error) {
	if a.opts.StateDir == "" {
		return acp.LoadSessionResponse{}, acp.NewMethodNotFound(acp.AgentMethodSessionLoad)
	}
	if !validSessionID.MatchString(string(p.SessionId)) {
		return acp.LoadSessionResponse{}, acp.NewInvalidParams(map[string]any{"sessionId": "unknown session"})
	}
	data, err := os.ReadFile(filepath.Join(a.opts.StateDir, string(p.SessionId)+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return acp.LoadSessionResponse{}, &acp.RequestError{Code: -32002, Message: "Resource not found", Data: map[string]any{"sessionId": p.SessionId}}
	}
	if err != nil {
		return acp.LoadSessionResponse{}, err
	}
	s := &session{}
	if err := json.Unmarshal(data, s); err != nil {
		return acp.LoadSessionResponse{}, fmt.Errorf("session %s: %w", p.SessionId, err)
	}
	s.Cwd = p.Cwd
	// The spec: the agent replays the conversation as session/update
	// notifications, then answers.
	for _, ex := range s.History {
		for _, u := range []acp.SessionUpdate{
			{UserMessageChunk: &acp.SessionUpdateUserMessageChunk{Content: acp.TextBlock(ex.Prompt)}},
			acp.UpdateAgentMessageText(ex.Reply),
		} {
			if err := a.peer().SessionUpdate(ctx, acp.SessionNotification{SessionId: s.ID, Update: u}); err != nil {
				return acp.LoadSessionResponse{}, err
			}
		}
	}
	a.mu.Lock()
	a.sessions[s.ID] = s
	a.mu.Unlock()
	return acp.LoadSessionResponse{}, nil
}

func (a *agent) ResumeSession(context.Context, acp.ResumeSessionRequest) (acp.ResumeSessionResponse, error) {
	return acp.ResumeSessionResponse{}, acp.NewMethodNotFound(acp.AgentMethodSessionResume)
}

func (a *agent) ListSessions(context.Context, acp.ListSessionsRequest) (acp.ListSessionsResponse, error) {
	return acp.ListSessionsResponse{}, acp.NewMethodNotFound(acp.AgentMethodSessionList)
}

func (a *agent) CloseSession(context.Context, acp.CloseSessionRequest) (acp.CloseSessionResponse, error) {
	return acp.CloseSessionResponse{}, acp.NewMethodNotFound(acp.AgentMethodSessionClose)
}

func (a *agent) SetSessionMode(context.Context, acp.SetSessionModeRequest) (acp.SetSessionModeResponse, error) {
	return acp.SetSessionModeResponse{}, acp.NewMethodNotFound(acp.AgentMethodSessionSetMode)
}

func (a *agent) SetSessionConfigOption(context.Context, acp.SetSessionConfigOptionRequest) (acp.SetSessionConfigOptionResponse, error) {
	return acp.SetSessionConfigOptionResponse{}, acp.NewMethodNotFound(acp.AgentMethodSessionSetConfigOption)
}

// Cancel needs nothing more: the SDK cancels the running prompt's context.
func (a *agent) Cancel(context.Context, acp.CancelNotification) error { return nil }

func (a *agent) Prompt(ctx context.Context, p acp.PromptRequest) (acp.PromptResponse, error) {
	a.mu.Lock()
	s := a.sessions[p.SessionId]
	a.mu.Unlock()
	if s == nil {
		return acp.PromptResponse{}, acp.NewInvalidParams(map[string]any{"sessionId": "unknown session"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Prompts++
	text := promptText(p.Prompt)
	t := &turn{agent: a, s: s, ctx: ctx}
	resp, err := t.run(text)
	s.History = append(s.History, exchange{Prompt: text, Reply: t.said.String()})
	if saveErr := a.save(s); saveErr != nil && err == nil {
		err = saveErr
	}
	return resp, err
}

// save writes s to the state directory, when there is one.
func (a *agent) save(s *session) error {
	if a.opts.StateDir == "" {
		return nil
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	path := filepath.Join(a.opts.StateDir, string(s.ID)+".json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// promptText joins the prompt's text blocks; other blocks are named.
func promptText(blocks []acp.ContentBlock) string {
	var b strings.Builder
	for _, c := range blocks {
		switch {
		case c.Text != nil:
			b.WriteString(c.Text.Text)
		case c.ResourceLink != nil:
			fmt.Fprintf(&b, "[resource %s]", c.ResourceLink.Uri)
		}
	}
	return b.String()
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "sess_" + hex.EncodeToString(b[:])
}

func availableCommands() []acp.AvailableCommand {
	names := []string{"say", "think", "plan", "tool", "tool-fail", "ask", "read", "write", "terminal",
		"sleep", "hang", "crash", "stderr", "flood", "flood-stderr", "context", "usage", "count", "error", "stop"}
	out := make([]acp.AvailableCommand, len(names))
	for i, n := range names {
		out[i] = acp.AvailableCommand{Name: n, Description: "see package acptestagent"}
	}
	return out
}
