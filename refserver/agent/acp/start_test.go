package acp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/refserver/agent/acp"
)

func TestMissingCommandFailsFast(t *testing.T) {
	for _, tt := range []struct{ command, want string }{
		{filepath.Join(t.TempDir(), "no-such-agent"), "no such file or directory"},
		{"agentsession-no-such-agent-command", "executable file not found in $PATH"},
	} {
		cfg := config(t)
		cfg.Command = tt.command
		b := newBridge(t, cfg)
		r := run(t, b, "s1", "hi")
		wantErr(t, r.err, `agent "testagent": cannot start "`+tt.command+`": `+tt.want)
		var se *acp.StartError
		if !errors.As(r.err, &se) || se.Agent != "testagent" {
			t.Errorf("%v is not a StartError", r.err)
		}
		if r.took > 2*time.Second {
			t.Errorf("%s: took %v", tt.command, r.took)
		}
	}
}

func TestExitAtStartFailsFastWithItsStderr(t *testing.T) {
	b := newBridge(t, config(t, "-stderr-at-start", "error: ANTHROPIC_API_KEY is not set", "-exit-at-start", "4"))
	r := run(t, b, "s1", "hi")
	wantErr(t, r.err, `agent "testagent" exited at start, before answering initialize (exit status 4)`,
		"its stderr ends with: error: ANTHROPIC_API_KEY is not set\nacptestagent: exiting at start with code 4")
	if r.took > 3*time.Second {
		t.Errorf("took %v", r.took)
	}
	if n := b.Processes(); n != 0 {
		t.Errorf("%d processes", n)
	}
	// Every turn tries again, and fails the same way; so does starting the
	// session ahead of its first turn.
	wantErr(t, run(t, b, "s1", "hi").err, "exited at start")
	err := b.StartSession(t.Context(), "s2", nil)
	var se *acp.StartError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "exit status 4") {
		t.Errorf("StartSession: %v", err)
	}
}

func TestAnAgentThatNeedsAuthenticationSaysSo(t *testing.T) {
	b := newBridge(t, config(t, "-require-auth"))
	r := run(t, b, "s1", "hi")
	wantErr(t, r.err, `agent "testagent" needs authentication (Authentication required: no API key configured (code -32000)): give it its credentials in its env`)
	var se *acp.StartError
	if !errors.As(r.err, &se) {
		t.Errorf("%v is not a StartError", r.err)
	}
}

func TestStartSessionStartsTheProcessOnce(t *testing.T) {
	b := newBridge(t, config(t))
	if err := b.StartSession(t.Context(), "s1", nil); err != nil {
		t.Fatal(err)
	}
	pid := b.PID("s1")
	if err := b.StartSession(t.Context(), "s1", nil); err != nil || b.PID("s1") != pid || pid == 0 {
		t.Errorf("again: %v, pid %d then %d", err, pid, b.PID("s1"))
	}
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) || b.PID("s1") != pid {
		t.Errorf("the first turn: %q", got)
	}
	// A start cancelled by its context gives the context's cause.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.StartSession(ctx, "s2", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled start: %v", err)
	}
}

func TestSilentAgentIsBoundedByTheStartTimeout(t *testing.T) {
	cfg := config(t, "-hang-at-start")
	cfg.Limits.StartTimeout = 300 * time.Millisecond
	b := newBridge(t, cfg)
	r := run(t, b, "s1", "hi")
	wantErr(t, r.err, `agent "testagent" did not answer initialize within 300ms (limits.start_timeout)`)
	if r.took > 3*time.Second {
		t.Errorf("took %v", r.took)
	}
	// The turn's own deadline, when it comes first, is what ends the start.
	cfg.Limits.StartTimeout = time.Minute
	b = newBridge(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	r = runCtx(ctx, b, "s1", "hi")
	var se *acp.StartError
	if !errors.Is(r.err, context.DeadlineExceeded) || errors.As(r.err, &se) || r.took > 3*time.Second {
		t.Errorf("err %v after %v, want the turn's deadline", r.err, r.took)
	}
}

func TestSessionDirsAndSessionNewGetTheWorkingDirectory(t *testing.T) {
	cfg := config(t)
	cfg.SessionDirs = true
	cfg.FS = acp.FSConfig{Read: true, Write: true}
	b := newBridge(t, cfg)
	// The agent resolves the relative path against session/new's cwd.
	r := mustRun(t, b, "ses_1", "/write notes.txt hello")
	if got := r.events.texts(); !cmp.Equal(got, []string{"wrote 5 bytes to notes.txt"}) {
		t.Fatalf("texts %q", got)
	}
	data, err := os.ReadFile(filepath.Join(cfg.Cwd, "ses_1", "notes.txt"))
	if err != nil || string(data) != "hello" {
		t.Errorf("the file: %q, %v", data, err)
	}
	wantErr(t, run(t, b, "../escape", "hi").err, `session id "../escape" cannot name a directory`)
}

func TestSessionLoadAfterARestart(t *testing.T) {
	state := t.TempDir()
	cfg := config(t, "-state", filepath.Join(state, "agent"))
	cfg.StateDir = filepath.Join(state, "bridge")
	b := newBridge(t, cfg)
	mustRun(t, b, "s1", "remember this")
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 2"}) {
		t.Fatalf("texts %q", got)
	}
	if err := b.Close(); err != nil { // the server stops
		t.Fatal(err)
	}

	b2 := newBridge(t, cfg) // and starts again
	r := mustRun(t, b2, "s1", "/count")
	// session/load replayed two exchanges; they are not this turn's events.
	if got := r.events.texts(); !cmp.Equal(got, []string{"prompts: 3"}) {
		t.Errorf("after the restart: %q, want the loaded session's third prompt alone", got)
	}

	// A closed session is forgotten: a new bridge starts a new ACP session.
	if err := b2.CloseSession(t.Context(), "s1"); err != nil {
		t.Fatal(err)
	}
	b3 := newBridge(t, cfg)
	if got := mustRun(t, b3, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) {
		t.Errorf("after the close: %q, want a new session", got)
	}
}

func TestACrashedSessionIsLoadedByTheNextProcess(t *testing.T) {
	cfg := config(t, "-state", t.TempDir())
	b := newBridge(t, cfg)
	mustRun(t, b, "s1", "one")
	wantErr(t, run(t, b, "s1", "/crash 2").err, "exit status 2")
	// The crashed prompt was never saved; the first one was.
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 2"}) {
		t.Errorf("texts %q", got)
	}
}
