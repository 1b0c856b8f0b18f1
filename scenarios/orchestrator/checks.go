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
	// stream, session-stream, server, sdk-diff, profile-diff or secret.
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
	if st.IsBackground() {
		if o.Value != nil || o.Text != nil {
			c.fail(n, "runner", fmt.Sprintf("a background %s's start has no value or text (its await has)", st.Do))
		}
		return
	}
	if o.Value == nil {
		c.fail(n, "runner", "a successful step without a value")
		return
	}
	if st.Expect != nil {
		want := c.al.normalizeExpect(st.Expect)
		if m := match(want, norm, ""); len(m) > 0 {
			c.fail(n, "expect", "the observation does not match expect:\n"+indent(m, "      "))
		}
	}
	if st.Do == "turn_stream" {
		if msg := checkStreamShape(norm); msg != "" {
			c.fail(n, "stream", msg)
		}
	}
	if _, after, ok := c.sessionStreamOf(n); ok {
		v, _ := norm["value"].(map[string]any)
		for _, msg := range checkSessionStreamShape(v, after) {
			c.fail(n, "session-stream", msg)
		}
	}
}

// sessionStreamOf says whether step n's observation holds a session-wide
// stream's frames (a session_stream read in the foreground, or the await of
// a background one) and, if so, the stream's session alias and where it
// started.
func (c *scenarioCheck) sessionStreamOf(n int) (session string, after position, ok bool) {
	st := c.sc.Steps[n-1]
	switch {
	case st.Do == "session_stream" && !st.IsBackground():
	case st.Do == "await" && st.With["stream"] != nil:
		alias := str(st.With["stream"])
		found := false
		for _, s := range c.sc.Steps[:n-1] {
			if s.Do == "session_stream" && s.As == alias {
				st, found = s, true
			}
		}
		if !found {
			return "", position{}, false
		}
	default:
		return "", position{}, false
	}
	after, _ = parsePosition(str(st.With["after"]))
	return st.Session, after, true
}

// position is a session-wide stream's resume point, <seq>.<lifecycle_seq>.
type position struct{ seq, lifecycle int }

func parsePosition(s string) (position, bool) {
	var p position
	if !format.StreamPosition.MatchString(s) {
		return p, false
	}
	a, b, _ := strings.Cut(s, ".")
	_, errA := fmt.Sscan(a, &p.seq)
	_, errB := fmt.Sscan(b, &p.lifecycle)
	return p, errA == nil && errB == nil
}

// sessionFrames is a session_stream value's frames split into its turn
// events and its lifecycle events, each in stream order.
type sessionFrames struct {
	events, lifecycle []any
	// order is, per frame, 'e' or 'l'.
	order []byte
}

func splitFrames(v map[string]any) (sessionFrames, []string) {
	var f sessionFrames
	frames, ok := v["frames"].([]any)
	if !ok {
		return f, []string{"no frames list in the value"}
	}
	var bad []string
	for i, fr := range frames {
		m, _ := fr.(map[string]any)
		e, isEvent := m["event"].(map[string]any)
		l, isLifecycle := m["lifecycle"].(map[string]any)
		switch {
		case isEvent && !isLifecycle && len(m) == 1:
			f.events = append(f.events, e)
			f.order = append(f.order, 'e')
		case isLifecycle && !isEvent && len(m) == 1:
			f.lifecycle = append(f.lifecycle, l)
			f.order = append(f.order, 'l')
		default:
			bad = append(bad, fmt.Sprintf("frame %d is neither {\"event\": ...} nor {\"lifecycle\": ...}: %s", i, short(fr)))
		}
	}
	return f, bad
}

// checkSessionStreamShape: the stream's turn events have seqs without gaps
// or repeats after the start, its lifecycle events lifecycle_seqs likewise,
// and each lifecycle event comes after the turn event its after_seq names
// and before the next one (README "Observations").
func checkSessionStreamShape(v map[string]any, after position) []string {
	f, out := splitFrames(v)
	if f.order == nil && len(out) > 0 {
		return out
	}
	want := after.seq + 1
	for _, e := range f.events {
		s := num(e.(map[string]any)["seq"])
		if s != want {
			out = append(out, fmt.Sprintf("the turn events' seqs after %d are not contiguous: %v", after.seq, seqsOf(f.events)))
			break
		}
		want++
	}
	want = after.lifecycle + 1
	for _, l := range f.lifecycle {
		s := num(l.(map[string]any)["lifecycle_seq"])
		if s != want {
			out = append(out, fmt.Sprintf("the lifecycle events' lifecycle_seqs after %d are not contiguous: %v", after.lifecycle, lifecycleSeqsOf(f.lifecycle)))
			break
		}
		want++
	}
	// Placement: cur is the newest turn event before the frame (the start's
	// seq when none came yet).
	cur, sawEvent, ei, li := after.seq, false, 0, 0
	for _, kind := range f.order {
		if kind == 'e' {
			cur, sawEvent = num(f.events[ei].(map[string]any)["seq"]), true
			ei++
			continue
		}
		l := f.lifecycle[li].(map[string]any)
		li++
		as := num(l["after_seq"])
		placed := cur == as || (as < after.seq && !sawEvent)
		if !placed {
			out = append(out, fmt.Sprintf("lifecycle event %d (%s, after_seq %d) came after turn event %d: it belongs after event %d and before event %d",
				num(l["lifecycle_seq"]), str(l["type"]), as, cur, as, as+1))
		}
	}
	return out
}

func lifecycleSeqsOf(events []any) []int {
	seqs := make([]int, len(events))
	for i, e := range events {
		m, _ := e.(map[string]any)
		seqs[i] = num(m["lifecycle_seq"])
	}
	return seqs
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

// streamCount is what the server says about the streamed turns of a run:
// turn events streamed (by turn_stream and session_stream), duplicated and
// lost, and the session streams' lifecycle events likewise.
type streamCount struct {
	streamed, duplicated, lost                            int
	lifecycleStreamed, lifecycleDuplicated, lifecycleLost int
}

func (a *streamCount) add(b streamCount) {
	a.streamed += b.streamed
	a.duplicated += b.duplicated
	a.lost += b.lost
	a.lifecycleStreamed += b.lifecycleStreamed
	a.lifecycleDuplicated += b.lifecycleDuplicated
	a.lifecycleLost += b.lifecycleLost
}

// checkSessionStreamsOnServer compares each session-wide stream with the
// session on the server: its turn events exactly the session's events
// after the start (listEvents), its lifecycle events exactly its lifecycle
// events after the start (listLifecycleEvents), each once. The server is
// read once every run is done; a session stream is read until its session
// ends, so the server holds no more than the stream should have carried.
func (c *scenarioCheck) checkSessionStreamsOnServer(byID map[string]*serverSession) streamCount {
	var cnt streamCount
	for i := range c.sc.Steps {
		n := i + 1
		norm := c.norm[i]
		session, after, ok := c.sessionStreamOf(n)
		if !ok || norm == nil || norm["value"] == nil {
			continue
		}
		v, _ := norm["value"].(map[string]any)
		f, _ := splitFrames(v)
		cnt.streamed += len(f.events)
		cnt.lifecycleStreamed += len(f.lifecycle)
		ss := byID[c.al.idOf(session)]
		if ss == nil {
			c.fail(n, "session-stream", fmt.Sprintf("session %s is not on the server", session))
			continue
		}
		var events, lifecycle []any
		for _, e := range ss.Events {
			if num(e["seq"]) > after.seq {
				events = append(events, c.al.normalize(e))
			}
		}
		for _, l := range ss.Lifecycle {
			if num(l["lifecycle_seq"]) > after.lifecycle {
				lifecycle = append(lifecycle, c.al.normalize(l))
			}
		}
		dup, lost := countOnce(seqsOf(f.events), seqsOf(events))
		cnt.duplicated += dup
		cnt.lost += lost
		dup, lost = countOnce(lifecycleSeqsOf(f.lifecycle), lifecycleSeqsOf(lifecycle))
		cnt.lifecycleDuplicated += dup
		cnt.lifecycleLost += lost
		if d := diff(f.events, events, "events", "the stream", "the server"); len(d) > 0 {
			c.fail(n, "session-stream", "the streamed turn events are not the session's events on the server:\n"+indent(d, "      "))
		}
		if d := diff(f.lifecycle, lifecycle, "lifecycle", "the stream", "the server"); len(d) > 0 {
			c.fail(n, "session-stream", "the streamed lifecycle events are not the session's lifecycle events on the server:\n"+indent(d, "      "))
		}
	}
	return cnt
}

// countOnce counts the sequence numbers streamed more than once and those
// of the server never streamed.
func countOnce(streamed, server []int) (duplicated, lost int) {
	seen := map[int]int{}
	for _, s := range streamed {
		seen[s]++
		if seen[s] > 1 {
			duplicated++
		}
	}
	for _, s := range server {
		if seen[s] == 0 {
			lost++
		}
	}
	return duplicated, lost
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
