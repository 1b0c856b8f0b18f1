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
// unknown event types, tool statuses and stop reasons. The error says where
// the problem is, such as `steps[2].event.type: unknown event type "txt"`.
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
	if len(s.Steps) > MaxScriptSteps {
		return gen.AgentScript{}, fmt.Errorf("steps: %d steps, at most %d allowed", len(s.Steps), MaxScriptSteps)
	}
	var given scriptPresence
	if err := json.Unmarshal(data, &given); err != nil { // data decoded above: cannot fail
		return gen.AgentScript{}, describeJSONError(data, err)
	}
	for i, st := range s.Steps {
		if st.DelayMs < 0 || st.DelayMs > MaxStepDelayMs {
			return gen.AgentScript{}, fmt.Errorf("steps[%d].delay_ms: %d is outside 0..%d", i, st.DelayMs, MaxStepDelayMs)
		}
		if ev := given.Steps[i].Event; ev != nil {
			if !st.Event.Type.Valid() {
				return gen.AgentScript{}, fmt.Errorf("steps[%d].event.type: unknown event type %q", i, st.Event.Type)
			}
			if ev.Status != nil && !st.Event.Status.Valid() {
				return gen.AgentScript{}, fmt.Errorf("steps[%d].event.status: unknown tool-call status %q", i, st.Event.Status)
			}
		}
	}
	if given.StopReason != nil && !s.StopReason.Valid() {
		return gen.AgentScript{}, fmt.Errorf("stop_reason: unknown stop reason %q", s.StopReason)
	}
	if u := s.Usage; (u.InputTokens != nil && *u.InputTokens < 0) || (u.OutputTokens != nil && *u.OutputTokens < 0) {
		return gen.AgentScript{}, errors.New("usage: token counts must not be negative")
	}
	return s, nil
}

// scriptPresence records which optional members a script's JSON has. The
// generated types hold them as values, so `"event":{}` would read like no
// event and `"stop_reason":""` like no stop reason; both are errors.
type scriptPresence struct {
	Steps []struct {
		Event *struct {
			Status *string `json:"status"`
		} `json:"event"`
	} `json:"steps"`
	StopReason *string `json:"stop_reason"`
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

// Play runs script: it waits each step's delay (returning at once when ctx is
// done), emits the step's event, and ends with the script's stop reason
// (default end_turn) and usage.
func Play(ctx context.Context, script gen.AgentScript, emit Emit) (Outcome, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for _, st := range script.Steps {
		if st.DelayMs > 0 {
			d := time.Duration(st.DelayMs) * time.Millisecond
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-ctx.Done():
				return Outcome{}, ctx.Err()
			case <-timer.C:
			}
		} else if err := ctx.Err(); err != nil {
			return Outcome{}, err
		}
		// A step without an event has an empty event type (ParseScript
		// refuses an event without a type).
		if st.Event.Type != "" {
			if err := emit(st.Event); err != nil {
				return Outcome{}, err
			}
		}
	}
	out := Outcome{StopReason: gen.StopReasonEndTurn, Usage: script.Usage}
	if script.StopReason != "" {
		out.StopReason = script.StopReason
	}
	return out, nil
}

type scripted struct{}

// Scripted returns the scripted agent: each turn's prompt is an AgentScript
// (JSON) that it plays. A prompt that is not a valid script ends the turn
// with stop_reason error and an error event saying what is wrong with it.
func Scripted() Agent { return scripted{} }

func (scripted) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "scripted", Kind: gen.AgentKindScripted,
		Description: "Plays the AgentScript (JSON) given as the prompt: events, delays, stop reason and usage."}
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
	return Play(ctx, script, emit)
}

type fixedScript struct {
	info   gen.AgentInfo
	script gen.AgentScript
}

// NewScript returns an agent of kind scripted called name that plays script
// on every turn, whatever the prompt.
func NewScript(name, description string, script gen.AgentScript) Agent {
	// Capabilities show the script, so a client can see what the agent will do.
	info := gen.AgentInfo{Name: name, Kind: gen.AgentKindScripted, Description: description, Script: script}
	return fixedScript{info: info, script: script}
}

func (a fixedScript) Info() gen.AgentInfo { return a.info }

func (a fixedScript) Run(ctx context.Context, _ Input, emit Emit) (Outcome, error) {
	return Play(ctx, a.script, emit)
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
