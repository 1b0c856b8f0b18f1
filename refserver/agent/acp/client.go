package acp

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	acpsdk "github.com/coder/acp-go-sdk"
)

// client answers what the agent asks of the bridge (ACP's client side).
type client struct{ p *process }

var (
	_ acpsdk.Client                 = (*client)(nil)
	_ acpsdk.ExtensionMethodHandler = (*client)(nil)
)

// HandleExtensionMethod sees the meter's end-of-output marker; other
// extensions are unknown.
func (c *client) HandleExtensionMethod(_ context.Context, method string, _ json.RawMessage) (any, error) {
	if method == c.p.eofMethod {
		c.p.drainOnce.Do(func() { close(c.p.drained) })
		return nil, nil
	}
	return nil, acpsdk.NewMethodNotFound(method)
}

// SessionUpdate queues the update's events on the running turn. Updates
// outside a turn (a session/load replay, late ones) have no turn to go to.
func (c *client) SessionUpdate(_ context.Context, n acpsdk.SessionNotification) error {
	t := c.p.current.Load()
	if t == nil || n.SessionId != c.p.acpSession {
		return nil
	}
	t.update(n.Update)
	return nil
}

// RequestPermission asks the turn's Permissions; see permissions.go.
func (c *client) RequestPermission(ctx context.Context, req acpsdk.RequestPermissionRequest) (acpsdk.RequestPermissionResponse, error) {
	t := c.p.current.Load()
	if t == nil || req.SessionId != c.p.acpSession {
		return permissionCancelled, nil
	}
	if t.ctx.Err() != nil {
		c.awaitCancelSent(ctx, t)
		return permissionCancelled, nil
	}
	perms := permissionsOf(t.ctx, t.in)
	if perms == nil {
		return permissionCancelled, nil
	}
	// The updates the agent sent before it asked become events first, so
	// the request follows the tool call it concerns in the session.
	t.awaitToolCall(ctx, req.ToolCall.ToolCallId)
	t.flushed(ctx)
	pr := permissionRequest(req, t.in.SessionID, t.in.TurnIndex, t.toolTitle(req.ToolCall.ToolCallId))
	// ctx ends when the agent withdraws the request ($/cancel_request) or
	// the connection closes; t.ctx when the turn ends.
	askCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	id, err := perms.RequestPermission(askCtx, pr)
	if t.ctx.Err() != nil {
		c.awaitCancelSent(ctx, t)
		return permissionCancelled, nil
	}
	if err != nil {
		return permissionCancelled, nil
	}
	if !pr.Offers(id) {
		c.p.b.log.Warn("acp: the permission answer is not one of the agent's options; answering cancelled",
			"agent", c.p.b.cfg.Name, "session", t.in.SessionID, "option", c.p.clip(id))
		return permissionCancelled, nil
	}
	return permissionSelected(id), nil
}

// awaitCancelSent waits (a moment at most) until the turn's session/cancel
// was sent.
func (c *client) awaitCancelSent(ctx context.Context, t *turnState) {
	timer := time.NewTimer(c.p.b.cfg.Limits.CancelGrace)
	defer timer.Stop()
	select {
	case <-t.cancelSent:
	case <-ctx.Done():
	case <-timer.C:
	}
}

// notEnabled answers a request the agent's config does not allow (and the
// bridge did not advertise).
func (c *client) notEnabled(method, setting string) error {
	return &acpsdk.RequestError{Code: -32601, Message: "Method not found", Data: map[string]any{
		"method": method, "reason": method + " is not enabled for agent " + c.p.b.cfg.Name + " (" + setting + ")",
	}}
}

// refused is an invalid request, with the reason for the agent.
func refused(path string, err error) error {
	data := map[string]any{"reason": err.Error()}
	if path != "" {
		data["path"] = path
		data["reason"] = path + ": " + err.Error()
	}
	return acpsdk.NewInvalidParams(data)
}

func (c *client) checkSession(id acpsdk.SessionId) error {
	if id != c.p.acpSession {
		return acpsdk.NewInvalidParams(map[string]any{"reason": "unknown session " + string(id)})
	}
	return nil
}

func (c *client) ReadTextFile(_ context.Context, req acpsdk.ReadTextFileRequest) (acpsdk.ReadTextFileResponse, error) {
	if !c.p.b.cfg.FS.Read {
		return acpsdk.ReadTextFileResponse{}, c.notEnabled(acpsdk.ClientMethodFsReadTextFile, "fs.read")
	}
	if err := c.checkSession(req.SessionId); err != nil {
		return acpsdk.ReadTextFileResponse{}, err
	}
	text, err := c.p.ws.read(req.Path, req.Line, req.Limit, c.p.b.cfg.Limits.ReadFileBytes)
	if err != nil {
		return acpsdk.ReadTextFileResponse{}, refused(req.Path, err)
	}
	return acpsdk.ReadTextFileResponse{Content: text}, nil
}

func (c *client) WriteTextFile(_ context.Context, req acpsdk.WriteTextFileRequest) (acpsdk.WriteTextFileResponse, error) {
	if !c.p.b.cfg.FS.Write {
		return acpsdk.WriteTextFileResponse{}, c.notEnabled(acpsdk.ClientMethodFsWriteTextFile, "fs.write")
	}
	if err := c.checkSession(req.SessionId); err != nil {
		return acpsdk.WriteTextFileResponse{}, err
	}
	if err := c.p.ws.write(req.Path, req.Content); err != nil {
		return acpsdk.WriteTextFileResponse{}, refused(req.Path, err)
	}
	return acpsdk.WriteTextFileResponse{}, nil
}

func (c *client) terminals(id acpsdk.SessionId) (*terminals, error) {
	if c.p.terms == nil {
		return nil, c.notEnabled("terminal", "terminal")
	}
	if err := c.checkSession(id); err != nil {
		return nil, err
	}
	return c.p.terms, nil
}

func (c *client) CreateTerminal(_ context.Context, req acpsdk.CreateTerminalRequest) (acpsdk.CreateTerminalResponse, error) {
	ts, err := c.terminals(req.SessionId)
	if err != nil {
		return acpsdk.CreateTerminalResponse{}, err
	}
	id, err := ts.create(req)
	if err != nil {
		return acpsdk.CreateTerminalResponse{}, refused("", err)
	}
	return acpsdk.CreateTerminalResponse{TerminalId: id}, nil
}

func (c *client) TerminalOutput(_ context.Context, req acpsdk.TerminalOutputRequest) (acpsdk.TerminalOutputResponse, error) {
	ts, err := c.terminals(req.SessionId)
	if err != nil {
		return acpsdk.TerminalOutputResponse{}, err
	}
	resp, err := ts.output(req.TerminalId)
	if err != nil {
		return resp, refused("", err)
	}
	return resp, nil
}

func (c *client) WaitForTerminalExit(ctx context.Context, req acpsdk.WaitForTerminalExitRequest) (acpsdk.WaitForTerminalExitResponse, error) {
	ts, err := c.terminals(req.SessionId)
	if err != nil {
		return acpsdk.WaitForTerminalExitResponse{}, err
	}
	resp, err := ts.wait(ctx, req.TerminalId)
	if err != nil && !errors.Is(err, context.Canceled) {
		return resp, refused("", err)
	}
	return resp, err
}

func (c *client) KillTerminal(_ context.Context, req acpsdk.KillTerminalRequest) (acpsdk.KillTerminalResponse, error) {
	ts, err := c.terminals(req.SessionId)
	if err != nil {
		return acpsdk.KillTerminalResponse{}, err
	}
	if err := ts.kill(req.TerminalId); err != nil {
		return acpsdk.KillTerminalResponse{}, refused("", err)
	}
	return acpsdk.KillTerminalResponse{}, nil
}

func (c *client) ReleaseTerminal(_ context.Context, req acpsdk.ReleaseTerminalRequest) (acpsdk.ReleaseTerminalResponse, error) {
	ts, err := c.terminals(req.SessionId)
	if err != nil {
		return acpsdk.ReleaseTerminalResponse{}, err
	}
	if err := ts.release(req.TerminalId); err != nil {
		return acpsdk.ReleaseTerminalResponse{}, refused("", err)
	}
	return acpsdk.ReleaseTerminalResponse{}, nil
}
