package format

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// sessionUse says whether an operation addresses a session.
type sessionUse int

const (
	noSession sessionUse = iota
	needsSession
	// optionalSession: get_session takes a literal session_id instead.
	optionalSession
)

// What an operation's `as` names.
const (
	asNothing    = ""
	asSession    = "session"
	asFile       = "file"
	asBackground = "background" // a background turn or session_stream, awaited later
)

// Op is one `do` of README "Operations": the `with` members it takes (the
// 1.2 additions included), whether it addresses a session and what its
// `as` names.
type Op struct {
	Session sessionUse
	With    []string
	As      string
}

var turnMembers = []string{"prompt", "script", "prompt_size", "files", "timeout_ms", "busy_policy", "idempotency_key", "meta"}

// Ops is every operation a scenario may use. A runner that meets one it
// does not implement aborts the scenario; the format refuses anything else
// before any runner starts, so a typo never reaches three runners.
var Ops = map[string]Op{
	"health":            {},
	"capabilities":      {},
	"create_session":    {With: []string{"agent", "meta", "plan_slug", "context", "agent_options"}, As: asSession},
	"get_session":       {Session: optionalSession, With: []string{"session_id"}},
	"list_sessions":     {With: []string{"status", "agent", "plan_slug", "limit"}},
	"close_session":     {Session: needsSession},
	"turn":              {Session: needsSession, With: append([]string{"background", "on_permission"}, turnMembers...), As: asBackground},
	"turn_stream":       {Session: needsSession, With: append([]string{"answer"}, turnMembers...)},
	"await":             {With: []string{"turn", "stream"}},
	"cancel":            {Session: needsSession},
	"wait_activity":     {Session: needsSession, With: []string{"activity", "timeout_ms", "queued_turns"}},
	"history":           {Session: needsSession, With: []string{"status"}},
	"events":            {Session: needsSession, With: []string{"after"}},
	"pause":             {Session: needsSession},
	"resume":            {Session: needsSession},
	"end":               {Session: needsSession, With: []string{"status", "summary"}},
	"continue":          {Session: needsSession, With: []string{"agent", "meta", "plan_slug"}, As: asSession},
	"handoff":           {Session: needsSession, With: []string{"summary", "next_steps", "blockers", "context_for_next"}},
	"handoff_context":   {Session: needsSession},
	"log":               {Session: needsSession, With: []string{"type", "message", "message_size", "data"}},
	"log_entries":       {Session: needsSession, With: []string{"type", "order"}},
	"add_artifact":      {Session: needsSession, With: []string{"path", "action", "metadata"}},
	"artifacts":         {Session: needsSession, With: []string{"action"}},
	"update_context":    {Session: needsSession, With: []string{"patch"}},
	"replay_context":    {Session: needsSession},
	"replay":            {Session: needsSession, With: []string{"agent", "meta"}, As: asSession},
	"spawn":             {Session: needsSession, With: []string{"agent", "meta"}, As: asSession},
	"children":          {Session: needsSession},
	"upload":            {With: []string{"filename", "content_type", "content"}, As: asFile},
	"answer_permission": {Session: needsSession, With: []string{"request_id", "option_id"}},
	"permissions":       {Session: needsSession, With: []string{"status"}},
	"cancel_turn":       {Session: needsSession, With: []string{"turn_index"}},
	"lifecycle_events":  {Session: needsSession, With: []string{"after"}},
	"session_stream":    {Session: needsSession, With: []string{"after", "background"}, As: asBackground},
}

// StreamPosition is a session-wide stream's resume point, `<seq>.<lifecycle_seq>`.
var StreamPosition = regexp.MustCompile(`^[0-9]{1,15}\.[0-9]{1,15}$`)

// IsBackground reports whether the step starts something its `await`
// observes: a turn or a session_stream with `background: true`.
func (st Step) IsBackground() bool {
	return (st.Do == "turn" || st.Do == "session_stream") && st.With["background"] == true
}

// Validate checks the scenario's steps against the vocabulary of README
// "Operations" (Ops): every operation known, every `with` member one its
// operation takes, aliases naming something an earlier step made. The
// error names the file, the step and its operation.
func (sc Scenario) Validate() error {
	if err := validateSteps(sc.Steps); err != nil {
		return fmt.Errorf("%s: %w", sc.File, err)
	}
	return nil
}

// validateSteps checks every step against Ops and against the steps before
// it (aliases name something made earlier). Errors name the step and its
// operation; the caller adds the file.
func validateSteps(steps []Step) error {
	made := map[string]string{} // alias -> what it names (asSession, asFile, "turn", "stream")
	for i, st := range steps {
		if err := validateStep(st, made); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, st.Do, err)
		}
		if st.As == "" {
			continue
		}
		switch kind := Ops[st.Do].As; kind {
		case asBackground:
			made[st.As] = st.Do // "turn" or "session_stream"
		default:
			made[st.As] = kind
		}
	}
	return nil
}

func validateStep(st Step, made map[string]string) error {
	op, ok := Ops[st.Do]
	if !ok {
		return fmt.Errorf("unknown operation %q (README \"Operations\" lists them: %s)", st.Do, strings.Join(opNames(), ", "))
	}
	for _, k := range sortedMembers(st.With) {
		if !contains(op.With, k) {
			takes := "no `with` members"
			if len(op.With) > 0 {
				takes = "only " + strings.Join(op.With, ", ")
			}
			return fmt.Errorf("unknown `with` member %q (%s takes %s)", k, st.Do, takes)
		}
	}
	switch op.Session {
	case noSession:
		if st.Session != "" {
			return fmt.Errorf("`session` given, but %s addresses no session", st.Do)
		}
	case needsSession:
		if st.Session == "" {
			return fmt.Errorf("no `session`: %s addresses one", st.Do)
		}
	case optionalSession:
		_, literal := st.With["session_id"]
		if (st.Session == "") == !literal {
			return fmt.Errorf("give either `session` or with.session_id")
		}
	}
	if st.Session != "" && made[st.Session] != asSession {
		return fmt.Errorf("session alias %q names no session an earlier step made", st.Session)
	}
	if st.As != "" {
		switch {
		case op.As == asNothing:
			return fmt.Errorf("`as` given, but %s makes nothing to name", st.Do)
		case op.As == asBackground && !st.IsBackground():
			return fmt.Errorf("`as` on a %s names a background one: add `background: true`", st.Do)
		case made[st.As] != "":
			return fmt.Errorf("alias %q is used twice", st.As)
		}
	}
	if st.IsBackground() {
		if st.As == "" {
			return fmt.Errorf("a background %s needs `as` (its await names it)", st.Do)
		}
		if st.Expect != nil || st.ExpectError != "" {
			return fmt.Errorf("a background %s is observed by its await: put expect there", st.Do)
		}
	}
	if b, ok := st.With["background"]; ok {
		if _, isBool := b.(bool); !isBool {
			return fmt.Errorf("with.background must be true or false")
		}
	}
	return validateMembers(st, made)
}

// validateMembers checks the values of the members whose meaning the
// orchestrator or every runner depends on.
func validateMembers(st Step, made map[string]string) error {
	w := st.With
	switch st.Do {
	case "await":
		turn, isTurn := w["turn"].(string)
		stream, isStream := w["stream"].(string)
		switch {
		case isTurn == isStream:
			return fmt.Errorf("await takes exactly one of with.turn (a background turn) and with.stream (a background session_stream)")
		case isTurn && made[turn] != "turn":
			return fmt.Errorf("with.turn %q names no background turn an earlier step started", turn)
		case isStream && made[stream] != "session_stream":
			return fmt.Errorf("with.stream %q names no background session_stream an earlier step started", stream)
		}
	case "turn", "turn_stream":
		for _, k := range []string{"on_permission", "answer"} {
			if v, ok := w[k]; ok {
				if s, _ := v.(string); s == "" {
					return fmt.Errorf("with.%s must be an option id (a non-empty string)", k)
				}
			}
		}
		if files, ok := w["files"].([]any); ok {
			for _, f := range files {
				if s, _ := f.(string); made[s] != asFile {
					return fmt.Errorf("with.files: %v names no upload an earlier step made", f)
				}
			}
		}
		if m, ok := w["meta"]; ok {
			if _, isObject := m.(map[string]any); !isObject {
				return fmt.Errorf("with.meta must be an object")
			}
		}
	case "wait_activity":
		_, a := w["activity"]
		q, hasQ := w["queued_turns"]
		if !a && !hasQ {
			return fmt.Errorf("wait_activity needs with.activity, with.queued_turns or both")
		}
		if hasQ && !isCount(q) {
			return fmt.Errorf("with.queued_turns must be a whole number ≥ 0, got %v", q)
		}
	case "log_entries":
		if o, ok := w["order"]; ok && o != "oldest_first" && o != "newest_first" {
			return fmt.Errorf("with.order must be oldest_first or newest_first, got %v", o)
		}
	case "cancel_turn":
		if n, ok := w["turn_index"]; !ok || !isCount(n) || n.(float64) < 1 {
			return fmt.Errorf("cancel_turn needs with.turn_index, a whole number ≥ 1")
		}
	case "answer_permission":
		for _, k := range []string{"request_id", "option_id"} {
			if s, _ := w[k].(string); s == "" {
				return fmt.Errorf("answer_permission needs with.%s (a non-empty string)", k)
			}
		}
	case "session_stream":
		if a, ok := w["after"]; ok {
			if s, _ := a.(string); !StreamPosition.MatchString(s) {
				return fmt.Errorf("with.after must be a position <seq>.<lifecycle_seq> such as '0.0', got %v", a)
			}
		}
	case "create_session":
		if o, ok := w["agent_options"]; ok {
			if _, isObject := o.(map[string]any); !isObject {
				return fmt.Errorf("with.agent_options must be an object")
			}
		}
	}
	return nil
}

// isCount: a JSON number that is a whole number ≥ 0.
func isCount(v any) bool {
	f, ok := v.(float64)
	return ok && f >= 0 && f == float64(int64(f))
}

func opNames() []string {
	names := make([]string, 0, len(Ops))
	for n := range Ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sortedMembers(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
