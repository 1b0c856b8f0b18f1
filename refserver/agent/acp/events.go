package acp

import (
	"fmt"
	"strings"

	acpsdk "github.com/coder/acp-go-sdk"

	"github.com/agentsession/agentsession/gen"
)

// How ACP's session/update notifications become the contract's events:
//
//	agent_message_chunk  → text (content: the text; a non-text block goes in data.content)
//	agent_thought_chunk  → thinking (likewise)
//	tool_call            → tool_call (tool_call_id, name: the title, args: rawInput,
//	                       status, data: kind, locations, content); when it
//	                       arrives already completed or failed, a tool_result too
//	tool_call_update     → tool_result (tool_call_id, name: the latest title,
//	                       status: the latest status, result: rawOutput, else the
//	                       content's text, data: kind, locations, content)
//	plan                 → plan (content: one "[status] entry" line per entry,
//	                       data.entries: the entries)
//	usage_update         → usage (data: used, size, cost: the context window)
//	session/prompt usage → usage (data: the token counts) and the turn's usage
//
// user_message_chunk, available_commands_update, current_mode_update,
// config_option_update, session_info_update and updates this SDK version
// does not know have no event.

// toolState is what the bridge remembers of a tool call during a turn.
type toolState struct {
	title  string
	status gen.ToolCallStatus
}

// mapper turns one turn's updates into events; it is used by one
// goroutine at a time (the SDK delivers notifications in order, on one
// goroutine; permission requests lock).
type mapper struct {
	tools map[acpsdk.ToolCallId]toolState
}

func (m *mapper) events(u acpsdk.SessionUpdate) []gen.ScriptEvent {
	switch {
	case u.AgentMessageChunk != nil:
		return []gen.ScriptEvent{contentEvent(gen.EventTypeText, u.AgentMessageChunk.Content)}
	case u.AgentThoughtChunk != nil:
		return []gen.ScriptEvent{contentEvent(gen.EventTypeThinking, u.AgentThoughtChunk.Content)}
	case u.ToolCall != nil:
		return m.toolCall(u.ToolCall)
	case u.ToolCallUpdate != nil:
		return []gen.ScriptEvent{m.toolCallUpdate(u.ToolCallUpdate)}
	case u.Plan != nil:
		return []gen.ScriptEvent{planEvent(u.Plan.Entries)}
	case u.UsageUpdate != nil:
		data := gen.JSONObject{"used": u.UsageUpdate.Used, "size": u.UsageUpdate.Size}
		if c := u.UsageUpdate.Cost; c != nil {
			data["cost"] = map[string]any{"amount": c.Amount, "currency": c.Currency}
		}
		return []gen.ScriptEvent{{Type: gen.EventTypeUsage, Data: data}}
	}
	return nil
}

func contentEvent(typ gen.EventType, c acpsdk.ContentBlock) gen.ScriptEvent {
	if c.Text != nil {
		return gen.ScriptEvent{Type: typ, Content: c.Text.Text}
	}
	return gen.ScriptEvent{Type: typ, Data: gen.JSONObject{"content": plainJSON(c)}}
}

func (m *mapper) toolCall(tc *acpsdk.SessionUpdateToolCall) []gen.ScriptEvent {
	status := toolStatus(tc.Status)
	if status == "" {
		status = gen.ToolCallStatusPending // ACP's default
	}
	m.remember(tc.ToolCallId, toolState{title: tc.Title, status: status})
	call := gen.ScriptEvent{
		Type: gen.EventTypeToolCall, ToolCallID: string(tc.ToolCallId), Name: tc.Title,
		Args: argsObject(tc.RawInput), Status: status,
		Data: toolData(string(tc.Kind), tc.Locations, tc.Content),
	}
	out := []gen.ScriptEvent{call}
	if status == gen.ToolCallStatusCompleted || status == gen.ToolCallStatusFailed {
		out = append(out, gen.ScriptEvent{
			Type: gen.EventTypeToolResult, ToolCallID: call.ToolCallID, Name: call.Name, Status: status,
			Result: toolResult(tc.RawOutput, tc.Content),
		})
	}
	return out
}

func (m *mapper) toolCallUpdate(up *acpsdk.SessionToolCallUpdate) gen.ScriptEvent {
	st := m.tools[up.ToolCallId]
	if up.Title != nil {
		st.title = *up.Title
	}
	if up.Status != nil {
		st.status = toolStatus(*up.Status)
	}
	m.remember(up.ToolCallId, st)
	kind := ""
	if up.Kind != nil {
		kind = string(*up.Kind)
	}
	data := toolData(kind, up.Locations, up.Content)
	if up.RawInput != nil {
		if data == nil {
			data = gen.JSONObject{}
		}
		data["raw_input"] = plainJSON(up.RawInput)
	}
	return gen.ScriptEvent{
		Type: gen.EventTypeToolResult, ToolCallID: string(up.ToolCallId), Name: st.title, Status: st.status,
		Result: toolResult(up.RawOutput, up.Content), Data: data,
	}
}

// maxTools bounds what a turn remembers of tool calls (titles for later
// updates); an agent with more calls than this in one turn gets untitled
// results for the oldest.
const maxTools = 4096

func (m *mapper) remember(id acpsdk.ToolCallId, st toolState) {
	if m.tools == nil {
		m.tools = map[acpsdk.ToolCallId]toolState{}
	}
	if _, known := m.tools[id]; !known && len(m.tools) >= maxTools {
		return
	}
	m.tools[id] = st
}

func (m *mapper) title(id acpsdk.ToolCallId) string { return m.tools[id].title }

// toolStatus maps ACP's tool-call status; an unknown one passes through
// (the contract's status is open).
func toolStatus(s acpsdk.ToolCallStatus) gen.ToolCallStatus {
	switch s {
	case acpsdk.ToolCallStatusPending:
		return gen.ToolCallStatusPending
	case acpsdk.ToolCallStatusInProgress:
		return gen.ToolCallStatusInProgress
	case acpsdk.ToolCallStatusCompleted:
		return gen.ToolCallStatusCompleted
	case acpsdk.ToolCallStatusFailed:
		return gen.ToolCallStatusFailed
	}
	return gen.ToolCallStatus(s)
}

// argsObject is a tool call's raw input as the event's args object; a
// value that is not an object is wrapped as {"input": value}.
func argsObject(raw any) gen.JSONObject {
	v := plainJSON(raw)
	switch v := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	default:
		return gen.JSONObject{"input": v}
	}
}

func toolData(kind string, locations []acpsdk.ToolCallLocation, content []acpsdk.ToolCallContent) gen.JSONObject {
	var data gen.JSONObject
	add := func(k string, v any) {
		if data == nil {
			data = gen.JSONObject{}
		}
		data[k] = v
	}
	if kind != "" {
		add("kind", kind)
	}
	if len(locations) > 0 {
		add("locations", plainJSON(locations))
	}
	if len(content) > 0 {
		add("content", plainJSON(content))
	}
	return data
}

// toolResult is the raw output when there is one, else the text of the
// content when it is all text, else the content itself.
func toolResult(rawOutput any, content []acpsdk.ToolCallContent) any {
	if rawOutput != nil {
		return plainJSON(rawOutput)
	}
	if len(content) == 0 {
		return nil
	}
	var texts []string
	for _, c := range content {
		if c.Content == nil || c.Content.Content.Text == nil {
			return plainJSON(content)
		}
		texts = append(texts, c.Content.Content.Text.Text)
	}
	return strings.Join(texts, "\n")
}

func planEvent(entries []acpsdk.PlanEntry) gen.ScriptEvent {
	var b strings.Builder
	list := make([]any, 0, len(entries))
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s] %s", e.Status, e.Content)
		list = append(list, map[string]any{"content": e.Content, "priority": string(e.Priority), "status": string(e.Status)})
	}
	return gen.ScriptEvent{Type: gen.EventTypePlan, Content: b.String(), Data: gen.JSONObject{"entries": list}}
}

// usageEvent is the usage a prompt's answer reports, with its details.
func usageEvent(u *acpsdk.Usage) gen.ScriptEvent {
	data := gen.JSONObject{"input_tokens": u.InputTokens, "output_tokens": u.OutputTokens, "total_tokens": u.TotalTokens}
	for k, v := range map[string]*int{"thought_tokens": u.ThoughtTokens, "cached_read_tokens": u.CachedReadTokens, "cached_write_tokens": u.CachedWriteTokens} {
		if v != nil {
			data[k] = *v
		}
	}
	return gen.ScriptEvent{Type: gen.EventTypeUsage, Data: data}
}

func usageOf(u *acpsdk.Usage) gen.Usage {
	in, out := int64(max(u.InputTokens, 0)), int64(max(u.OutputTokens, 0))
	return gen.Usage{InputTokens: &in, OutputTokens: &out}
}

// stopReason maps ACP's stop reason to the contract's; ok is false for a
// reason ACP does not define.
func stopReason(r acpsdk.StopReason) (gen.StopReason, bool) {
	switch r {
	case acpsdk.StopReasonEndTurn:
		return gen.StopReasonEndTurn, true
	case acpsdk.StopReasonMaxTokens:
		return gen.StopReasonMaxTokens, true
	case acpsdk.StopReasonMaxTurnRequests:
		return gen.StopReasonMaxTurnRequests, true
	case acpsdk.StopReasonRefusal:
		return gen.StopReasonRefusal, true
	case acpsdk.StopReasonCancelled:
		return gen.StopReasonCancelled, true
	}
	return "", false
}
