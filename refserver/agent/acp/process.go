package acp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	acpsdk "github.com/coder/acp-go-sdk"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
)

// ClientName is how the bridge introduces itself in initialize.
const ClientName = "agentsession-refserver"

// process is one agent process serving one server session.
type process struct {
	b         *Bridge
	sessionID string
	cwd       string
	cmd       *exec.Cmd
	conn      *acpsdk.ClientSideConnection
	stdin     io.WriteCloser
	stdout    *meter
	stderr    *tail
	secrets   []string
	ws        *workspace // nil unless fs or terminal is enabled
	terms     *terminals // nil unless terminal is enabled

	// Set by handshake, before any turn.
	acpSession acpsdk.SessionId
	caps       acpsdk.AgentCapabilities

	drained    chan struct{} // closed once every notification the agent sent was handled
	eofMethod  string        // the meter's marker notification
	exited     chan struct{} // closed once the process has exited
	waitErr    error         // how it exited; read after exited
	stderrDone chan struct{} // closed once stderr reached its end
	ctx        context.Context
	cancel     context.CancelFunc // ends ctx: the process is going away

	current  atomic.Pointer[turnState]
	busy     atomic.Bool
	lastUsed atomic.Int64

	drainOnce  sync.Once
	killOnce   sync.Once
	killReason atomic.Pointer[string]
	stopOnce   sync.Once
}

// StartError is a failure to start an agent process or open its ACP
// session: the command is missing, the process exited at start, it did not
// answer within limits.start_timeout, it needs authentication, it speaks
// another protocol version. Its message names the agent and the reason.
type StartError struct {
	Agent string
	Err   error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// start starts the agent for sessionID and opens its ACP session. It
// fails fast, with a StartError: a missing command at once, a process
// that exits as soon as it exits, one that does not answer within
// limits.start_timeout. A ctx that ends first gives its cause.
func (b *Bridge) start(ctx context.Context, sessionID string, options map[string]any) (*process, error) {
	p, err := b.startProcess(ctx, sessionID, options)
	if err != nil && (ctx.Err() == nil || !errors.Is(err, context.Cause(ctx))) {
		return nil, &StartError{Agent: b.cfg.Name, Err: err}
	}
	return p, err
}

func (b *Bridge) startProcess(ctx context.Context, sessionID string, options map[string]any) (*process, error) {
	cwd, err := b.sessionDir(sessionID)
	if err != nil {
		return nil, err
	}
	env, secrets, err := b.cfg.environment(b.lookupEnv, options)
	if err != nil {
		return nil, fmt.Errorf("agent %q: %w", b.cfg.Name, err)
	}
	p := &process{
		b: b, sessionID: sessionID, cwd: cwd, secrets: secrets,
		stderr:     &tail{limit: b.cfg.Limits.StderrTailBytes},
		exited:     make(chan struct{}),
		stderrDone: make(chan struct{}),
		drained:    make(chan struct{}),
		eofMethod:  "_agentsession/end-of-output/" + rand.Text(),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if b.cfg.FS.Read || b.cfg.FS.Write || b.cfg.Terminal {
		if p.ws, err = openWorkspace(cwd); err != nil {
			return nil, fmt.Errorf("agent %q: working directory: %w", b.cfg.Name, err)
		}
	}
	if b.cfg.Terminal {
		p.terms = &terminals{ws: p.ws, env: env, max: b.cfg.Limits.MaxTerminals, outLimit: b.cfg.Limits.TerminalOutputBytes}
	}

	cmd := exec.Command(b.cfg.Command, b.cfg.Args...)
	cmd.Dir, cmd.Env = cwd, env
	setProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		p.release()
		return nil, err
	}
	// Plain pipes rather than cmd.StdoutPipe: Wait must not close stdout
	// while acp-go-sdk still reads what the agent wrote before it exited.
	outR, outW, err := os.Pipe()
	if err != nil {
		p.release()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		p.release()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		p.release()
		return nil, fmt.Errorf("agent %q: cannot start %q: %w", b.cfg.Name, b.cfg.Command, unwrapExecError(err))
	}
	outW.Close()
	errW.Close()
	p.cmd, p.stdin = cmd, stdin
	// The SDK reads from its first moment; holding its reads until its
	// logger is set keeps SetLogger from racing with a log line.
	p.stdout = &meter{r: outR, ready: make(chan struct{}),
		marker: []byte("\n{\"jsonrpc\":\"2.0\",\"method\":\"" + p.eofMethod + "\"}\n")}
	p.lastUsed.Store(time.Now().UnixNano())
	p.conn = acpsdk.NewClientSideConnection(&client{p: p}, stdin, p.stdout)
	p.conn.SetLogger(slog.New(truncatingHandler{h: b.log.Handler(), max: 512, secrets: secrets}).With("agent", b.cfg.Name))
	close(p.stdout.ready)
	go func() {
		_, _ = io.Copy(p.stderr, errR)
		close(p.stderrDone)
	}()
	go p.wait(outR, errR)
	if err := p.handshake(ctx); err != nil {
		p.kill("")
		<-p.exited
		return nil, err
	}
	return p, nil
}

// unwrapExecError drops exec's repetition of the command name.
func unwrapExecError(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// wait reaps the process, then makes sure nothing it started lives on and
// that the pipes' readers end.
func (p *process) wait(outR, errR *os.File) {
	p.waitErr = p.cmd.Wait()
	close(p.exited)
	killProcessGroup(p.cmd)
	p.cancel()
	if p.terms != nil {
		p.terms.closeAll()
	}
	// A descendant outside the group could keep the pipes open: give the
	// readers a moment to see the end, then close them.
	grace, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	select {
	case <-p.conn.Done():
	case <-grace.Done():
	}
	outR.Close()
	select {
	case <-p.stderrDone:
	case <-grace.Done():
	}
	errR.Close()
	if p.ws != nil {
		p.ws.close()
	}
}

// release frees what start made when the process never started.
func (p *process) release() {
	p.cancel()
	if p.ws != nil {
		p.ws.close()
	}
}

// dead reports whether the process exited or its connection closed.
func (p *process) dead() bool {
	select {
	case <-p.exited:
		return true
	case <-p.conn.Done():
		return true
	default:
		return false
	}
}

// kill stops the process at once; reason, when set, says why in errors.
func (p *process) kill(reason string) {
	if reason != "" {
		p.killReason.CompareAndSwap(nil, &reason)
	}
	p.killOnce.Do(func() { killProcessGroup(p.cmd) })
}

// stop ends the process gracefully: session/close when the agent has it,
// then its stdin closes, then SIGTERM, then SIGKILL.
func (p *process) stop(ctx context.Context) {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() {
		grace := p.b.cfg.Limits.StopGrace
		if p.caps.SessionCapabilities.Close != nil && !p.dead() {
			cctx, cancel := context.WithTimeout(ctx, grace)
			_, _ = p.conn.CloseSession(cctx, acpsdk.CloseSessionRequest{SessionId: p.acpSession})
			cancel()
		}
		_ = p.stdin.Close()
		if p.waitExit(ctx, grace) {
			return
		}
		terminateProcessGroup(p.cmd)
		if p.waitExit(ctx, time.Second) {
			return
		}
		p.kill("")
		<-p.exited
	})
}

// isTransportError reports whether err is acp-go-sdk's failure to reach
// the agent (a write to a closed pipe, a connection that closed) rather
// than the agent's answer.
func isTransportError(err error) bool {
	var re *acpsdk.RequestError
	if !errors.As(err, &re) {
		return true
	}
	m, _ := re.Data.(map[string]any)
	msg, _ := m["error"].(string)
	return re.Code == -32603 && (strings.HasPrefix(msg, "write ") || strings.Contains(msg, "peer disconnected"))
}

// isWriteError reports whether err is acp-go-sdk's failure to write the
// request: the agent's stdin was closed, so it never read it.
func isWriteError(err error) bool {
	var re *acpsdk.RequestError
	if !errors.As(err, &re) {
		return false
	}
	m, _ := re.Data.(map[string]any)
	msg, _ := m["error"].(string)
	return re.Code == -32603 && strings.HasPrefix(msg, "write ")
}

// notDelivered is a turn whose prompt could not be sent because the
// process had died since its last turn; Run tries once more on a new one.
type notDelivered struct{ error }

func (e notDelivered) Unwrap() error { return e.error }

// awaitDeath waits up to d for the process to exit or its connection to
// close.
func (p *process) awaitDeath(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-p.conn.Done():
	case <-timer.C:
	}
}

// awaitDrained waits (a moment at most) until the updates the agent sent
// before its output ended were handled.
func (p *process) awaitDrained() {
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	select {
	case <-p.drained:
	case <-timer.C:
	}
}

// waitExit waits up to d for the process to exit.
func (p *process) waitExit(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// handshake runs initialize, then session/load (when there is an earlier
// ACP session and the agent can load it) or session/new.
func (p *process) handshake(ctx context.Context) error {
	cfg := p.b.cfg
	sctx, cancel := context.WithTimeout(ctx, cfg.Limits.StartTimeout)
	defer cancel()
	init, err := p.conn.Initialize(sctx, acpsdk.InitializeRequest{
		ProtocolVersion: acpsdk.ProtocolVersionNumber,
		ClientInfo:      &acpsdk.Implementation{Name: ClientName, Version: p.b.clientVersion},
		ClientCapabilities: acpsdk.ClientCapabilities{
			Fs:       acpsdk.FileSystemCapabilities{ReadTextFile: cfg.FS.Read, WriteTextFile: cfg.FS.Write},
			Terminal: cfg.Terminal,
		},
	})
	if err != nil {
		return p.startError(ctx, sctx, "initialize", err)
	}
	if init.ProtocolVersion != acpsdk.ProtocolVersionNumber {
		return fmt.Errorf("agent %q speaks ACP protocol version %d; the bridge speaks version %d",
			cfg.Name, init.ProtocolVersion, acpsdk.ProtocolVersionNumber)
	}
	p.caps = init.AgentCapabilities
	mcp := []acpsdk.McpServer{}
	if prev, ok, err := p.b.sessions.Load(p.sessionID); err != nil {
		p.b.log.Warn("acp: reading the saved ACP session failed", "agent", cfg.Name, "session", p.sessionID, "error", err.Error())
	} else if ok && p.caps.LoadSession {
		// The agent replays the conversation as session/update
		// notifications; no turn is current, so they are not events again.
		_, err := p.conn.LoadSession(sctx, acpsdk.LoadSessionRequest{SessionId: acpsdk.SessionId(prev), Cwd: p.cwd, McpServers: mcp})
		if err == nil {
			p.acpSession = acpsdk.SessionId(prev)
			return nil
		}
		if p.dead() || sctx.Err() != nil {
			return p.startError(ctx, sctx, "session/load", err)
		}
		p.b.log.Warn("acp: session/load failed; starting a new ACP session", "agent", cfg.Name, "session", p.sessionID, "error", p.clip(err.Error()))
	}
	resp, err := p.conn.NewSession(sctx, acpsdk.NewSessionRequest{Cwd: p.cwd, McpServers: mcp})
	if err != nil {
		return p.startError(ctx, sctx, "session/new", err)
	}
	p.acpSession = resp.SessionId
	if err := p.b.sessions.Save(p.sessionID, string(resp.SessionId)); err != nil {
		p.b.log.Warn("acp: saving the ACP session failed", "agent", cfg.Name, "session", p.sessionID, "error", err.Error())
	}
	return nil
}

// startError says why step failed while starting.
func (p *process) startError(ctx, sctx context.Context, step string, err error) error {
	name := p.b.cfg.Name
	if ctx.Err() == nil && sctx.Err() == nil && isTransportError(err) {
		// A write to a process that just exited fails before its
		// output's end is seen: give the end a moment to arrive.
		p.awaitDeath(500 * time.Millisecond)
	}
	switch {
	case p.dead():
		return fmt.Errorf("agent %q exited at start, before answering %s (%s)%s", name, step, p.exitDescription(), p.stderrSuffix())
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case sctx.Err() != nil:
		return fmt.Errorf("agent %q did not answer %s within %s (limits.start_timeout)%s", name, step, p.b.cfg.Limits.StartTimeout, p.stderrSuffix())
	}
	var re *acpsdk.RequestError
	if errors.As(err, &re) && re.Code == -32000 {
		return fmt.Errorf("agent %q needs authentication (%s): give it its credentials in its env", name, p.describe(re))
	}
	return fmt.Errorf("agent %q: %s failed: %s%s", name, step, p.describe(err), p.stderrSuffix())
}

// exitDescription says how the process ended, once it has (waiting a
// moment for that).
func (p *process) exitDescription() string {
	if !p.waitExit(context.Background(), 2*time.Second) {
		p.kill("")
		<-p.exited
	}
	desc := "exit status 0"
	if p.waitErr != nil {
		desc = p.waitErr.Error()
	}
	if r := p.killReason.Load(); r != nil {
		desc = "stopped by the bridge: " + *r
	}
	return desc
}

// stderrSuffix quotes the end of the agent's stderr, if it wrote any.
func (p *process) stderrSuffix() string {
	if p.dead() {
		timer := time.NewTimer(500 * time.Millisecond)
		select {
		case <-p.stderrDone:
		case <-timer.C:
		}
		timer.Stop()
	}
	text := p.stderr.text(p.secrets)
	if text == "" {
		return ""
	}
	return fmt.Sprintf("; its stderr ends with: %s", text)
}

func (p *process) clip(s string) string {
	return truncatingHandler{max: 1024, secrets: p.secrets}.clip(s)
}

// describe is a JSON-RPC error's message and data, bounded and redacted.
func (p *process) describe(err error) string {
	var re *acpsdk.RequestError
	if !errors.As(err, &re) {
		return p.clip(err.Error())
	}
	s := re.Message
	if m, ok := re.Data.(map[string]any); ok && len(m) == 1 {
		for _, k := range []string{"error", "reason", "message", "details"} {
			if v, ok := m[k].(string); ok {
				return p.clip(fmt.Sprintf("%s: %s (code %d)", s, v, re.Code))
			}
		}
	}
	if re.Data != nil {
		if data, err := json.Marshal(re.Data); err == nil {
			s += " " + string(data)
		}
	}
	return p.clip(fmt.Sprintf("%s (code %d)", s, re.Code))
}

type promptResult struct {
	resp acpsdk.PromptResponse
	err  error
}

// prompt runs one turn: session/prompt, the updates as events, and on
// ctx's end session/cancel and the wait for the agent's stop reason.
func (p *process) prompt(ctx context.Context, in agent.Input, emit agent.Emit) (agent.Outcome, error) {
	cfg := p.b.cfg
	// An emit error (the turn is over, or the server cannot store) ends
	// the turn like a cancel, with that error.
	ctx, endTurn := context.WithCancelCause(ctx)
	defer endTurn(nil)
	t := newTurnState(ctx, in, emit)
	t.emitFailed = endTurn
	p.busy.Store(true)
	p.current.Store(t)
	p.stdout.start(cfg.Limits.TurnOutputBytes, t.flood)
	go t.pump()
	defer func() {
		p.stdout.stop()
		p.current.Store(nil)
		t.finish()
		p.lastUsed.Store(time.Now().UnixNano())
		p.busy.Store(false)
	}()

	done := make(chan promptResult, 1)
	go func() {
		resp, err := p.conn.Prompt(p.ctx, acpsdk.PromptRequest{
			SessionId: p.acpSession,
			Prompt:    []acpsdk.ContentBlock{acpsdk.TextBlock(in.Prompt)},
		})
		done <- promptResult{resp, err}
	}()

	var r promptResult
	cancelled := false
	select {
	case r = <-done:
	case <-t.flooded:
		p.kill(fmt.Sprintf("it wrote more than %d bytes in one turn (limits.turn_output_bytes)", cfg.Limits.TurnOutputBytes))
		r = <-done
	case <-ctx.Done():
		cancelled = true
		// ACP's cancel: the agent stops and answers the prompt with
		// stop reason cancelled; pending permission requests are answered
		// cancelled (their contexts end with ctx).
		// (Sent aside: an agent that reads nothing could block the write;
		// the grace below bounds it.)
		go func() {
			_ = p.conn.Cancel(p.ctx, acpsdk.CancelNotification{SessionId: p.acpSession})
			close(t.cancelSent)
		}()
		grace := time.NewTimer(cfg.Limits.CancelGrace)
		select {
		case r = <-done:
		case <-t.flooded:
			p.kill(fmt.Sprintf("it wrote more than %d bytes in one turn (limits.turn_output_bytes)", cfg.Limits.TurnOutputBytes))
			r = <-done
		case <-grace.C:
			p.kill(fmt.Sprintf("it did not answer session/cancel within %s (limits.cancel_grace)", cfg.Limits.CancelGrace))
			p.b.log.Warn("acp: the agent ignored session/cancel; its process was stopped", "agent", cfg.Name, "session", in.SessionID)
			r = <-done
		}
		grace.Stop()
	}
	// Every update sent before the answer is queued by now (acp-go-sdk
	// handles them before it returns the answer; when the process died,
	// once its output's end is handled); let them be emitted.
	if r.err != nil && !cancelled && isTransportError(r.err) {
		p.awaitDeath(500 * time.Millisecond)
	}
	if r.err != nil && p.dead() {
		p.awaitDrained()
	}
	p.stdout.stop()
	p.current.Store(nil)
	t.finish()

	if t.isFlooded() {
		return agent.Outcome{}, fmt.Errorf("agent %q wrote more than %d bytes during the turn (limits.turn_output_bytes); its process was stopped",
			cfg.Name, cfg.Limits.TurnOutputBytes)
	}
	if err := t.emitError(); err != nil {
		// Events were lost: the turn cannot end as if they were not.
		return agent.Outcome{}, err
	}
	if cancelled && (r.err != nil || r.resp.StopReason == acpsdk.StopReasonCancelled) {
		return agent.Outcome{}, context.Cause(ctx)
	}
	if r.err != nil {
		if p.dead() {
			err := fmt.Errorf("agent %q exited during the turn (%s)%s", cfg.Name, p.exitDescription(), p.stderrSuffix())
			if isWriteError(r.err) && !t.heard() {
				// The prompt never reached it: it had died before.
				return agent.Outcome{}, notDelivered{err}
			}
			return agent.Outcome{}, err
		}
		return agent.Outcome{}, fmt.Errorf("agent %q answered session/prompt with an error: %s", cfg.Name, p.describe(r.err))
	}
	stop, ok := stopReason(r.resp.StopReason)
	if !ok {
		return agent.Outcome{}, fmt.Errorf("agent %q ended the turn with stop reason %q, which ACP does not define", cfg.Name, p.clip(string(r.resp.StopReason)))
	}
	out := agent.Outcome{StopReason: stop}
	if u := r.resp.Usage; u != nil {
		// The turn's usage holds the token counts; a usage event only the
		// details it cannot (thought and cache tokens), so a turn that
		// reports plain counts has exactly the events the agent streamed,
		// as the built-in agents' turns do.
		out.Usage = usageOf(u)
		if u.ThoughtTokens != nil || u.CachedReadTokens != nil || u.CachedWriteTokens != nil {
			out.Events = []gen.ScriptEvent{usageEvent(u)}
		}
	}
	return out, nil
}

// turnState is the running turn of a process: the queue between the
// SDK's notification goroutine (which must not wait on the server's store)
// and the goroutine that emits.
type turnState struct {
	ctx  context.Context
	in   agent.Input
	emit agent.Emit

	mu      sync.Mutex
	m       mapper
	updates int // received, events or not
	queue   []gen.ScriptEvent
	closed  bool
	wake    chan struct{}
	drained chan struct{}
	// queued counts the events ever queued, handled those the pump has
	// emitted or dropped; progress is closed (and replaced) whenever
	// handled grows.
	queued, handled int
	progress        chan struct{}
	// updated is closed (and replaced) at every update.
	updated chan struct{}

	flooded    chan struct{}
	floodOnce  sync.Once
	emitFailed context.CancelCauseFunc
	emitErr    error // the first emit error, under mu
	// cancelSent is closed once session/cancel is on its way: permission
	// requests are answered "cancelled" only after it, as ACP orders.
	cancelSent chan struct{}
}

func newTurnState(ctx context.Context, in agent.Input, emit agent.Emit) *turnState {
	return &turnState{ctx: ctx, in: in, emit: emit, wake: make(chan struct{}, 1),
		drained: make(chan struct{}), flooded: make(chan struct{}), cancelSent: make(chan struct{}),
		progress: make(chan struct{}), updated: make(chan struct{}), emitFailed: func(error) {}}
}

func (t *turnState) update(u acpsdk.SessionUpdate) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.updates++
	n := len(t.queue)
	t.queue = append(t.queue, t.m.events(u)...)
	t.queued += len(t.queue) - n
	close(t.updated)
	t.updated = make(chan struct{})
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *turnState) emitError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.emitErr
}

// heard reports whether the agent sent anything during the turn.
func (t *turnState) heard() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.updates > 0
}

func (t *turnState) toolTitle(id acpsdk.ToolCallId) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m.title(id)
}

// pump emits queued events in order until finish; after an emit error
// (the turn is over) it drops the rest.
func (t *turnState) pump() {
	defer close(t.drained)
	var failed bool
	for {
		t.mu.Lock()
		batch, closed := t.queue, t.closed
		t.queue = nil
		t.mu.Unlock()
		for _, e := range batch {
			if failed {
				break
			}
			if err := t.emit(e); err != nil {
				failed = true
				t.mu.Lock()
				t.emitErr = err
				t.mu.Unlock()
				t.emitFailed(err)
			}
		}
		if len(batch) > 0 {
			t.mu.Lock()
			t.handled += len(batch)
			close(t.progress)
			t.progress = make(chan struct{})
			t.mu.Unlock()
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			<-t.wake
		}
	}
}

// toolCallGrace bounds how long a permission request waits for the
// tool_call update it concerns. The SDK hands requests to their handlers at
// once but notifications one by one, so an update the agent sent before it
// asked may not have reached the turn yet; an agent that never announces
// the call costs its request this delay.
const toolCallGrace = 100 * time.Millisecond

// awaitToolCall waits (toolCallGrace at most) until the turn has seen the
// tool call id.
func (t *turnState) awaitToolCall(ctx context.Context, id acpsdk.ToolCallId) {
	timer := time.NewTimer(toolCallGrace)
	defer timer.Stop()
	for {
		t.mu.Lock()
		_, known := t.m.tools[id]
		updated := t.updated
		t.mu.Unlock()
		if known || id == "" {
			return
		}
		select {
		case <-updated:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// flushed waits until the events queued so far are emitted (or dropped),
// or ctx ends.
func (t *turnState) flushed(ctx context.Context) {
	t.mu.Lock()
	target := t.queued
	t.mu.Unlock()
	for {
		t.mu.Lock()
		handled, progress := t.handled, t.progress
		t.mu.Unlock()
		if handled >= target {
			return
		}
		select {
		case <-progress:
		case <-t.drained:
			return
		case <-ctx.Done():
			return
		}
	}
}

// finish takes no more updates and waits until the queued ones are
// emitted. It may be called more than once.
func (t *turnState) finish() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	<-t.drained
}

// flood ends the turn's intake: what the agent sends past its limit is
// not emitted.
func (t *turnState) flood() {
	t.floodOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()
		close(t.flooded)
	})
}

func (t *turnState) isFlooded() bool {
	select {
	case <-t.flooded:
		return true
	default:
		return false
	}
}
