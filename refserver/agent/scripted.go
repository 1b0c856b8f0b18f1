package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// Script limits, as openapi.yaml's AgentScript and ScriptStep declare them.
const (
	MaxScriptSteps = 1000
	MaxStepDelayMs = 600000
)

// ParseScript decodes and checks an AgentScript. Unknown members are errors
// (a misspelt "delay_ms" would otherwise be silently ignored), and so are
// unknown event types, tool statuses, option kinds and stop reasons, a step
// with both an event and an ask, and a branch for an answer its ask does not
// offer. The error says where the problem is, such as
// `steps[2].event.type: unknown event type "txt"`.
func ParseScript(data []byte) (gen.AgentScript, error) {
	var s gen.AgentScript
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return gen.AgentScript{}, describeJSONError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return gen.AgentScript{}, errors.New("unexpected data after the script's JSON object")
	}
	if s.Steps == nil {
		return gen.AgentScript{}, errors.New("steps: required (an array, possibly empty)")
	}
	var given scriptPresence
	if err := json.Unmarshal(data, &given); err != nil { // data decoded above: cannot fail
		return gen.AgentScript{}, describeJSONError(data, err)
	}
	total := 0
	if err := checkSteps("steps", s.Steps, given.Steps, &total); err != nil {
		return gen.AgentScript{}, err
	}
	if given.StopReason != nil && !s.StopReason.Valid() {
		return gen.AgentScript{}, fmt.Errorf("stop_reason: unknown stop reason %q", s.StopReason)
	}
	if u := s.Usage; (u.InputTokens != nil && *u.InputTokens < 0) || (u.OutputTokens != nil && *u.OutputTokens < 0) {
		return gen.AgentScript{}, errors.New("usage: token counts must not be negative")
	}
	return s, nil
}

// MaxAskOptions bounds a scripted ask's options, as ScriptAsk declares.
const MaxAskOptions = 16

// CancelledBranch is the branch key of a request answered "cancelled".
const CancelledBranch = "cancelled"

// validRequestID is what a request id may look like (the contract's
// pattern of ids).
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// checkSteps checks steps (at path, with the members given in the JSON)
// and their branches; total counts the steps of the whole script, which
// MaxScriptSteps bounds.
func checkSteps(path string, steps []gen.ScriptStep, given []stepPresence, total *int) error {
	if *total += len(steps); *total > MaxScriptSteps {
		return fmt.Errorf("%s: more than %d steps in the script, branches included: at most %d allowed", path, MaxScriptSteps, MaxScriptSteps)
	}
	for i, st := range steps {
		at := fmt.Sprintf("%s[%d]", path, i)
		if st.DelayMs < 0 || st.DelayMs > MaxStepDelayMs {
			return fmt.Errorf("%s.delay_ms: %d is outside 0..%d", at, st.DelayMs, MaxStepDelayMs)
		}
		ev, ask := given[i].Event, given[i].Ask
		if ev != nil && ask != nil {
			return fmt.Errorf("%s: a step has an event or an ask, not both", at)
		}
		if ev != nil {
			if !st.Event.Type.Valid() {
				return fmt.Errorf("%s.event.type: unknown event type %q", at, st.Event.Type)
			}
			if ev.Status != nil && !st.Event.Status.Valid() {
				return fmt.Errorf("%s.event.status: unknown tool-call status %q", at, st.Event.Status)
			}
		}
		if ask != nil {
			if err := checkAsk(at+".ask", st.Ask, *ask, total); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkAsk(at string, a gen.ScriptAsk, given askPresence, total *int) error {
	switch {
	case given.RequestID != nil && !validRequestID.MatchString(a.RequestID):
		return fmt.Errorf("%s.request_id: %q is not 1-128 characters of A-Z a-z 0-9 _ -", at, a.RequestID)
	case a.Title == "":
		return fmt.Errorf("%s.title: required (a non-empty string)", at)
	case len(a.Options) == 0:
		return fmt.Errorf("%s.options: required (1 to %d options)", at, MaxAskOptions)
	case len(a.Options) > MaxAskOptions:
		return fmt.Errorf("%s.options: %d options, at most %d allowed", at, len(a.Options), MaxAskOptions)
	case given.TimeoutMs != nil && (a.TimeoutMs < 1 || a.TimeoutMs > MaxStepDelayMs):
		return fmt.Errorf("%s.timeout_ms: %d is outside 1..%d", at, a.TimeoutMs, MaxStepDelayMs)
	}
	offered := map[string]bool{}
	for j, o := range a.Options {
		switch {
		case o.OptionID == "" || len(o.OptionID) > 128:
			return fmt.Errorf("%s.options[%d].option_id: required (1 to 128 characters)", at, j)
		case o.OptionID == CancelledBranch:
			return fmt.Errorf("%s.options[%d].option_id: %q names the branch of a cancelled request", at, j, CancelledBranch)
		case offered[o.OptionID]:
			return fmt.Errorf("%s.options[%d].option_id: %q is offered twice", at, j, o.OptionID)
		case o.Name == "":
			return fmt.Errorf("%s.options[%d].name: required (a non-empty string)", at, j)
		case !o.Kind.Valid():
			return fmt.Errorf("%s.options[%d].kind: unknown option kind %q", at, j, o.Kind)
		}
		offered[o.OptionID] = true
	}
	for _, key := range sortedKeys(a.Branches) {
		b := a.Branches[key]
		where := fmt.Sprintf("%s.branches.%s", at, key)
		switch {
		case key != CancelledBranch && !offered[key]:
			return fmt.Errorf("%s: the ask offers no option %q", where, key)
		case b.Steps == nil:
			return fmt.Errorf("%s.steps: required (an array, possibly empty)", where)
		case given.Branches[key].StopReason != nil && !b.StopReason.Valid():
			return fmt.Errorf("%s.stop_reason: unknown stop reason %q", where, b.StopReason)
		}
		if err := checkSteps(where+".steps", b.Steps, given.Branches[key].Steps, total); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scriptPresence records which optional members a script's JSON has. The
// generated types hold them as values, so `"event":{}` would read like no
// event and `"stop_reason":""` like no stop reason; both are errors.
type scriptPresence struct {
	Steps      []stepPresence `json:"steps"`
	StopReason *string        `json:"stop_reason"`
}

type stepPresence struct {
	Event *struct {
		Status *string `json:"status"`
	} `json:"event"`
	Ask *askPresence `json:"ask"`
}

type askPresence struct {
	RequestID *string `json:"request_id"`
	TimeoutMs *int64  `json:"timeout_ms"`
	Branches  map[string]struct {
		Steps      []stepPresence `json:"steps"`
		StopReason *string        `json:"stop_reason"`
	} `json:"branches"`
}

// describeJSONError turns a decoding error into a message with a position.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the script"
		}
		return fmt.Errorf("%s: want %s, have JSON %s", field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if len(bytes.TrimSpace(data)) == 0 {
			return errors.New("empty script: want a JSON object such as {\"steps\":[]}")
		}
		return errors.New("invalid JSON: unexpected end of input")
	default:
		// DisallowUnknownFields: `json: unknown field "x"`.
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
}

// Play runs script without anyone to ask or to steer it: every ask is
// answered "cancelled". See PlayTurn.
func Play(ctx context.Context, script gen.AgentScript, emit Emit) (Outcome, error) {
	return PlayTurn(ctx, script, Input{}, emit)
}

// PlayTurn runs script for the turn in: before each step it takes the
// turn's guidance (in.Guidance), waits the step's delay (returning at once
// when ctx is done), then emits the step's event or asks the step's ask
// (in.Permissions; without one the ask is answered "cancelled") and plays
// the branch of the answer. A branch with a stop reason ends the turn there.
// After the last step it takes guidance once more, then ends with the
// script's stop reason (default end_turn) and usage.
func PlayTurn(ctx context.Context, script gen.AgentScript, in Input, emit Emit) (Outcome, error) {
	p := player{ctx: ctx, in: in, emit: emit}
	defer p.stopTimer()
	stop, err := p.play(script.Steps)
	if err == nil && stop == "" {
		err = p.guide()
	}
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{StopReason: gen.StopReasonEndTurn, Usage: script.Usage}
	switch {
	case stop != "":
		out.StopReason = stop
	case script.StopReason != "":
		out.StopReason = script.StopReason
	}
	return out, nil
}

type player struct {
	ctx   context.Context
	in    Input
	emit  Emit
	timer *time.Timer
}

func (p *player) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

// play runs steps; a branch's stop reason, when one ends the turn, is
// returned.
func (p *player) play(steps []gen.ScriptStep) (gen.StopReason, error) {
	for _, st := range steps {
		if err := p.guide(); err != nil {
			return "", err
		}
		if err := p.wait(time.Duration(st.DelayMs) * time.Millisecond); err != nil {
			return "", err
		}
		switch {
		case len(st.Ask.Options) > 0: // ParseScript: an ask has options
			answer, err := p.ask(st.Ask)
			if err != nil {
				return "", err
			}
			b, ok := st.Ask.Branches[answer]
			if !ok {
				continue
			}
			if stop, err := p.play(b.Steps); err != nil || stop != "" {
				return stop, err
			}
			if b.StopReason != "" {
				return b.StopReason, nil
			}
		case st.Event.Type != "": // ParseScript refuses an event without a type
			if err := p.emit(st.Event); err != nil {
				return "", err
			}
		}
	}
	return "", nil
}

// guide takes the guidance sent since the last step boundary; the server
// records it.
func (p *player) guide() error {
	if p.in.Guidance == nil {
		return nil
	}
	_, err := p.in.Guidance()
	return err
}

func (p *player) wait(d time.Duration) error {
	if d <= 0 {
		return p.ctx.Err()
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.ctx.Done():
		return p.ctx.Err()
	case <-p.timer.C:
		return nil
	}
}

// ask asks a and returns the chosen option id, or CancelledBranch for a
// request answered "cancelled" while the turn goes on.
func (p *player) ask(a gen.ScriptAsk) (string, error) {
	if p.in.Permissions == nil {
		return CancelledBranch, p.ctx.Err()
	}
	req := PermissionRequest{SessionID: p.in.SessionID, TurnIndex: p.in.TurnIndex, RequestID: a.RequestID,
		ToolCallID: a.ToolCallID, Title: a.Title, Options: make([]PermissionOption, len(a.Options))}
	for i, o := range a.Options {
		req.Options[i] = PermissionOption{ID: o.OptionID, Name: o.Name, Kind: PermissionOptionKind(o.Kind)}
	}
	askCtx := p.ctx
	if a.TimeoutMs > 0 {
		var cancel context.CancelFunc
		askCtx, cancel = context.WithTimeout(p.ctx, time.Duration(a.TimeoutMs)*time.Millisecond)
		defer cancel()
	}
	id, err := p.in.Permissions.RequestPermission(askCtx, req)
	switch {
	case p.ctx.Err() != nil:
		return "", p.ctx.Err()
	case errors.Is(err, ErrPermissionCancelled):
		return CancelledBranch, nil
	case err != nil:
		return "", err
	}
	return id, nil
}

type scripted struct{}

// Scripted returns the scripted agent: each turn's prompt is an AgentScript
// (JSON) that it plays. A prompt that is not a valid script ends the turn
// with stop_reason error and an error event saying what is wrong with it.
func Scripted() Agent { return scripted{} }

func (scripted) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "scripted", Kind: gen.AgentKindScripted,
		Description: "Plays the AgentScript (JSON) given as the prompt: events, delays, permission requests, stop reason and usage.",
		Permissions: true, Steer: true}
}

func (scripted) Run(ctx context.Context, in Input, emit Emit) (Outcome, error) {
	script, err := ParseScript([]byte(in.Prompt))
	if err != nil {
		msg := "invalid AgentScript: " + err.Error()
		if err := emit(gen.ScriptEvent{Type: gen.EventTypeError, Content: msg}); err != nil {
			return Outcome{}, err
		}
		return Outcome{StopReason: gen.StopReasonError}, nil
	}
	return PlayTurn(ctx, script, in, emit)
}

type fixedScript struct {
	info   gen.AgentInfo
	script gen.AgentScript
}

// NewScript returns an agent of kind scripted called name that plays script
// on every turn, whatever the prompt.
func NewScript(name, description string, script gen.AgentScript) Agent {
	// Capabilities show the script, so a client can see what the agent will do.
	info := gen.AgentInfo{Name: name, Kind: gen.AgentKindScripted, Description: description, Script: script,
		Permissions: asks(script.Steps), Steer: true}
	return fixedScript{info: info, script: script}
}

// asks reports whether a script with these steps asks permission (a step
// in a branch can only ask after the step the branch belongs to did).
func asks(steps []gen.ScriptStep) bool {
	for _, st := range steps {
		if len(st.Ask.Options) > 0 {
			return true
		}
	}
	return false
}

func (a fixedScript) Info() gen.AgentInfo { return a.info }

func (a fixedScript) Run(ctx context.Context, in Input, emit Emit) (Outcome, error) {
	return PlayTurn(ctx, a.script, in, emit)
}

// validName is what an agent name from a file name may look like; it keeps
// within CreateSessionRequest.agent's 128 characters.
var validName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// LoadDir reads every <name>.json file of dir (not its subdirectories) as an
// AgentScript and returns one agent called <name> per file, sorted by name.
// A file that is not a valid script is an error naming the file.
func LoadDir(dir string) ([]Agent, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("scripts directory: %w", err)
	}
	var agents []Agent
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		name := strings.TrimSuffix(e.Name(), ".json")
		if !validName.MatchString(name) {
			return nil, fmt.Errorf("script %s: the agent name %q must be 1-128 characters of A-Z a-z 0-9 . _ -", path, name)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("script %s: %w", path, err)
		}
		script, err := ParseScript(data)
		if err != nil {
			return nil, fmt.Errorf("script %s: %w", path, err)
		}
		agents = append(agents, NewScript(name, "Plays the script "+e.Name()+".", script))
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i].Info().Name < agents[j].Info().Name })
	return agents, nil
}
