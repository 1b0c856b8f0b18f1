package acptestagent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	acp "github.com/coder/acp-go-sdk"
)

// turn runs one prompt.
type turn struct {
	agent *agent
	s     *session
	ctx   context.Context
	said  strings.Builder // everything said, for the history and usage
	usage *acp.Usage
	tools int
}

// errCancelled ends a script when session/cancel arrived.
var errCancelled = fmt.Errorf("cancelled")

// stopWith ends a script early with a stop reason.
type stopWith acp.StopReason

func (s stopWith) Error() string { return "stop " + string(s) }

func (t *turn) run(text string) (acp.PromptResponse, error) {
	words := len(strings.Fields(text))
	first := strings.TrimSpace(text)
	if !strings.HasPrefix(first, "/") {
		if err := t.say(text); err != nil {
			return t.end(err)
		}
		return t.respond(acp.StopReasonEndTurn, words), nil
	}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if t.ctx.Err() != nil {
			return t.end(errCancelled)
		}
		if err := t.command(line); err != nil {
			if _, ok := err.(usageError); ok {
				return acp.PromptResponse{}, acp.NewInvalidParams(map[string]any{"line": i + 1, "error": err.Error()})
			}
			return t.end(err)
		}
	}
	return t.respond(acp.StopReasonEndTurn, words), nil
}

// end turns a script's error into the prompt's answer.
func (t *turn) end(err error) (acp.PromptResponse, error) {
	words := 0
	var stop stopWith
	switch {
	case t.ctx.Err() != nil || err == errCancelled:
		return acp.PromptResponse{StopReason: acp.StopReasonCancelled}, nil
	case asStop(err, &stop):
		return t.respond(acp.StopReason(stop), words), nil
	default:
		return acp.PromptResponse{}, err
	}
}

func asStop(err error, out *stopWith) bool {
	s, ok := err.(stopWith)
	if ok {
		*out = s
	}
	return ok
}

func (t *turn) respond(stop acp.StopReason, inWords int) acp.PromptResponse {
	u := t.usage
	if u == nil {
		out := len(strings.Fields(t.said.String()))
		u = &acp.Usage{InputTokens: inWords, OutputTokens: out, TotalTokens: inWords + out}
	}
	return acp.PromptResponse{StopReason: stop, Usage: u}
}

// usageError is a bad command line: the prompt answers a JSON-RPC error.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func badLine(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func (t *turn) command(line string) error {
	name, arg, _ := strings.Cut(line[1:], " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case "say":
		return t.say(arg)
	case "think":
		return t.update(acp.UpdateAgentThoughtText(arg))
	case "plan":
		return t.plan(arg)
	case "tool":
		return t.tool(arg, false)
	case "tool-fail":
		return t.tool(arg, true)
	case "ask":
		return t.ask(arg)
	case "read":
		return t.read(arg)
	case "write":
		path, content, _ := strings.Cut(arg, " ")
		return t.write(path, content)
	case "terminal":
		return t.terminal(arg)
	case "sleep":
		ms, err := strconv.Atoi(arg)
		if err != nil || ms < 0 {
			return badLine("/sleep wants milliseconds, have %q", arg)
		}
		return t.sleep(time.Duration(ms) * time.Millisecond)
	case "hang":
		// Ignores session/cancel on purpose: only the end of the process
		// (stdin closed, or killed) ends it.
		<-t.agent.peer().Done()
		return fmt.Errorf("connection closed")
	case "crash":
		code := 3
		if arg != "" {
			c, err := strconv.Atoi(arg)
			if err != nil {
				return badLine("/crash wants an exit code, have %q", arg)
			}
			code = c
		}
		fmt.Fprintf(t.agent.opts.Stderr, "acptestagent: crashing with exit code %d as the prompt asked\n", code)
		t.agent.opts.Exit(code)
		return fmt.Errorf("exited")
	case "stderr":
		_, err := fmt.Fprintln(t.agent.opts.Stderr, arg)
		return err
	case "flood":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return badLine("/flood wants a byte count, have %q", arg)
		}
		return t.flood(n)
	case "flood-stderr":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return badLine("/flood-stderr wants a byte count, have %q", arg)
		}
		chunk := strings.Repeat("e", 1023) + "\n"
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := io.WriteString(t.agent.opts.Stderr, chunk[len(chunk)-k:]); err != nil {
				return err
			}
			n -= k
		}
		return nil
	case "context":
		var used, size int
		if _, err := fmt.Sscanf(arg, "%d %d", &used, &size); err != nil {
			return badLine("/context wants USED SIZE, have %q", arg)
		}
		return t.update(acp.SessionUpdate{UsageUpdate: &acp.SessionUsageUpdate{Used: used, Size: size}})
	case "usage":
		var in, out, thought int
		n, err := fmt.Sscanf(arg, "%d %d %d", &in, &out, &thought)
		if n < 2 || (n == 2 && err != io.ErrUnexpectedEOF && err != io.EOF) {
			return badLine("/usage wants IN OUT [THOUGHT], have %q", arg)
		}
		t.usage = &acp.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out + thought}
		if n == 3 {
			t.usage.ThoughtTokens = &thought
		}
		return nil
	case "count":
		return t.say(fmt.Sprintf("prompts: %d", t.s.Prompts))
	case "env":
		if arg == "" {
			return badLine("/env wants a variable name")
		}
		if v, ok := os.LookupEnv(arg); ok {
			return t.say(arg + "=" + v)
		}
		return t.say(arg + " is not set")
	case "error":
		return &acp.RequestError{Code: -32603, Message: "Internal error", Data: map[string]any{"error": arg}}
	case "stop":
		if arg == "" {
			return badLine("/stop wants a stop reason")
		}
		return stopWith(arg)
	default:
		return badLine("unknown command /%s", name)
	}
}

func (t *turn) update(u acp.SessionUpdate) error {
	if err := t.agent.peer().SessionUpdate(t.ctx, acp.SessionNotification{SessionId: t.s.ID, Update: u}); err != nil {
		if t.ctx.Err() != nil {
			return errCancelled
		}
		return err
	}
	return nil
}

func (t *turn) say(text string) error {
	if t.said.Len() > 0 {
		t.said.WriteByte(' ')
	}
	t.said.WriteString(text)
	return t.update(acp.UpdateAgentMessageText(text))
}

func (t *turn) sleep(d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.ctx.Done():
		return errCancelled
	case <-timer.C:
		return nil
	}
}

func (t *turn) plan(arg string) error {
	var entries []acp.PlanEntry
	for _, part := range strings.Split(arg, "|") {
		part = strings.TrimSpace(part)
		status := acp.PlanEntryStatusPending
		switch {
		case strings.HasPrefix(part, "+ "):
			status, part = acp.PlanEntryStatusCompleted, part[2:]
		case strings.HasPrefix(part, "> "):
			status, part = acp.PlanEntryStatusInProgress, part[2:]
		}
		if part != "" {
			entries = append(entries, acp.PlanEntry{Content: part, Priority: acp.PlanEntryPriorityMedium, Status: status})
		}
	}
	if len(entries) == 0 {
		return badLine("/plan wants entries separated by |")
	}
	return t.update(acp.UpdatePlan(entries...))
}

func (t *turn) nextToolID() acp.ToolCallId {
	t.tools++
	return acp.ToolCallId(fmt.Sprintf("call_%d_%d", t.s.Prompts, t.tools))
}

func (t *turn) tool(arg string, fail bool) error {
	name, rawArgs, _ := strings.Cut(arg, " ")
	if name == "" {
		return badLine("/tool wants a name")
	}
	var input any = map[string]any{}
	if rawArgs = strings.TrimSpace(rawArgs); rawArgs != "" {
		if err := json.Unmarshal([]byte(rawArgs), &input); err != nil {
			return badLine("/tool %s: arguments are not JSON: %v", name, err)
		}
	}
	id := t.nextToolID()
	if err := t.update(acp.StartToolCall(id, name, acp.WithStartKind(acp.ToolKindOther),
		acp.WithStartStatus(acp.ToolCallStatusPending), acp.WithStartRawInput(input))); err != nil {
		return err
	}
	if err := t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusInProgress))); err != nil {
		return err
	}
	if fail {
		return t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusFailed),
			acp.WithUpdateRawOutput(map[string]any{"error": name + " failed as the prompt asked"})))
	}
	return t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusCompleted),
		acp.WithUpdateContent([]acp.ToolCallContent{acp.ToolContent(acp.TextBlock(name + " done"))}),
		acp.WithUpdateRawOutput(map[string]any{"ok": true, "tool": name})))
}

// PermissionOptions are what /ask offers, one of each kind.
var PermissionOptions = []acp.PermissionOption{
	{OptionId: "allow-once", Name: "Allow once", Kind: acp.PermissionOptionKindAllowOnce},
	{OptionId: "allow-always", Name: "Always allow", Kind: acp.PermissionOptionKindAllowAlways},
	{OptionId: "reject-once", Name: "Reject", Kind: acp.PermissionOptionKindRejectOnce},
	{OptionId: "reject-always", Name: "Always reject", Kind: acp.PermissionOptionKindRejectAlways},
}

func (t *turn) ask(name string) error {
	if name == "" {
		return badLine("/ask wants a tool name")
	}
	id := t.nextToolID()
	input := map[string]any{"tool": name}
	if err := t.update(acp.StartToolCall(id, name, acp.WithStartKind(acp.ToolKindEdit),
		acp.WithStartStatus(acp.ToolCallStatusPending), acp.WithStartRawInput(input))); err != nil {
		return err
	}
	resp, err := t.agent.peer().RequestPermission(t.ctx, acp.RequestPermissionRequest{
		SessionId: t.s.ID,
		ToolCall: acp.ToolCallUpdate{ToolCallId: id, Title: acp.Ptr(name), Kind: acp.Ptr(acp.ToolKindEdit),
			Status: acp.Ptr(acp.ToolCallStatusPending), RawInput: input},
		Options: PermissionOptions,
	})
	if err != nil {
		if t.ctx.Err() != nil {
			return errCancelled
		}
		return err
	}
	switch o := resp.Outcome; {
	case o.Selected != nil && strings.HasPrefix(string(o.Selected.OptionId), "allow"):
		if err := t.say(fmt.Sprintf("permission granted (%s)", o.Selected.OptionId)); err != nil {
			return err
		}
		if err := t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusInProgress))); err != nil {
			return err
		}
		return t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusCompleted),
			acp.WithUpdateRawOutput(map[string]any{"ok": true, "tool": name})))
	case o.Selected != nil:
		if err := t.say(fmt.Sprintf("permission refused (%s)", o.Selected.OptionId)); err != nil {
			return err
		}
		return t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusFailed)))
	default:
		if t.ctx.Err() != nil {
			return errCancelled
		}
		if err := t.say("permission cancelled"); err != nil {
			return err
		}
		return t.update(acp.UpdateToolCall(id, acp.WithUpdateStatus(acp.ToolCallStatusFailed)))
	}
}

// absolute makes path absolute against the session's cwd (ACP paths are
// absolute).
func (t *turn) absolute(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(t.s.Cwd, path)
}

func (t *turn) read(path string) error {
	if path == "" {
		return badLine("/read wants a path")
	}
	resp, err := t.agent.peer().ReadTextFile(t.ctx, acp.ReadTextFileRequest{SessionId: t.s.ID, Path: t.absolute(path)})
	if err != nil {
		if t.ctx.Err() != nil {
			return errCancelled
		}
		return t.say(fmt.Sprintf("read %s failed: %s", path, describe(err)))
	}
	return t.say(fmt.Sprintf("read %s: %s", path, resp.Content))
}

func (t *turn) write(path, content string) error {
	if path == "" {
		return badLine("/write wants a path and text")
	}
	_, err := t.agent.peer().WriteTextFile(t.ctx, acp.WriteTextFileRequest{SessionId: t.s.ID, Path: t.absolute(path), Content: content})
	if err != nil {
		if t.ctx.Err() != nil {
			return errCancelled
		}
		return t.say(fmt.Sprintf("write %s failed: %s", path, describe(err)))
	}
	return t.say(fmt.Sprintf("wrote %d bytes to %s", len(content), path))
}

func (t *turn) terminal(arg string) error {
	fields := strings.Fields(arg)
	if len(fields) == 0 {
		return badLine("/terminal wants a command")
	}
	created, err := t.agent.peer().CreateTerminal(t.ctx, acp.CreateTerminalRequest{SessionId: t.s.ID, Command: fields[0], Args: fields[1:]})
	if err != nil {
		if t.ctx.Err() != nil {
			return errCancelled
		}
		return t.say(fmt.Sprintf("terminal failed: %s", describe(err)))
	}
	defer func() {
		_, _ = t.agent.peer().ReleaseTerminal(context.WithoutCancel(t.ctx), acp.ReleaseTerminalRequest{SessionId: t.s.ID, TerminalId: created.TerminalId})
	}()
	exit, err := t.agent.peer().WaitForTerminalExit(t.ctx, acp.WaitForTerminalExitRequest{SessionId: t.s.ID, TerminalId: created.TerminalId})
	if err != nil {
		if t.ctx.Err() != nil {
			return errCancelled
		}
		return t.say(fmt.Sprintf("terminal wait failed: %s", describe(err)))
	}
	out, err := t.agent.peer().TerminalOutput(t.ctx, acp.TerminalOutputRequest{SessionId: t.s.ID, TerminalId: created.TerminalId})
	if err != nil {
		return t.say(fmt.Sprintf("terminal output failed: %s", describe(err)))
	}
	code := -1
	if exit.ExitCode != nil {
		code = *exit.ExitCode
	}
	return t.say(fmt.Sprintf("terminal exit %d: %s", code, strings.TrimSpace(out.Output)))
}

func (t *turn) flood(n int) error {
	chunk := strings.Repeat("f", 4096)
	for n > 0 {
		k := min(n, len(chunk))
		if err := t.update(acp.UpdateAgentMessageText(chunk[:k])); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// describe is the message of a JSON-RPC error (its data's "error" or
// "reason" when it has one).
func describe(err error) string {
	re, ok := err.(*acp.RequestError)
	if !ok {
		return err.Error()
	}
	if m, ok := re.Data.(map[string]any); ok {
		for _, k := range []string{"reason", "error"} {
			if s, ok := m[k].(string); ok {
				return s
			}
		}
	}
	return re.Message
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
