package refserver

import (
	"bytes"
	"encoding/json"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// sessionJSON renders a stored session with its live activity and queue.
func (s *Server) sessionJSON(st *store.Session) gen.Session {
	key := sessKey{st.Tenant, st.ID}
	out := gen.Session{
		SessionID:       st.ID,
		Agent:           st.Agent,
		Status:          st.Status,
		Activity:        s.activity(key),
		Meta:            orEmpty(st.Meta),
		PlanSlug:        st.PlanSlug,
		ContinuedFrom:   st.ContinuedFrom,
		ParentSessionID: st.ParentID,
		Depth:           int32(st.Depth),
		ContextSummary:  orEmpty(st.Context),
		Handoff:         st.Handoff,
		FinalSummary:    st.FinalSummary,
		TurnCount:       int32(st.TurnCount),
		QueuedTurns:     int32(s.turns.queuedTurns(key)),
		ActionCount:     int32(st.ActionCount),
		ArtifactCount:   int32(st.ArtifactCount),
		LastEventSeq:    st.LastEventSeq,
		CreatedAt:       st.CreatedAt,
		UpdatedAt:       st.UpdatedAt,
		LastTurnAt:      st.LastTurnAt,
		EndedAt:         st.EndedAt,
		EndReason:       st.EndReason,
		AgentOptions:    st.AgentOptions,
	}
	if !st.EndedAt.IsZero() {
		// A pointer: a session may end within the millisecond it began.
		d := max(st.EndedAt.Sub(st.CreatedAt).Milliseconds(), 0)
		out.DurationMs = &d
	}
	return out
}

// turnJSON renders a stored turn (without events).
func turnJSON(t *store.Turn) gen.Turn {
	out := gen.Turn{
		SessionID:  t.SessionID,
		TurnIndex:  int32(t.Index),
		Prompt:     t.Prompt,
		Status:     t.Status,
		BusyPolicy: t.BusyPolicy,
		Usage:      t.Usage,
		Files:      t.Files,
		EventCount: int32(t.EventCount),
		FirstSeq:   t.FirstSeq,
		LastSeq:    t.LastSeq,
		CreatedAt:  t.CreatedAt,
		StartedAt:  t.StartedAt,
		EndedAt:    t.EndedAt,
		Meta:       t.Meta,
	}
	if t.Status == gen.TurnStatusCompleted {
		out.StopReason, out.CancelledBy = t.StopReason, t.CancelledBy
		// A pointer: 0 ms is a duration, absent means the turn has not ended.
		d := durationMs(t)
		out.DurationMs = &d
	}
	return out
}

// summaryJSON renders how an ended turn ended.
func summaryJSON(t *store.Turn) gen.TurnSummary {
	return gen.TurnSummary{
		SessionID:   t.SessionID,
		TurnIndex:   int32(t.Index),
		StopReason:  t.StopReason,
		CancelledBy: t.CancelledBy,
		DurationMs:  durationMs(t),
		Usage:       t.Usage,
		EventCount:  int32(t.EventCount),
		FirstSeq:    t.FirstSeq,
		LastSeq:     t.LastSeq,
		StartedAt:   t.StartedAt,
		EndedAt:     t.EndedAt,
		Meta:        t.Meta,
	}
}

func resultJSON(t *store.Turn, events []gen.Event) gen.TurnResult {
	sum := summaryJSON(t)
	return gen.TurnResult{
		SessionID:   sum.SessionID,
		TurnIndex:   sum.TurnIndex,
		StopReason:  sum.StopReason,
		CancelledBy: sum.CancelledBy,
		DurationMs:  sum.DurationMs,
		Usage:       sum.Usage,
		EventCount:  sum.EventCount,
		FirstSeq:    sum.FirstSeq,
		LastSeq:     sum.LastSeq,
		StartedAt:   sum.StartedAt,
		EndedAt:     sum.EndedAt,
		Meta:        sum.Meta,
		Events:      nonNil(events),
	}
}

func durationMs(t *store.Turn) int64 {
	if t.StartedAt.IsZero() || t.EndedAt.IsZero() || t.EndedAt.Before(t.StartedAt) {
		return 0
	}
	return t.EndedAt.Sub(t.StartedAt).Milliseconds()
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// deref reads an optional request parameter: the generated *Params types
// keep pointers, so that absent and zero differ.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// encodeJSON encodes v the way the generated responses do (json.Encoder,
// trailing newline), so stored and replayed bodies look the same.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cloneJSON deep-copies a JSON-shaped value through encoding/json.
func cloneJSON(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// mergePatch applies an RFC 7396 JSON Merge Patch to target (which it may
// modify) and returns the result: members replace, objects merge
// recursively, null removes.
func mergePatch(target map[string]any, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			sub, _ := target[k].(map[string]any)
			target[k] = mergePatch(sub, pv)
		default:
			target[k] = v
		}
	}
	return target
}
