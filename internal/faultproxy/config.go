package faultproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Kind names a fault.
type Kind string

// The faults. doc.go says exactly what each one does.
const (
	KindReset    Kind = "reset"    // RST after AfterBytes of the response body
	KindTruncate Kind = "truncate" // fewer body bytes than Content-Length, then FIN
	KindStall    Kind = "stall"    // wait Duration before the headers, then deliver or drop
	KindSSECut   Kind = "sse_cut"  // close after AfterEvents id-carrying SSE frames
	KindStatus   Kind = "status"   // answer Status (429, 502, 503...) instead of the server
	KindDrop     Kind = "drop"     // close the connection without any answer
)

var kinds = []Kind{KindReset, KindTruncate, KindStall, KindSSECut, KindStatus, KindDrop}

// Stall outcomes (Fault.Then).
const (
	ThenDeliver = "deliver"
	ThenDrop    = "drop"
)

// Config is the proxy's whole behaviour: the rules and the seed of their
// probabilities. The zero Config forwards everything untouched.
type Config struct {
	// Seed drives every Schedule.Probability: the same seed and the same
	// sequence of requests inject the same faults.
	Seed int64 `json:"seed,omitempty" yaml:"seed,omitempty"`
	// MaxPerRequest, when > 0, caps the faults of one logical request
	// (see Schedule.PerRequest) across all rules together.
	MaxPerRequest int `json:"max_per_request,omitempty" yaml:"max_per_request,omitempty"`
	// Rules are tried from the highest Priority down; ties keep their order
	// here.
	Rules []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
}

// Rule injects Fault into the requests that Match selects, when Schedule
// says so.
type Rule struct {
	// Name identifies the rule in stats and logs; empty gets "rule-<n>"
	// (n counts from 1 in config order).
	Name     string   `json:"name,omitempty" yaml:"name,omitempty"`
	Priority int      `json:"priority,omitempty" yaml:"priority,omitempty"`
	Match    Match    `json:"match,omitzero" yaml:"match,omitempty"`
	Schedule Schedule `json:"schedule,omitzero" yaml:"schedule,omitempty"`
	Fault    Fault    `json:"fault" yaml:"fault"`
}

// Match selects requests; every field given must match (empty matches all).
type Match struct {
	// Methods, case-insensitive; empty: any method.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Path is an RE2 regular expression searched in the URL path (anchor it
	// with ^ and $ for a whole-path match).
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
	// PathPrefix must start the URL path.
	PathPrefix string `json:"path_prefix,omitempty" yaml:"path_prefix,omitempty"`
	// Stream, when set, matches on whether the Accept header asks for
	// text/event-stream (true) or not (false).
	Stream *bool `json:"stream,omitempty" yaml:"stream,omitempty"`
	// Body is an RE2 regular expression searched in the request body (its
	// first 32 MiB), so that a test can address one request by a marker it
	// put in the body, such as a prompt, whatever the session's id.
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
}

// Schedule says which of the requests a rule sees get the fault. A rule
// sees a request when it matches it and no higher rule took it; it counts
// them n = 1, 2, ... The zero Schedule faults every request it sees.
type Schedule struct {
	// Skip lets the first Skip matching requests through.
	Skip int `json:"skip,omitempty" yaml:"skip,omitempty"`
	// First faults only the First matching requests after Skip.
	First int `json:"first,omitempty" yaml:"first,omitempty"`
	// Every faults every Every-th matching request after Skip (the
	// Every-th, the 2*Every-th, ...).
	Every int `json:"every,omitempty" yaml:"every,omitempty"`
	// Probability, in [0, 1], faults a request with that probability
	// (drawn from the seeded generator); absent means 1.
	Probability *float64 `json:"probability,omitempty" yaml:"probability,omitempty"`
	// PerRequest, when > 0, faults at most PerRequest attempts of one
	// logical request: same method, path and Idempotency-Key header, or
	// same body when there is no key. Retries of a correct client then get
	// through.
	PerRequest int `json:"per_request,omitempty" yaml:"per_request,omitempty"`
	// Limit, when > 0, caps the faults this rule injects in total.
	Limit int `json:"limit,omitempty" yaml:"limit,omitempty"`
}

// Fault is what happens to a selected request. Which fields apply depends
// on Kind; Validate rejects a field that does not apply.
type Fault struct {
	Kind Kind `json:"kind" yaml:"kind"`
	// AfterBytes (reset, truncate): response body bytes sent before the cut.
	AfterBytes int64 `json:"after_bytes,omitempty" yaml:"after_bytes,omitempty"`
	// AfterEvents (sse_cut): SSE frames carrying an id sent before the cut;
	// at least 1.
	AfterEvents int `json:"after_events,omitempty" yaml:"after_events,omitempty"`
	// MidFrame (sse_cut): also send the next frame that has fields, all but
	// the blank line that would dispatch it.
	MidFrame bool `json:"mid_frame,omitempty" yaml:"mid_frame,omitempty"`
	// Duration (stall): how long the headers are held back.
	Duration Duration `json:"duration,omitzero" yaml:"duration,omitempty"`
	// Then (stall): "deliver" (default) or "drop" once Duration is over.
	Then string `json:"then,omitempty" yaml:"then,omitempty"`
	// Status (status): the HTTP status to answer, 400-599.
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
	// RetryAfter (status): the Retry-After header in seconds; a 429 without
	// it says 1.
	RetryAfter *int `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// RetryAfterMs (status): a Retry-After-Ms header, in milliseconds.
	RetryAfterMs *int `json:"retry_after_ms,omitempty" yaml:"retry_after_ms,omitempty"`
	// AfterResponse (stall, status, drop): forward the request first and
	// act once the server has answered, so the request reached the server
	// and only its answer is lost. Otherwise the request never reaches it.
	AfterResponse bool `json:"after_response,omitempty" yaml:"after_response,omitempty"`
	// RST (sse_cut, drop, stall with then drop): close with a TCP reset
	// instead of an orderly close.
	RST bool `json:"rst,omitempty" yaml:"rst,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("250ms").
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"250ms\", got %s", b)
	}
	return d.set(s)
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: duration: want a string such as 250ms", n.Line)
	}
	return d.set(n.Value)
}

func (d *Duration) set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %v", s, err)
	}
	*d = Duration(v)
	return nil
}

// ParseConfig decodes a Config from JSON (when the document starts with
// "{") or YAML, rejects unknown fields and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("faultproxy config (JSON): %w", err)
		}
		if dec.More() {
			return Config{}, errors.New("faultproxy config (JSON): more than one document")
		}
	} else if len(trimmed) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(trimmed))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("faultproxy config (YAML): %w", err)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	_, err := compile(c)
	return err
}

// compiledRule is a Rule ready to match.
type compiledRule struct {
	Rule
	index   int // position in Config.Rules
	path    *regexp.Regexp
	body    *regexp.Regexp
	methods map[string]bool
}

// compile validates c and returns its rules in evaluation order.
func compile(c Config) ([]*compiledRule, error) {
	var errs []error
	if c.MaxPerRequest < 0 {
		errs = append(errs, errors.New("max_per_request must not be negative"))
	}
	names := map[string]bool{}
	rules := make([]*compiledRule, 0, len(c.Rules))
	for i, r := range c.Rules {
		if r.Name == "" {
			r.Name = fmt.Sprintf("rule-%d", i+1)
		}
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("rule %q: "+format, append([]any{r.Name}, a...)...))
		}
		if names[r.Name] {
			bad("duplicate name")
		}
		names[r.Name] = true
		cr := &compiledRule{Rule: r, index: i}
		if r.Match.Path != "" {
			re, err := regexp.Compile(r.Match.Path)
			if err != nil {
				bad("match.path: %v", err)
			}
			cr.path = re
		}
		if r.Match.Body != "" {
			re, err := regexp.Compile(r.Match.Body)
			if err != nil {
				bad("match.body: %v", err)
			}
			cr.body = re
		}
		if len(r.Match.Methods) > 0 {
			cr.methods = map[string]bool{}
			for _, m := range r.Match.Methods {
				cr.methods[strings.ToUpper(m)] = true
			}
		}
		validateSchedule(r.Schedule, bad)
		validateFault(r.Fault, bad)
		rules = append(rules, cr)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("faultproxy config: %w", errors.Join(errs...))
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority > rules[j].Priority })
	return rules, nil
}

func validateSchedule(s Schedule, bad func(string, ...any)) {
	for name, v := range map[string]int{"skip": s.Skip, "first": s.First, "every": s.Every, "per_request": s.PerRequest, "limit": s.Limit} {
		if v < 0 {
			bad("schedule.%s must not be negative", name)
		}
	}
	if p := s.Probability; p != nil && (*p < 0 || *p > 1 || *p != *p) {
		bad("schedule.probability must be within [0, 1]")
	}
}

func validateFault(f Fault, bad func(string, ...any)) {
	known := false
	for _, k := range kinds {
		known = known || f.Kind == k
	}
	if !known {
		bad("fault.kind %q: want one of %v", f.Kind, kinds)
		return
	}
	// Every field that does not apply to the kind must be left out, so a
	// typo in the kind cannot silently drop a setting.
	applies := map[string]bool{}
	switch f.Kind {
	case KindReset, KindTruncate:
		applies["after_bytes"] = true
		if f.AfterBytes < 0 {
			bad("fault.after_bytes must not be negative")
		}
	case KindSSECut:
		applies["after_events"], applies["mid_frame"], applies["rst"] = true, true, true
		if f.AfterEvents < 1 {
			bad("fault.after_events must be at least 1")
		}
	case KindStall:
		applies["duration"], applies["then"], applies["after_response"], applies["rst"] = true, true, true, true
		if f.Duration <= 0 {
			bad("fault.duration must be positive")
		}
		if f.Then != "" && f.Then != ThenDeliver && f.Then != ThenDrop {
			bad("fault.then %q: want %q or %q", f.Then, ThenDeliver, ThenDrop)
		}
		if f.RST && f.Then != ThenDrop {
			bad("fault.rst applies only with then: drop")
		}
	case KindStatus:
		applies["status"], applies["retry_after"], applies["retry_after_ms"], applies["after_response"] = true, true, true, true
		if f.Status < 400 || f.Status > 599 {
			bad("fault.status %d: want 400-599", f.Status)
		}
		if f.RetryAfter != nil && *f.RetryAfter < 0 {
			bad("fault.retry_after must not be negative")
		}
		if f.RetryAfterMs != nil && *f.RetryAfterMs < 0 {
			bad("fault.retry_after_ms must not be negative")
		}
	case KindDrop:
		applies["after_response"], applies["rst"] = true, true
	}
	set := map[string]bool{
		"after_bytes": f.AfterBytes != 0, "after_events": f.AfterEvents != 0, "mid_frame": f.MidFrame,
		"duration": f.Duration != 0, "then": f.Then != "", "status": f.Status != 0,
		"retry_after": f.RetryAfter != nil, "retry_after_ms": f.RetryAfterMs != nil,
		"after_response": f.AfterResponse, "rst": f.RST,
	}
	fields := make([]string, 0, len(set))
	for k, v := range set {
		if v && !applies[k] {
			fields = append(fields, k)
		}
	}
	sort.Strings(fields)
	for _, k := range fields {
		bad("fault.%s does not apply to kind %s", k, f.Kind)
	}
}

// matches reports whether the rule selects r, whose body (read ahead) is body.
func (cr *compiledRule) matches(r *http.Request, body []byte) bool {
	m := cr.Match
	if cr.methods != nil && !cr.methods[r.Method] {
		return false
	}
	if m.PathPrefix != "" && !strings.HasPrefix(r.URL.Path, m.PathPrefix) {
		return false
	}
	if cr.path != nil && !cr.path.MatchString(r.URL.Path) {
		return false
	}
	if m.Stream != nil && *m.Stream != wantsStream(r) {
		return false
	}
	if cr.body != nil && !cr.body.Match(body) {
		return false
	}
	return true
}

// wantsStream reports whether the Accept header lists text/event-stream.
func wantsStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				return true
			}
		}
	}
	return false
}
