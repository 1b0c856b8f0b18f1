// Command go is the Go SDK's scenario runner (scenarios/README.md): it runs
// the scenarios of a directory against a server through the Go SDK and
// writes one result file in the common format.
//
//	go run ./scenarios/runners/go --base-url URL --token T --token2 T2 \
//	    --run RUN --scenarios scenarios --out result.json [--only ID]
//
// This file holds what every runner does alike (aliases, ${run}, meta,
// prompts, background turns, wait_activity); sdk.go is the one file that
// calls the SDK.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/agentsession/agentsession/scenarios/internal/format"
)

// stepTimeout bounds one step, so that an SDK that hangs shows up as a
// failed step instead of a stuck run.
const stepTimeout = 60 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	baseURL, token, token2, runID, dir, out, only string
}

func run(args []string, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("go-runner", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.baseURL, "base-url", "", "the server's base URL (required)")
	fs.StringVar(&o.token, "token", "", "the first tenant's token (required)")
	fs.StringVar(&o.token2, "token2", "", "the second tenant's token (required)")
	fs.StringVar(&o.runID, "run", "", "the run id, substituted for ${run} (required)")
	fs.StringVar(&o.dir, "scenarios", "", "the directory of scenario files (required)")
	fs.StringVar(&o.out, "out", "", "the result file to write (required)")
	fs.StringVar(&o.only, "only", "", "run only the scenario with this id")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.baseURL == "" || o.token == "" || o.token2 == "" || o.runID == "" || o.dir == "" || o.out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: go-runner --base-url URL --token TOKEN --token2 TOKEN2 --run RUN_ID --scenarios DIR --out FILE [--only ID]")
		return 2
	}
	scs, err := format.LoadDir(o.dir)
	if err != nil {
		fmt.Fprintln(stderr, "go-runner:", err)
		return 1
	}
	tokens := map[string]string{
		format.ClientDefault:     o.token,
		format.ClientOtherTenant: o.token2,
		format.ClientBadToken:    "scenario-bad-token",
	}
	res := format.Result{SDK: sdkName, SDKVersion: sdkVersion, Run: o.runID, Scenarios: []format.ScenarioResult{}}
	found := false
	for _, sc := range scs {
		if o.only != "" && sc.ID != o.only {
			continue
		}
		found = true
		// Fresh clients per scenario (scenarios/README.md): no retry budget or
		// turn order carries over from one scenario into the next.
		sdk, err := newSDK(o.baseURL, tokens)
		if err != nil {
			fmt.Fprintln(stderr, "go-runner:", err)
			return 1
		}
		res.Scenarios = append(res.Scenarios, runScenario(sdk, sc, o.runID))
	}
	if !found {
		fmt.Fprintf(stderr, "go-runner: no scenario %q in %s\n", o.only, o.dir)
		return 2
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err == nil {
		err = os.WriteFile(o.out, append(b, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "go-runner:", err)
		return 1
	}
	return 0
}

// badStep is a step the runner cannot carry out as written: the scenario
// is aborted, since the fault is the scenario's (or an earlier step's), not
// the SDK's.
type badStep struct{ msg string }

func (e *badStep) Error() string { return e.msg }

func badf(format string, a ...any) error { return &badStep{fmt.Sprintf(format, a...)} }

// outcome is what one SDK call returned.
type outcome struct {
	value any
	text  *string
	err   error
}

type scenarioRun struct {
	sdk        *sdk
	sc         format.Scenario
	runID      string
	sessions   map[string]string // alias -> session id
	files      map[string]string // alias -> file token
	background map[string]chan outcome
}

func runScenario(sdk *sdk, sc format.Scenario, runID string) format.ScenarioResult {
	r := &scenarioRun{sdk: sdk, sc: sc, runID: runID, sessions: map[string]string{},
		files: map[string]string{}, background: map[string]chan outcome{}}
	out := format.ScenarioResult{ID: sc.ID, Observations: []format.Observation{}}
	defer r.drain()
	for i, st := range sc.Steps {
		obs, err := r.step(i+1, st)
		if err != nil {
			msg := fmt.Sprintf("step %d (%s): %v", i+1, st.Do, err)
			out.Aborted = &msg
			return out
		}
		out.Observations = append(out.Observations, obs)
	}
	return out
}

// drain waits for background turns nobody awaited, so that one scenario's
// turns never run into the next one.
func (r *scenarioRun) drain() {
	for _, ch := range r.background {
		select {
		case <-ch:
		case <-time.After(stepTimeout):
		}
	}
}

func (r *scenarioRun) step(n int, st format.Step) (format.Observation, error) {
	obs := format.Observation{Step: n, Do: st.Do}
	args, _ := format.Subst(st.With, r.runID).(map[string]any)
	if args == nil {
		args = map[string]any{}
	}
	client := st.Client
	if client == "" {
		client = format.ClientDefault
	}
	c := call{Do: st.Do, Client: client, Args: args}
	if st.Session != "" {
		id, ok := r.sessions[st.Session]
		if !ok {
			return obs, badf("session alias %q names no session (the step that made it failed or is missing)", st.Session)
		}
		c.SessionID = id
	}
	switch st.Do {
	case "create_session", "continue", "replay", "spawn":
		meta, _ := args["meta"].(map[string]any)
		merged := map[string]any{}
		for k, v := range meta {
			merged[k] = v
		}
		merged["scenario"], merged["run"] = r.sc.ID, r.runID
		if st.As != "" {
			merged["alias"] = st.As
		}
		args["meta"] = merged
	case "turn", "turn_stream":
		if err := r.resolveTurn(args); err != nil {
			return obs, err
		}
	}

	var o outcome
	switch {
	case st.Do == "await":
		alias, _ := args["turn"].(string)
		if s, ok := args["stream"].(string); ok {
			alias = s
		}
		ch, ok := r.background[alias]
		if !ok {
			return obs, badf("no background turn or stream %q", alias)
		}
		delete(r.background, alias)
		o = <-ch
	case (st.Do == "turn" || st.Do == "session_stream") && args["background"] == true:
		if st.As == "" {
			return obs, badf("a background %s needs `as`", st.Do)
		}
		delete(args, "background")
		ch := make(chan outcome, 1)
		r.background[st.As] = ch
		go func() { ch <- r.call(c, 10*stepTimeout) }()
		return obs, nil // neither value nor error: the await step observes it
	case st.Do == "wait_activity":
		o = r.waitActivity(c)
	default:
		delete(args, "background")
		o = r.call(c, stepTimeout)
	}
	var bad *badStep
	if errors.As(o.err, &bad) {
		return obs, bad
	}
	if o.err != nil {
		e := format.ErrorInfo{Kind: format.KindTimeout, Message: o.err.Error()}
		if !errors.Is(o.err, errActivityTimeout) {
			e = classify(o.err)
		}
		obs.Error = &e
		return obs, nil
	}
	b, err := marshalValue(o.value)
	if err != nil {
		return obs, badf("encoding the value: %v", err)
	}
	obs.Value, obs.Text = b, o.text
	if st.As != "" {
		r.remember(st, b)
	}
	return obs, nil
}

func (r *scenarioRun) call(c call, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	v, text, err := r.sdk.call(ctx, c)
	return outcome{value: v, text: text, err: err}
}

// remember names the session or file a step made.
func (r *scenarioRun) remember(st format.Step, value json.RawMessage) {
	var v struct {
		SessionID string `json:"session_id"`
		FileToken string `json:"file_token"`
	}
	_ = json.Unmarshal(value, &v)
	switch st.Do {
	case "create_session", "continue", "replay", "spawn":
		if v.SessionID != "" {
			r.sessions[st.As] = v.SessionID
		}
	case "upload":
		if v.FileToken != "" {
			r.files[st.As] = v.FileToken
		}
	}
}

// resolveTurn turns script and prompt_size into the prompt, and file
// aliases into file tokens.
func (r *scenarioRun) resolveTurn(args map[string]any) error {
	n := 0
	for _, k := range []string{"prompt", "script", "prompt_size"} {
		if _, ok := args[k]; ok {
			n++
		}
	}
	if n != 1 {
		return badf("a turn needs exactly one of prompt, script, prompt_size")
	}
	if s, ok := args["script"]; ok {
		b, err := json.Marshal(s)
		if err != nil {
			return badf("script: %v", err)
		}
		args["prompt"] = string(b)
		delete(args, "script")
	}
	if size, ok := args["prompt_size"]; ok {
		f, ok := size.(float64)
		if !ok || f < 0 {
			return badf("prompt_size must be a number >= 0")
		}
		args["prompt"] = strings.Repeat("x", int(f))
		delete(args, "prompt_size")
	}
	if files, ok := args["files"]; ok {
		list, ok := files.([]any)
		if !ok {
			return badf("files must be a list of upload aliases")
		}
		tokens := make([]any, len(list))
		for i, a := range list {
			alias, _ := a.(string)
			tok, ok := r.files[alias]
			if !ok {
				return badf("file alias %q names no upload", alias)
			}
			tokens[i] = tok
		}
		args["files"] = tokens
	}
	return nil
}

// errActivityTimeout is wait_activity giving up (kind timeout).
var errActivityTimeout = errors.New("wait_activity: the session did not reach the activity in time")

func (r *scenarioRun) waitActivity(c call) outcome {
	var a struct {
		Activity    string `json:"activity"`
		QueuedTurns *int32 `json:"queued_turns"`
		TimeoutMs   int    `json:"timeout_ms"`
	}
	if err := decodeArgs(c.Args, &a); err != nil {
		return outcome{err: err}
	}
	if a.Activity == "" && a.QueuedTurns == nil {
		return outcome{err: badf("wait_activity needs activity or queued_turns")}
	}
	if a.TimeoutMs == 0 {
		a.TimeoutMs = 5000
	}
	deadline := time.Now().Add(time.Duration(a.TimeoutMs) * time.Millisecond)
	get := call{Do: "get_session", Client: c.Client, SessionID: c.SessionID, Args: map[string]any{}}
	for {
		o := r.call(get, stepTimeout)
		if o.err != nil {
			return o
		}
		b, err := marshalValue(o.value)
		if err != nil {
			return outcome{err: err}
		}
		var s struct {
			Activity    string `json:"activity"`
			QueuedTurns int32  `json:"queued_turns"`
		}
		if json.Unmarshal(b, &s) == nil && (a.Activity == "" || s.Activity == a.Activity) &&
			(a.QueuedTurns == nil || s.QueuedTurns == *a.QueuedTurns) {
			return o
		}
		if time.Now().After(deadline) {
			return outcome{err: errActivityTimeout}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decodeArgs decodes a step's `with` into v, refusing members v does not
// have: a misspelt argument is the scenario's mistake, not the SDK's.
func decodeArgs(args map[string]any, v any) error {
	b, err := json.Marshal(args)
	if err != nil {
		return badf("with: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badf("with: %v", err)
	}
	return nil
}

func marshalValue(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	return json.RawMessage(b), err
}
