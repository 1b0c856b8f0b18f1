package main

// The one file of the runner that calls the Go SDK: a client per token,
// each scenario operation as SDK calls, and the SDK's typed errors as the
// README's error kinds. Everything goes through the public API with its
// default options (retries on).

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/scenarios/internal/format"
	"github.com/agentsession/agentsession/sessions"
)

const (
	sdkName    = "go"
	sdkVersion = agentsession.Version
)

// call is one step, its aliases resolved to ids and its `with` to the
// operation's arguments.
type call struct {
	Do        string
	Client    string // format.Client*
	SessionID string // "" when the step names no session
	Args      map[string]any
}

type sdk struct {
	clients map[string]*sdkClient
}

// sdkClient is one token's client and its service. Handles are kept per
// session id so that a session's calls go through one handle, as a user's
// would.
type sdkClient struct {
	c  *agentsession.Client
	ss *sessions.Service

	mu      sync.Mutex
	handles map[string]*sessions.Session
}

func newSDK(baseURL string, tokens map[string]string) (*sdk, error) {
	s := &sdk{clients: map[string]*sdkClient{}}
	for name, tok := range tokens {
		c, err := agentsession.NewClient(agentsession.WithBaseURL(baseURL), agentsession.WithToken(tok),
			agentsession.WithoutEnvironment(), agentsession.WithUserAgent("scenario-runner"))
		if err != nil {
			return nil, err
		}
		s.clients[name] = &sdkClient{c: c, ss: sessions.New(c), handles: map[string]*sessions.Session{}}
	}
	return s, nil
}

func (k *sdkClient) handle(id string) *sessions.Session {
	k.mu.Lock()
	defer k.mu.Unlock()
	h, ok := k.handles[id]
	if !ok {
		h = k.ss.Session(id)
		k.handles[id] = h
	}
	return h
}

func (k *sdkClient) keep(h *sessions.Session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.handles[h.ID()] = h
}

type list[T any] struct {
	Items []T `json:"items"`
}

func collect[T any](seq iter.Seq2[T, error]) (list[T], error) {
	out := list[T]{Items: []T{}}
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

type turnArgs struct {
	Prompt         string         `json:"prompt"`
	Files          []string       `json:"files"`
	TimeoutMs      int            `json:"timeout_ms"`
	BusyPolicy     string         `json:"busy_policy"`
	IdempotencyKey string         `json:"idempotency_key"`
	Meta           map[string]any `json:"meta"`
	// OnPermission (turn) is the option every permission request of the
	// turn is answered with, through the SDK's permission handler.
	OnPermission string `json:"on_permission"`
	// Answer (turn_stream) is the option each permission_request event is
	// answered with, through Event.Answer.
	Answer string `json:"answer"`
}

func (a turnArgs) options() []sessions.TurnOption {
	var o []sessions.TurnOption
	if len(a.Files) > 0 {
		o = append(o, sessions.WithFiles(a.Files...))
	}
	if a.TimeoutMs > 0 {
		o = append(o, sessions.WithTimeout(time.Duration(a.TimeoutMs)*time.Millisecond))
	}
	if a.BusyPolicy != "" {
		o = append(o, sessions.WithBusyPolicy(sessions.BusyPolicy(a.BusyPolicy)))
	}
	if a.IdempotencyKey != "" {
		o = append(o, sessions.WithCallOptions(agentsession.IdempotencyKey(a.IdempotencyKey)))
	}
	if a.Meta != nil {
		o = append(o, sessions.WithMeta(a.Meta))
	}
	if a.OnPermission != "" {
		opt := a.OnPermission
		o = append(o, sessions.WithPermissionHandler(func(context.Context, *sessions.PermissionRequest) (string, error) {
			return opt, nil
		}))
	}
	return o
}

// frame is one frame of a session_stream observation.
type frame struct {
	Event     *sessions.Event   `json:"event,omitempty"`
	Lifecycle *lifecycle.Change `json:"lifecycle,omitempty"`
}

type sessionStreamValue struct {
	Frames  []frame        `json:"frames"`
	Session *sessions.Info `json:"session"`
}

type streamValue struct {
	Events []sessions.Event     `json:"events"`
	Result *sessions.TurnResult `json:"result"`
}

// call runs one operation; the value is what the SDK returned, marshalled
// by the caller as the observation's value.
func (s *sdk) call(ctx context.Context, c call) (value any, text *string, err error) {
	k := s.clients[c.Client]
	var h *sessions.Session
	if c.SessionID != "" {
		h = k.handle(c.SessionID)
	}
	needSession := func() error {
		if h == nil {
			return badf("%s needs a session", c.Do)
		}
		return nil
	}
	textOf := func(r *sessions.TurnResult) *string { t := r.Text(); return &t }

	switch c.Do {
	case "health":
		return first(k.c.Health(ctx))
	case "capabilities":
		return first(k.c.Capabilities(ctx))
	case "create_session":
		var a struct {
			Agent        string         `json:"agent"`
			Meta         map[string]any `json:"meta"`
			PlanSlug     string         `json:"plan_slug"`
			Context      map[string]any `json:"context"`
			AgentOptions map[string]any `json:"agent_options"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		n, err := k.ss.NewSession(ctx, sessions.CreateParams{Agent: a.Agent, Meta: a.Meta, PlanSlug: a.PlanSlug,
			Context: a.Context, AgentOptions: a.AgentOptions})
		if err != nil {
			return nil, nil, err
		}
		k.keep(n)
		return n.Info(), nil, nil
	case "get_session":
		var a struct {
			SessionID string `json:"session_id"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		if a.SessionID != "" {
			g, err := k.ss.Get(ctx, a.SessionID)
			if err != nil {
				return nil, nil, err
			}
			return g.Info(), nil, nil
		}
		if err := needSession(); err != nil {
			return nil, nil, err
		}
		return first(h.Refresh(ctx))
	case "list_sessions":
		var a struct {
			Status   string `json:"status"`
			Agent    string `json:"agent"`
			PlanSlug string `json:"plan_slug"`
			Limit    int32  `json:"limit"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		l, err := collect(k.ss.List(ctx, sessions.ListOptions{Status: lifecycle.Status(a.Status),
			Agent: a.Agent, PlanSlug: a.PlanSlug, PageSize: a.Limit}))
		return infos(l), nil, err
	case "upload":
		var a struct {
			Filename    string `json:"filename"`
			ContentType string `json:"content_type"`
			Content     string `json:"content"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		// Files belong to the tenant: any handle uploads them.
		return first(k.handle("").Upload(ctx, sessions.UploadParams{Filename: a.Filename,
			ContentType: a.ContentType, Content: strings.NewReader(a.Content)}))
	}

	if err := needSession(); err != nil {
		return nil, nil, err
	}
	switch c.Do {
	case "close_session":
		// Session.Close returns no CloseSessionResult (and answers a second
		// Close without a request), so the runner sends the contract's
		// closeSession through the SDK's request path to observe the answer.
		req, err := gen.NewCloseSessionRequest(k.c.BaseURL(), h.ID())
		if err != nil {
			return nil, nil, err
		}
		var res gen.CloseSessionResult
		if _, err := k.c.Do(ctx, req, &res); err != nil {
			return nil, nil, err
		}
		return res, nil, nil
	case "turn":
		var a turnArgs
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		if a.Answer != "" {
			return nil, nil, badf("answer is for turn_stream; a turn takes on_permission")
		}
		r, err := h.Turn(ctx, a.Prompt, a.options()...)
		if err != nil {
			return nil, nil, err
		}
		return r, textOf(r), nil
	case "turn_stream":
		var a turnArgs
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		if a.OnPermission != "" {
			return nil, nil, badf("on_permission is for turn; a turn_stream takes answer")
		}
		st := h.TurnStream(ctx, a.Prompt, a.options()...)
		v := streamValue{Events: []sessions.Event{}}
		for ev, err := range st.Events() {
			if err != nil {
				return nil, nil, err
			}
			v.Events = append(v.Events, ev)
			if a.Answer != "" && ev.Type == sessions.EventPermissionRequest {
				if _, err := ev.Answer(ctx, a.Answer); err != nil {
					return nil, nil, err
				}
			}
		}
		if v.Result, err = st.Result(); err != nil {
			return nil, nil, err
		}
		return v, textOf(v.Result), nil
	case "cancel":
		return first(h.Cancel(ctx))
	case "history":
		var a struct {
			Status string `json:"status"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		var opts []agentsession.CallOption
		if a.Status != "" {
			opts = append(opts, sessions.OnlyStatus(sessions.TurnStatus(a.Status)))
		}
		return collectValue(h.History(ctx, opts...))
	case "answer_permission":
		var a struct {
			RequestID string `json:"request_id"`
			OptionID  string `json:"option_id"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return first(h.AnswerPermission(ctx, a.RequestID, a.OptionID))
	case "permissions":
		var a struct {
			Status string `json:"status"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return collectValue(h.Permissions(ctx, sessions.PermissionStatus(a.Status)))
	case "cancel_turn":
		var a struct {
			TurnIndex int32 `json:"turn_index"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return first(h.CancelTurnAt(ctx, a.TurnIndex))
	case "lifecycle_events":
		var a struct {
			After int64 `json:"after"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return collectValue(h.LifecycleEvents(ctx, a.After))
	case "session_stream":
		var a struct {
			After string `json:"after"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		var from sessions.Position
		if a.After != "" {
			if from, err = sessions.ParsePosition(a.After); err != nil {
				return nil, nil, badf("after: %v", err)
			}
		}
		v := sessionStreamValue{Frames: []frame{}}
		for f, err := range h.Watch(ctx, from) {
			if err != nil {
				return nil, nil, err
			}
			v.Frames = append(v.Frames, frame{Event: f.Event, Lifecycle: f.Lifecycle})
		}
		v.Session = h.Info()
		return v, nil, nil
	case "events":
		var a struct {
			After int64 `json:"after"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return collectValue(h.Events(ctx, a.After))
	case "pause":
		return changed(h, h.Pause(ctx))
	case "resume":
		return changed(h, h.Resume(ctx))
	case "end":
		var a struct {
			Status  string `json:"status"`
			Summary string `json:"summary"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return changed(h, h.End(ctx, lifecycle.EndStatus(a.Status), a.Summary))
	case "continue":
		var a struct {
			Agent    string         `json:"agent"`
			Meta     map[string]any `json:"meta"`
			PlanSlug string         `json:"plan_slug"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		next, err := h.Continue(ctx, lifecycle.ContinueParams{Agent: a.Agent, Meta: a.Meta, PlanSlug: a.PlanSlug})
		if err != nil {
			return nil, nil, err
		}
		k.keep(next)
		return next.Info(), nil, nil
	case "handoff":
		var a struct {
			Summary        string         `json:"summary"`
			NextSteps      []string       `json:"next_steps"`
			Blockers       []string       `json:"blockers"`
			ContextForNext map[string]any `json:"context_for_next"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return changed(h, h.Handoff(ctx, lifecycle.HandoffParams{Summary: a.Summary, NextSteps: a.NextSteps,
			Blockers: a.Blockers, ContextForNext: a.ContextForNext}))
	case "handoff_context":
		return first(h.HandoffContext(ctx))
	case "log":
		var a struct {
			Type        string         `json:"type"`
			Message     string         `json:"message"`
			MessageSize int            `json:"message_size"`
			Data        map[string]any `json:"data"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		if a.MessageSize > 0 {
			a.Message = strings.Repeat("x", a.MessageSize)
		}
		return first(h.Log(ctx, lifecycle.LogParams{Type: lifecycle.LogType(a.Type), Message: a.Message, Data: a.Data}))
	case "log_entries":
		var a struct {
			Type  string `json:"type"`
			Order string `json:"order"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		var opts []agentsession.CallOption
		switch a.Order {
		case "", string(gen.LogOrderOldestFirst):
		case string(gen.LogOrderNewestFirst):
			opts = append(opts, sessions.NewestFirst())
		default:
			return nil, nil, badf("unknown order %q", a.Order)
		}
		return collectValue(h.LogEntries(ctx, lifecycle.LogType(a.Type), opts...))
	case "add_artifact":
		var a struct {
			Path     string         `json:"path"`
			Action   string         `json:"action"`
			Metadata map[string]any `json:"metadata"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return first(h.AddArtifact(ctx, lifecycle.ArtifactParams{Path: a.Path,
			Action: lifecycle.ArtifactAction(a.Action), Metadata: a.Metadata}))
	case "artifacts":
		var a struct {
			Action string `json:"action"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return collectValue(h.Artifacts(ctx, lifecycle.ArtifactAction(a.Action)))
	case "update_context":
		var a struct {
			Patch map[string]any `json:"patch"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		return changed(h, h.UpdateContext(ctx, a.Patch))
	case "replay_context":
		return first(h.ReplayContext(ctx))
	case "replay":
		var a struct {
			Agent string         `json:"agent"`
			Meta  map[string]any `json:"meta"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		replayed, err := h.Replay(ctx, lifecycle.ReplayParams{Agent: a.Agent, Meta: a.Meta})
		if err != nil {
			return nil, nil, err
		}
		k.keep(replayed)
		return replayed.Info(), nil, nil
	case "spawn":
		var a struct {
			Agent string         `json:"agent"`
			Meta  map[string]any `json:"meta"`
		}
		if err := decodeArgs(c.Args, &a); err != nil {
			return nil, nil, err
		}
		child, err := h.Spawn(ctx, sessions.CreateParams{Agent: a.Agent, Meta: a.Meta})
		if err != nil {
			return nil, nil, err
		}
		k.keep(child)
		return child.Info(), nil, nil
	case "children":
		l, err := collect(h.Children(ctx, ""))
		return infos(l), nil, err
	}
	return nil, nil, badf("unknown operation %q", c.Do)
}

// changed observes a verb that answers with the session: the handle's Info,
// which the answer updated.
func changed(h *sessions.Session, err error) (any, *string, error) {
	if err != nil {
		return nil, nil, err
	}
	return h.Info(), nil, nil
}

func first[T any](v T, err error) (any, *string, error) {
	if err != nil {
		return nil, nil, err
	}
	return v, nil, nil
}

func collectValue[T any](seq iter.Seq2[T, error]) (any, *string, error) {
	l, err := collect(seq)
	if err != nil {
		return nil, nil, err
	}
	return l, nil, nil
}

func infos(l list[*sessions.Session]) list[*sessions.Info] {
	out := list[*sessions.Info]{Items: make([]*sessions.Info, len(l.Items))}
	for i, s := range l.Items {
		out.Items[i] = s.Info()
	}
	return out
}

// classify maps an error to its kind through the SDK's typed errors
// (README "Errors"): the first kind that applies.
func classify(err error) format.ErrorInfo {
	e := format.ErrorInfo{Message: err.Error()}
	var ae *agentsession.APIError
	if errors.As(err, &ae) {
		e.Status, e.Code = ae.StatusCode, string(ae.Code)
	}
	sentinels := []struct {
		kind string
		err  error
	}{
		{format.KindAuth, agentsession.ErrAuth},
		{format.KindNotFound, agentsession.ErrNotFound},
		{format.KindBusy, agentsession.ErrBusy},
		{format.KindInvalidTransition, agentsession.ErrInvalidTransition},
		{format.KindSessionPaused, agentsession.ErrSessionPaused},
		{format.KindSessionEnded, agentsession.ErrSessionEnded},
		{format.KindSpawnLimit, agentsession.ErrSpawnLimit},
		{format.KindPermissionRequired, sessions.ErrPermissionRequired},
		{format.KindPermissionResolved, agentsession.ErrPermissionResolved},
		{format.KindTurnEnded, agentsession.ErrTurnEnded},
		{format.KindConflict, agentsession.ErrConflict},
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			e.Kind = s.kind
			return e
		}
	}
	var te *agentsession.TransportError
	switch {
	case errors.Is(err, agentsession.ErrTooLarge): // before ErrValidation, which a 413 also matches
		e.Kind = format.KindTooLarge
	case errors.Is(err, agentsession.ErrValidation):
		e.Kind = format.KindValidation
	case errors.Is(err, agentsession.ErrRateLimited):
		e.Kind = format.KindRateLimited
	case errors.Is(err, agentsession.ErrServer):
		e.Kind = format.KindServer
	case errors.As(err, &te), errors.Is(err, sessions.ErrStreamLost):
		e.Kind = format.KindTransport
	default:
		e.Kind = format.KindUntyped
		e.Message = fmt.Sprintf("%T: %v", err, err)
	}
	return e
}
