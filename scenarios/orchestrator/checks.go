package main

import (
	"fmt"
	"strings"

	"github.com/agentsession/agentsession/scenarios/internal/format"
)

// Failure is one thing that went wrong, with where it happened.
type Failure struct {
	SDK      string `json:"sdk"`
	Profile  string `json:"profile"`
	Scenario string `json:"scenario,omitempty"`
	Step     int    `json:"step,omitempty"`
	Do       string `json:"do,omitempty"`
	// Check names what failed: runner, aborted, untyped, error, expect,
	// stream, server, sdk-diff, profile-diff or secret.
	Check   string `json:"check"`
	Message string `json:"message"`
}

func (f Failure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s/%s] ", f.SDK, f.Profile)
	if f.Scenario != "" {
		b.WriteString(f.Scenario)
		if f.Step > 0 {
			fmt.Fprintf(&b, " step %d (%s)", f.Step, f.Do)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: %s", f.Check, f.Message)
	return b.String()
}

// scenarioCheck is one scenario of one run, checked.
type scenarioCheck struct {
	sc       format.Scenario
	steps    int
	stepsOK  int
	failures []Failure
	// norm holds each step's normalized observation (index step-1), nil
	// for a step with no observation.
	norm []map[string]any
	al   *aliases
}

func (c *scenarioCheck) ok() bool { return len(c.failures) == 0 }

func (c *scenarioCheck) fail(step int, check, msg string) {
	f := Failure{Scenario: c.sc.ID, Step: step, Check: check, Message: msg}
	if step > 0 && step <= len(c.sc.Steps) {
		f.Do = c.sc.Steps[step-1].Do
	}
	c.failures = append(c.failures, f)
}

// checkScenario checks a scenario's observations on their own: each step
// against its expect or expect_error, no untyped error, each streamed
// turn's events in order without gaps and equal to its result's. al names
// the run's sessions and files (learnt from the server and the steps).
func checkScenario(sc format.Scenario, res *format.ScenarioResult, al *aliases) *scenarioCheck {
	c := &scenarioCheck{sc: sc, steps: len(sc.Steps), norm: make([]map[string]any, len(sc.Steps)), al: al}
	if res == nil {
		c.fail(0, "runner", "the result file has no such scenario")
		return c
	}
	al.learn(sc, res.Observations)
	byStep := map[int]format.Observation{}
	for _, o := range res.Observations {
		if o.Step < 1 || o.Step > len(sc.Steps) {
			c.fail(0, "runner", fmt.Sprintf("an observation of step %d, which does not exist", o.Step))
			continue
		}
		if _, dup := byStep[o.Step]; dup {
			c.fail(o.Step, "runner", "two observations of the step")
			continue
		}
		byStep[o.Step] = o
	}
	for i, st := range sc.Steps {
		n := i + 1
		o, ok := byStep[n]
		if !ok {
			if res.Aborted == nil {
				c.fail(n, "runner", "no observation of the step")
			}
			continue
		}
		before := len(c.failures)
		c.checkStep(n, st, o)
		if len(c.failures) == before {
			c.stepsOK++
		}
	}
	if res.Aborted != nil {
		c.fail(0, "aborted", *res.Aborted)
	}
	return c
}

func (c *scenarioCheck) checkStep(n int, st format.Step, o format.Observation) {
	if o.Do != st.Do {
		c.fail(n, "runner", fmt.Sprintf("the observation is of %q", o.Do))
		return
	}
	norm, err := c.al.observationValue(o)
	if err != nil {
		c.fail(n, "runner", fmt.Sprintf("the value is not JSON: %v", err))
		return
	}
	c.norm[n-1] = norm
	if e := o.Error; e != nil {
		desc := fmt.Sprintf("%s (status %d, code %q)", e.Kind, e.Status, e.Code)
		if e.Message != "" {
			desc += ": " + e.Message
		}
		switch {
		case e.Kind == format.KindUntyped:
			c.fail(n, "untyped", "the SDK failed with an error it did not type: "+desc)
		case st.ExpectError == "":
			c.fail(n, "error", "the step failed with "+desc)
		case e.Kind != st.ExpectError:
			c.fail(n, "error", fmt.Sprintf("want error %s, got %s", st.ExpectError, desc))
		}
		return
	}
	if st.ExpectError != "" {
		c.fail(n, "error", fmt.Sprintf("want error %s, the step succeeded", st.ExpectError))
		return
	}
	background := st.Do == "turn" && st.With["background"] == true
	if background {
		if o.Value != nil || o.Text != nil {
			c.fail(n, "runner", "a background turn's start has no value or text (its await has)")
		}
		return
	}
	if o.Value == nil {
		c.fail(n, "runner", "a successful step without a value")
		return
	}
	if st.Expect != nil {
		want := c.al.normalize(st.Expect)
		if m := match(want, norm, ""); len(m) > 0 {
			c.fail(n, "expect", "the observation does not match expect:\n"+indent(m, "      "))
		}
	}
	if st.Do == "turn_stream" {
		if msg := checkStreamShape(norm); msg != "" {
			c.fail(n, "stream", msg)
		}
	}
}

// checkStreamShape: the streamed events have seqs without gaps or repeats
// and equal the result's events.
func checkStreamShape(norm map[string]any) string {
	v, _ := norm["value"].(map[string]any)
	events, ok := v["events"].([]any)
	if !ok {
		return "no events list in the value"
	}
	seqs := seqsOf(events)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return fmt.Sprintf("the streamed seqs are not contiguous: %v", seqs)
		}
	}
	result, _ := v["result"].(map[string]any)
	if re, ok := result["events"].([]any); ok {
		if d := diff(events, re, "events", "the stream", "the result"); len(d) > 0 {
			return "the streamed events differ from the result's:\n" + indent(d, "      ")
		}
	}
	return ""
}

func seqsOf(events []any) []int {
	seqs := make([]int, len(events))
	for i, e := range events {
		m, _ := e.(map[string]any)
		seqs[i] = num(m["seq"])
	}
	return seqs
}

// streamCount is what the server says about the streamed turns of a run.
type streamCount struct {
	streamed, duplicated, lost int
}

// checkStreamsOnServer compares each streamed turn's events with the
// server's events of that turn: every event exactly once.
func (c *scenarioCheck) checkStreamsOnServer(byID map[string]*serverSession) streamCount {
	var cnt streamCount
	for i, st := range c.sc.Steps {
		norm := c.norm[i]
		if st.Do != "turn_stream" || norm == nil || norm["value"] == nil {
			continue
		}
		v, _ := norm["value"].(map[string]any)
		events, _ := v["events"].([]any)
		result, _ := v["result"].(map[string]any)
		cnt.streamed += len(events)
		seen := map[int]int{}
		for _, s := range seqsOf(events) {
			seen[s]++
			if seen[s] > 1 {
				cnt.duplicated++
			}
		}
		id := c.al.idOf(st.Session)
		ss := byID[id]
		if ss == nil {
			c.fail(i+1, "stream", fmt.Sprintf("session %s is not on the server", st.Session))
			continue
		}
		idx := num(result["turn_index"])
		var turn *serverTurn
		for j := range ss.Turns {
			if ss.Turns[j].Index == idx {
				turn = &ss.Turns[j]
			}
		}
		if turn == nil {
			c.fail(i+1, "stream", fmt.Sprintf("turn %d of session %s is not on the server", idx, st.Session))
			continue
		}
		server := make([]any, len(turn.Events))
		for j, e := range turn.Events {
			server[j] = c.al.normalize(e)
			if seen[num(e["seq"])] == 0 {
				cnt.lost++
			}
		}
		if d := diff(events, server, "events", "the stream", "the server"); len(d) > 0 {
			c.fail(i+1, "stream", "the streamed events are not the server's events of the turn:\n"+indent(d, "      "))
		}
	}
	return cnt
}
