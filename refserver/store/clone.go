package store

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// This file holds the one place where records are copied and normalized.
// Both stores normalize on write exactly the way a JSON round trip through
// SQLite would, so a record reads back the same from either store:
//   - times become UTC without a monotonic clock reading;
//   - free-form values (maps, Event.Result) become what encoding/json
//     decodes into an `any` (map[string]any, []any, string, float64, bool,
//     nil): an int 3 reads back as float64 3;
//   - nil and empty maps and slices stay distinct (the models omit only
//     zero values, so an empty object or list survives a JSON round trip).

// normTime returns t in UTC without a monotonic reading. Years outside
// 0..9999 have no RFC 3339 form and are refused.
func normTime(t time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, nil
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("store: time %v: year outside 0..9999", t)
	}
	return t.UTC(), nil
}

// normTimes normalizes every *t in place and stops at the first error.
func normTimes(ts ...*time.Time) error {
	for _, t := range ts {
		n, err := normTime(*t)
		if err != nil {
			return err
		}
		*t = n
	}
	return nil
}

// cloneValue deep-copies a JSON value. Values of other Go types go through
// encoding/json, which both normalizes them and rejects what JSON cannot hold.
func cloneValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("store: %v is not a JSON number", v)
		}
		return v, nil
	case map[string]any:
		return cloneMap(v)
	case []any:
		if v == nil {
			return nil, nil
		}
		out := make([]any, len(v))
		for i, e := range v {
			c, err := cloneValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("store: value of type %T: %w", v, err)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("store: value of type %T: %w", v, err)
		}
		return out, nil
	}
}

// cloneMap deep-copies a JSON object; nil stays nil.
func cloneMap(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		c, err := cloneValue(v)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", k, err)
		}
		out[k] = c
	}
	return out, nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneHandoff(h gen.Handoff) (gen.Handoff, error) {
	var err error
	if h.ContextForNext, err = cloneMap(h.ContextForNext); err != nil {
		return gen.Handoff{}, fmt.Errorf("handoff context_for_next: %w", err)
	}
	h.Blockers, h.NextSteps = slices.Clone(h.Blockers), slices.Clone(h.NextSteps)
	if err := normTimes(&h.CreatedAt); err != nil {
		return gen.Handoff{}, fmt.Errorf("handoff: %w", err)
	}
	return h, nil
}

// cloneUsage copies u; its counts are pointers (0 tokens is not "unknown").
func cloneUsage(u gen.Usage) gen.Usage {
	u.InputTokens, u.OutputTokens = clonePtr(u.InputTokens), clonePtr(u.OutputTokens)
	return u
}

// cloneSession returns a normalized deep copy of s.
func cloneSession(s *Session) (*Session, error) {
	out := *s
	var err error
	if out.Meta, err = cloneMap(s.Meta); err != nil {
		return nil, fmt.Errorf("session %s meta: %w", s.ID, err)
	}
	if out.Context, err = cloneMap(s.Context); err != nil {
		return nil, fmt.Errorf("session %s context: %w", s.ID, err)
	}
	if out.Handoff, err = cloneHandoff(s.Handoff); err != nil {
		return nil, fmt.Errorf("session %s: %w", s.ID, err)
	}
	if out.AgentOptions, err = cloneMap(s.AgentOptions); err != nil {
		return nil, fmt.Errorf("session %s agent options: %w", s.ID, err)
	}
	if err := normTimes(&out.CreatedAt, &out.UpdatedAt, &out.LastTurnAt, &out.EndedAt); err != nil {
		return nil, fmt.Errorf("session %s: %w", s.ID, err)
	}
	return &out, nil
}

// cloneSessionLike is cloneSession, but it shares like's free-form values
// (Meta, Context, Handoff, AgentOptions) where s's are the same: like is a
// normalized image nobody modifies (the SQLite writer's cache), and most
// writes change a counter, not those.
func cloneSessionLike(s, like *Session) (*Session, error) {
	sameMeta, sameCtxt, sameHandoff := mapEqual(s.Meta, like.Meta), mapEqual(s.Context, like.Context), handoffEqual(s.Handoff, like.Handoff)
	sameOpts := mapEqual(s.AgentOptions, like.AgentOptions)
	rest := *s // what is shared is not cloned
	if sameMeta {
		rest.Meta = nil
	}
	if sameCtxt {
		rest.Context = nil
	}
	if sameHandoff {
		rest.Handoff = gen.Handoff{}
	}
	if sameOpts {
		rest.AgentOptions = nil
	}
	out, err := cloneSession(&rest)
	if err != nil {
		return nil, err
	}
	if sameMeta {
		out.Meta = like.Meta
	}
	if sameCtxt {
		out.Context = like.Context
	}
	if sameHandoff {
		out.Handoff = like.Handoff
	}
	if sameOpts {
		out.AgentOptions = like.AgentOptions
	}
	return out, nil
}

// cloneTurn returns a normalized deep copy of t.
func cloneTurn(t *Turn) (*Turn, error) {
	out := *t
	out.Files = slices.Clone(t.Files)
	out.Usage = cloneUsage(t.Usage)
	var err error
	if out.Meta, err = cloneMap(t.Meta); err != nil {
		return nil, fmt.Errorf("turn %s/%d meta: %w", t.SessionID, t.Index, err)
	}
	if err := normTimes(&out.CreatedAt, &out.StartedAt, &out.EndedAt); err != nil {
		return nil, fmt.Errorf("turn %s/%d: %w", t.SessionID, t.Index, err)
	}
	return &out, nil
}

// cloneLifecycleEvent returns a normalized copy of ev.
func cloneLifecycleEvent(ev gen.LifecycleEvent) (gen.LifecycleEvent, error) {
	out := ev
	if err := normTimes(&out.CreatedAt); err != nil {
		return gen.LifecycleEvent{}, fmt.Errorf("lifecycle event %d: %w", ev.LifecycleSeq, err)
	}
	return out, nil
}

// clonePermissionRequest returns a normalized deep copy of r; its options
// keep nil and empty apart.
func clonePermissionRequest(r *PermissionRequest) (*PermissionRequest, error) {
	out := *r
	out.Options = slices.Clone(r.Options)
	if err := normTimes(&out.CreatedAt, &out.AnsweredAt); err != nil {
		return nil, fmt.Errorf("permission request %s: %w", r.RequestID, err)
	}
	return &out, nil
}

// cloneEvent returns a normalized deep copy of ev.
func cloneEvent(ev gen.Event) (gen.Event, error) {
	out := ev
	var err error
	if out.Args, err = cloneMap(ev.Args); err != nil {
		return gen.Event{}, fmt.Errorf("event %d args: %w", ev.Seq, err)
	}
	if out.Data, err = cloneMap(ev.Data); err != nil {
		return gen.Event{}, fmt.Errorf("event %d data: %w", ev.Seq, err)
	}
	if out.Result, err = cloneValue(ev.Result); err != nil {
		return gen.Event{}, fmt.Errorf("event %d result: %w", ev.Seq, err)
	}
	out.Options = slices.Clone(ev.Options)
	if err := normTimes(&out.CreatedAt); err != nil {
		return gen.Event{}, fmt.Errorf("event %d: %w", ev.Seq, err)
	}
	return out, nil
}

func cloneLogEntry(e gen.LogEntry) (gen.LogEntry, error) {
	out := e
	var err error
	if out.Data, err = cloneMap(e.Data); err != nil {
		return gen.LogEntry{}, fmt.Errorf("log entry %s data: %w", e.ID, err)
	}
	if err := normTimes(&out.CreatedAt); err != nil {
		return gen.LogEntry{}, fmt.Errorf("log entry %s: %w", e.ID, err)
	}
	return out, nil
}

func cloneArtifact(a gen.Artifact) (gen.Artifact, error) {
	out := a
	var err error
	if out.Metadata, err = cloneMap(a.Metadata); err != nil {
		return gen.Artifact{}, fmt.Errorf("artifact %s metadata: %w", a.ID, err)
	}
	if err := normTimes(&out.CreatedAt); err != nil {
		return gen.Artifact{}, fmt.Errorf("artifact %s: %w", a.ID, err)
	}
	return out, nil
}

func cloneFile(f gen.File) (gen.File, error) {
	out := f
	if err := normTimes(&out.CreatedAt); err != nil {
		return gen.File{}, fmt.Errorf("file: %w", err)
	}
	return out, nil
}

// cloneIdempotency copies r; an empty Body becomes nil.
func cloneIdempotency(r *Idempotency) (*Idempotency, error) {
	out := *r
	out.Body = nil
	if len(r.Body) > 0 {
		out.Body = slices.Clone(r.Body)
	}
	if err := normTimes(&out.CreatedAt); err != nil {
		return nil, fmt.Errorf("idempotency record %s: %w", r.Operation, err)
	}
	return &out, nil
}
