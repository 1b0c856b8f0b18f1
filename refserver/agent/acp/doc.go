// Package acp puts agents that speak the Agent Client Protocol (ACP) behind
// the reference server's turns: a Bridge is an agent.Agent (kind model)
// that drives one ACP agent process per session over stdio with
// github.com/coder/acp-go-sdk. Configure agents in a file (LoadConfig) or
// in Go (Config); README.md shows a real one, claude-code-acp.
//
// # Lifecycle
//
// StartSession (which the server calls at session create), else a
// session's first turn, starts the agent's command in the session's
// working directory (Config.Cwd, or Cwd/<session id> with session_dirs),
// with only the environment its config gives it. The bridge sends
// initialize (advertising fs and terminal only when enabled), then
// session/new with that directory, or session/load when the session had
// an ACP session before (after a crash, an eviction or, with state_dir, a
// server restart) and the agent supports loading; the replayed history is
// not recorded again. StartSession does all this ahead of the first turn,
// so a server can refuse to create a session whose agent cannot start
// (a *StartError). Each turn is one session/prompt. CloseSession (for the
// server to call when the session ends) sends session/close where
// supported and stops the process; Close stops them all.
//
// # Turns
//
// session/update notifications become events (events.go has the table:
// message chunks → text, thought chunks → thinking, tool_call and
// tool_call_update → tool_call and tool_result with their status, plan →
// plan, usage → usage), in order, emitted while the turn runs. ACP's stop
// reasons map to the contract's (end_turn, max_tokens, max_turn_requests,
// refusal, cancelled); any other ends the turn with an error. When the
// turn's context ends (cancel, interrupt, timeout, close) the bridge sends
// session/cancel, answers pending permission requests "cancelled" and
// waits up to limits.cancel_grace for the agent's stop reason before it
// stops the process.
//
// # Failures
//
// Every failure is an error that names the agent and says what happened,
// which the server records as the turn's error event: a command that is
// missing or exits at start (with the end of its stderr), one that does
// not answer within limits.start_timeout, one that dies mid-turn (exit
// status and stderr tail, bounded by limits.stderr_tail_bytes; the next
// turn starts a new process), one that writes more than
// limits.turn_output_bytes in a turn (stopped). Env values, which may be
// secrets, appear in no error or log line, and are cut out of quoted
// stderr.
//
// # Permissions, files and terminals
//
// session/request_permission goes to the Permissions given with
// WithPermissions on the turn's context, else to the turn's
// agent.Input.Permissions (the server's, which makes it the contract's
// permission_request event), as a PermissionRequest (tool call, title,
// options with id, name and kind), after the updates the agent sent
// before it; without one the answer is ACP's "cancelled" outcome. fs/read_text_file and fs/write_text_file are
// served when enabled (fs.read, fs.write), for absolute paths inside the
// session's working directory only: ".." and symbolic links that lead
// outside are refused. terminal/* requests, when enabled, run commands in
// that directory with the agent's environment; that is not a sandbox.
package acp
