package acp

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	acpsdk "github.com/coder/acp-go-sdk"
)

// terminals are the commands one session's agent runs with terminal/create.
type terminals struct {
	ws       *workspace
	env      []string
	max      int
	outLimit int

	mu     sync.Mutex
	next   int
	m      map[string]*terminal
	closed bool
}

type terminal struct {
	cmd  *exec.Cmd
	out  *tailWriter
	done chan struct{} // closed once the command has exited
	exit acpsdk.TerminalExitStatus
}

func (ts *terminals) create(req acpsdk.CreateTerminalRequest) (string, error) {
	dir := ts.ws.real
	if req.Cwd != nil && *req.Cwd != "" {
		d, err := ts.ws.dirFor(*req.Cwd)
		if err != nil {
			return "", fmt.Errorf("cwd: %w", err)
		}
		dir = d
	}
	limit := ts.outLimit
	if req.OutputByteLimit != nil && *req.OutputByteLimit >= 0 && *req.OutputByteLimit < limit {
		limit = *req.OutputByteLimit
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return "", errors.New("the session is ending")
	}
	if len(ts.m) >= ts.max {
		return "", fmt.Errorf("%d terminals already (limits.max_terminals); release one first", ts.max)
	}
	cmd := exec.Command(req.Command, req.Args...)
	cmd.Dir = dir
	cmd.Env = append([]string(nil), ts.env...)
	for _, v := range req.Env {
		cmd.Env = append(cmd.Env, v.Name+"="+v.Value)
	}
	out := &tailWriter{limit: limit}
	cmd.Stdout, cmd.Stderr = out, out
	// Children that keep the output open must not hold Wait forever.
	cmd.WaitDelay = time.Second
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	ts.next++
	id := "term_" + strconv.Itoa(ts.next)
	t := &terminal{cmd: cmd, out: out, done: make(chan struct{})}
	if ts.m == nil {
		ts.m = map[string]*terminal{}
	}
	ts.m[id] = t
	go func() {
		err := cmd.Wait()
		t.exit = exitStatus(cmd, err)
		close(t.done)
	}()
	return id, nil
}

// exitStatus is ACP's view of how cmd ended.
func exitStatus(cmd *exec.Cmd, err error) acpsdk.TerminalExitStatus {
	st := cmd.ProcessState
	if st == nil {
		return acpsdk.TerminalExitStatus{}
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return acpsdk.TerminalExitStatus{Signal: acpsdk.Ptr(ws.Signal().String())}
	}
	return acpsdk.TerminalExitStatus{ExitCode: acpsdk.Ptr(st.ExitCode())}
}

func (ts *terminals) get(id string) (*terminal, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.m[id]
	if t == nil {
		return nil, fmt.Errorf("no terminal %q", id)
	}
	return t, nil
}

func (ts *terminals) output(id string) (acpsdk.TerminalOutputResponse, error) {
	t, err := ts.get(id)
	if err != nil {
		return acpsdk.TerminalOutputResponse{}, err
	}
	text, truncated := t.out.text()
	resp := acpsdk.TerminalOutputResponse{Output: text, Truncated: truncated}
	select {
	case <-t.done:
		resp.ExitStatus = &t.exit
	default:
	}
	return resp, nil
}

func (ts *terminals) wait(ctx context.Context, id string) (acpsdk.WaitForTerminalExitResponse, error) {
	t, err := ts.get(id)
	if err != nil {
		return acpsdk.WaitForTerminalExitResponse{}, err
	}
	select {
	case <-t.done:
		return acpsdk.WaitForTerminalExitResponse{ExitCode: t.exit.ExitCode, Signal: t.exit.Signal}, nil
	case <-ctx.Done():
		return acpsdk.WaitForTerminalExitResponse{}, ctx.Err()
	}
}

func (ts *terminals) kill(id string) error {
	t, err := ts.get(id)
	if err != nil {
		return err
	}
	killProcessGroup(t.cmd)
	return nil
}

func (ts *terminals) release(id string) error {
	ts.mu.Lock()
	t := ts.m[id]
	delete(ts.m, id)
	ts.mu.Unlock()
	if t == nil {
		return fmt.Errorf("no terminal %q", id)
	}
	killProcessGroup(t.cmd)
	return nil
}

// closeAll kills every terminal; no new one can be made.
func (ts *terminals) closeAll() {
	ts.mu.Lock()
	ts.closed = true
	m := ts.m
	ts.m = nil
	ts.mu.Unlock()
	for _, t := range m {
		killProcessGroup(t.cmd)
	}
}

// tailWriter keeps the last limit bytes written to it, cut at a character
// boundary, as ACP's terminal output asks.
type tailWriter struct {
	mu        sync.Mutex
	limit     int
	buf       []byte
	truncated bool
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.limit; over > 0 {
		w.truncated = true
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) text() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	return string(b), w.truncated
}
