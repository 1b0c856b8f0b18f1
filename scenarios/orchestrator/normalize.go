package main

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"github.com/agentsession/agentsession/scenarios/internal/format"
)

// Placeholders of normalized observations (README "Observations").
const (
	phTime      = "<time>"
	phMs        = "<ms>"
	phID        = "<id>"
	phRequestID = "<request-id>"
)

// Ids the reference server makes: a prefix and 26 base32 characters.
var (
	anySessionID = regexp.MustCompile(`sess_[a-z2-7]{26}`)
	anyFileToken = regexp.MustCompile(`file_[a-z2-7]{26}`)
	// serverPermissionID is a permission request id the server made.
	serverPermissionID = regexp.MustCompile(`^perm_[a-z2-7]{26}$`)
)

// aliases names a run's sessions and files, for their placeholders.
type aliases struct {
	sessions map[string]string // id -> alias
	files    map[string]string // token -> alias
	run      string
	// expectation: normalizing a step's expect, which names a permission
	// request by its id without the members that tell an observed
	// PermissionRequest apart (options), so every request_id is kept.
	expectation bool
}

func newAliases(run string) *aliases {
	return &aliases{sessions: map[string]string{}, files: map[string]string{}, run: run}
}

// learn takes the ids a scenario's steps made from their observations:
// the session a create_session, continue, replay or spawn step named with
// `as`, the file of an upload step.
func (a *aliases) learn(sc format.Scenario, obs []format.Observation) {
	for _, o := range obs {
		if o.Step < 1 || o.Step > len(sc.Steps) || o.Value == nil {
			continue
		}
		st := sc.Steps[o.Step-1]
		if st.As == "" {
			continue
		}
		var v struct {
			SessionID string `json:"session_id"`
			FileToken string `json:"file_token"`
		}
		if json.Unmarshal(o.Value, &v) != nil {
			continue
		}
		switch st.Do {
		case "create_session", "continue", "replay", "spawn":
			if v.SessionID != "" {
				a.sessions[v.SessionID] = st.As
			}
		case "upload":
			if v.FileToken != "" {
				a.files[v.FileToken] = st.As
			}
		}
	}
}

// idOf returns the session id of alias, "" when none is known.
func (a *aliases) idOf(alias string) string {
	for id, al := range a.sessions {
		if al == alias {
			return id
		}
	}
	return ""
}

// normalize returns a copy of the JSON value v with everything that differs
// between runs replaced by placeholders: session ids, file tokens,
// timestamps, durations, work-log and artifact ids, request ids and the
// run's id (by ${run}, so that expectations written with ${run} match).
// Members whose value is null are dropped (an absent optional member and a
// null one are the same), and a prompt that holds a JSON object (a script)
// is rewritten canonically, since each language serializes it its own way.
func (a *aliases) normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		permission := a.expectation || isPermission(x)
		for k, e := range x {
			switch {
			case e == nil:
				continue
			case k == "request_id" && permission:
				// The scripts name their permission requests, and answers
				// are addressed by that name: it is deterministic. One the
				// server made (the script's ask gave none) is not.
				if id, _ := e.(string); serverPermissionID.MatchString(id) {
					out[k] = phRequestID
				} else {
					out[k] = a.normalize(e)
				}
				continue
			}
			out[k] = a.member(k, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = a.normalize(e)
		}
		return out
	case string:
		return a.str(x)
	}
	return v
}

// isPermission reports whether m is a permission request's state or event:
// a permission_request or permission_response event, or a PermissionRequest
// (the only object with both a request_id and options). Its request_id is
// kept; every other request_id (an X-Request-Id) differs between runs.
func isPermission(m map[string]any) bool {
	switch m["type"] {
	case "permission_request", "permission_response":
		return true
	}
	_, hasOptions := m["options"].([]any)
	_, hasID := m["request_id"].(string)
	return hasOptions && hasID
}

// normalizeExpect normalizes a step's expect like an observation, but
// keeps every request_id as written: an expectation names a permission
// request by the id its script gave it (and any other request id only by
// the placeholder).
func (a *aliases) normalizeExpect(v any) any {
	e := *a
	e.expectation = true
	return e.normalize(v)
}

func (a *aliases) member(key string, v any) any {
	s, isString := v.(string)
	_, isNumber := v.(float64)
	switch {
	case isString && (key == "time" || strings.HasSuffix(key, "_at")):
		return phTime
	case isNumber && key == "duration_ms":
		return phMs
	case isString && key == "request_id":
		return phRequestID
	case isString && key == "id":
		return phID
	case isString && key == "prompt":
		if c, ok := canonicalJSONObject(s); ok {
			return a.str(c)
		}
	}
	return a.normalize(v)
}

func (a *aliases) str(s string) string {
	if strings.Contains(s, "sess_") {
		s = anySessionID.ReplaceAllStringFunc(s, func(id string) string {
			if al, ok := a.sessions[id]; ok {
				return "<session:" + al + ">"
			}
			return "<session:?>"
		})
	}
	if strings.Contains(s, "file_") {
		s = anyFileToken.ReplaceAllStringFunc(s, func(tok string) string {
			if al, ok := a.files[tok]; ok {
				return "<file:" + al + ">"
			}
			return "<file:?>"
		})
	}
	if a.run != "" && strings.Contains(s, a.run) {
		s = strings.ReplaceAll(s, a.run, format.RunPlaceholder)
	}
	return s
}

// canonicalJSONObject re-encodes s when it is a JSON object: sorted keys,
// no insignificant space.
func canonicalJSONObject(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") {
		return "", false
	}
	var v map[string]any
	if json.Unmarshal([]byte(t), &v) != nil {
		return "", false
	}
	return canonical(v), true
}

// canonical is v's JSON with sorted keys (encoding/json sorts map keys) and
// without HTML escaping, for comparing and printing.
func canonical(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "<unencodable>"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// decodeJSON decodes b into plain JSON values (nil for no bytes).
func decodeJSON(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

// observationValue is an observation as one JSON object, normalized: what
// expect is matched against and what the SDKs are compared on. The error's
// message is left out: it is for people, not compared.
func (a *aliases) observationValue(o format.Observation) (map[string]any, error) {
	m := map[string]any{"step": float64(o.Step), "do": o.Do}
	v, err := decodeJSON(o.Value)
	if err != nil {
		return nil, err
	}
	if v != nil {
		m["value"] = v
	}
	if o.Text != nil {
		m["text"] = *o.Text
	}
	if o.Error != nil {
		m["error"] = map[string]any{"kind": o.Error.Kind, "status": float64(o.Error.Status), "code": o.Error.Code}
	}
	return a.normalize(m).(map[string]any), nil
}

// comparable is the part of a normalized observation that must be the same
// across SDKs and profiles. A wait_activity poll sees the session at a
// moment that depends on timing, so only its activity and status count,
// and its queued_turns when the step waited for that number.
func comparable(st format.Step, obs map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obs {
		out[k] = v
	}
	if st.Do == "wait_activity" {
		keep := []string{"activity", "status"}
		if _, waited := st.With["queued_turns"]; waited {
			keep = append(keep, "queued_turns")
		}
		if v, ok := obs["value"].(map[string]any); ok {
			kept := map[string]any{}
			for _, k := range keep {
				if e, ok := v[k]; ok {
					kept[k] = e
				}
			}
			out["value"] = kept
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
