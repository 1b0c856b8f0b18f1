package store

// Encoders for the JSON the SQLite store writes on every turn: an event,
// a turn's files and usage. encoding/json's reflection cost about as much
// as the INSERT they go into; these write the same JSON (what
// json.Unmarshal reads back is the same), and hand anything unusual, such
// as non-ASCII text or free-form values, to encoding/json.

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// encodeEvent is json.Marshal(ev) for the stored event.
func encodeEvent(ev gen.Event) (string, error) {
	b := make([]byte, 0, 160+len(ev.Content))
	b = append(b, '{')
	var err error
	field := func(name string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	value := func(v any) {
		if err != nil {
			return
		}
		var raw []byte
		if raw, err = json.Marshal(v); err == nil {
			b = append(b, raw...)
		}
	}
	if ev.Args != nil {
		field("args")
		value(ev.Args)
	}
	if ev.Content != "" {
		field("content")
		b = appendString(b, ev.Content)
	}
	field("created_at")
	var terr error
	if b, terr = appendTime(b, ev.CreatedAt); terr != nil {
		return "", terr
	}
	if ev.Data != nil {
		field("data")
		value(ev.Data)
	}
	if ev.Name != "" {
		field("name")
		b = appendString(b, ev.Name)
	}
	if ev.OptionID != "" {
		field("option_id")
		b = appendString(b, ev.OptionID)
	}
	if ev.Options != nil {
		field("options")
		value(ev.Options)
	}
	if ev.Outcome != "" {
		field("outcome")
		b = appendString(b, string(ev.Outcome))
	}
	if ev.RequestID != "" {
		field("request_id")
		b = appendString(b, ev.RequestID)
	}
	if ev.Result != nil {
		field("result")
		value(ev.Result)
	}
	field("seq")
	b = strconv.AppendInt(b, ev.Seq, 10)
	if ev.Status != "" {
		field("status")
		b = appendString(b, string(ev.Status))
	}
	if ev.Title != "" {
		field("title")
		b = appendString(b, ev.Title)
	}
	if ev.ToolCallID != "" {
		field("tool_call_id")
		b = appendString(b, ev.ToolCallID)
	}
	field("turn_index")
	b = strconv.AppendInt(b, int64(ev.TurnIndex), 10)
	field("type")
	b = appendString(b, string(ev.Type))
	if err != nil {
		return "", err
	}
	return string(append(b, '}')), nil
}

// encodeLifecycleEvent is json.Marshal(ev) for the stored lifecycle event:
// a turn's start and end write one each.
func encodeLifecycleEvent(ev gen.LifecycleEvent) (string, error) {
	b := make([]byte, 0, 160)
	b = append(b, `{"after_seq":`...)
	b = strconv.AppendInt(b, ev.AfterSeq, 10)
	if ev.ChildSessionID != "" {
		b = append(b, `,"child_session_id":`...)
		b = appendString(b, ev.ChildSessionID)
	}
	b = append(b, `,"created_at":`...)
	var err error
	if b, err = appendTime(b, ev.CreatedAt); err != nil {
		return "", err
	}
	b = append(b, `,"lifecycle_seq":`...)
	b = strconv.AppendInt(b, ev.LifecycleSeq, 10)
	if ev.QueuePosition != 0 {
		b = append(b, `,"queue_position":`...)
		b = strconv.AppendInt(b, int64(ev.QueuePosition), 10)
	}
	if ev.Status != "" {
		b = append(b, `,"status":`...)
		b = appendString(b, string(ev.Status))
	}
	if ev.StopReason != "" {
		b = append(b, `,"stop_reason":`...)
		b = appendString(b, string(ev.StopReason))
	}
	if ev.TurnIndex != 0 {
		b = append(b, `,"turn_index":`...)
		b = strconv.AppendInt(b, int64(ev.TurnIndex), 10)
	}
	b = append(b, `,"type":`...)
	b = appendString(b, string(ev.Type))
	return string(append(b, '}')), nil
}

// encodeFiles is json.Marshal(files).
func encodeFiles(files []string) string {
	if files == nil {
		return "null"
	}
	b := []byte{'['}
	for i, f := range files {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f)
	}
	return string(append(b, ']'))
}

// encodeUsage is json.Marshal(u).
func encodeUsage(u gen.Usage) string {
	if u.InputTokens == nil && u.OutputTokens == nil {
		return "{}"
	}
	b := []byte{'{'}
	if u.InputTokens != nil {
		b = append(b, `"input_tokens":`...)
		b = strconv.AppendInt(b, *u.InputTokens, 10)
	}
	if u.OutputTokens != nil {
		if u.InputTokens != nil {
			b = append(b, ',')
		}
		b = append(b, `"output_tokens":`...)
		b = strconv.AppendInt(b, *u.OutputTokens, 10)
	}
	return string(append(b, '}'))
}

// appendTime appends t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	raw, err := t.MarshalJSON()
	if err != nil {
		return b, err
	}
	return append(b, raw...), nil
}

// appendString appends s as a JSON string. Printable ASCII without quote
// or backslash is copied; anything else goes through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
