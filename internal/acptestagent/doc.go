// Package acptestagent is a small, deterministic ACP (Agent Client Protocol)
// agent for tests of ACP clients such as the reference server's bridge
// (refserver/agent/acp). It runs over any reader and writer pair (stdio in
// cmd/agentsession-acp-testagent) on github.com/coder/acp-go-sdk.
//
// # Prompts
//
// A prompt whose first non-blank line does not start with "/" is echoed:
// the agent streams it back as one agent_message_chunk and ends the turn
// with end_turn, reporting usage of (words in, words out), like the
// reference server's echo agent.
//
// A prompt whose first non-blank line starts with "/" is a script: every
// non-blank line is one command, run in order. An unknown command or a bad
// argument makes session/prompt answer a JSON-RPC error naming the line.
//
//	/say TEXT            stream TEXT as an agent_message_chunk
//	/think TEXT          stream TEXT as an agent_thought_chunk
//	/plan A | + B | > C  send a plan; "+ " marks an entry completed, "> " in progress
//	/tool NAME [JSON]    tool_call (pending, raw input JSON) → in_progress → completed
//	/tool-fail NAME      tool_call (pending) → in_progress → failed
//	/ask NAME            tool_call, then session/request_permission with the four
//	                     option kinds (ids allow-once, allow-always, reject-once,
//	                     reject-always); allowed → the tool completes, rejected →
//	                     it fails, cancelled → it fails; the agent says which
//	/read PATH           fs/read_text_file (PATH relative to the session's cwd
//	                     unless absolute); says the content or the error
//	/write PATH TEXT     fs/write_text_file; says what happened
//	/terminal CMD ARG…   terminal/create, wait_for_exit, output, release; says the
//	                     exit code and output
//	/sleep MS            wait MS milliseconds (session/cancel ends the wait)
//	/hang                never answer, ignoring session/cancel
//	/crash [CODE]        write a line to stderr and exit with CODE (default 3)
//	/stderr TEXT         write TEXT to stderr
//	/flood BYTES         stream BYTES bytes of agent_message_chunk as fast as possible
//	/flood-stderr BYTES  write BYTES bytes to stderr
//	/context USED SIZE   send a usage_update (context window) notification
//	/usage IN OUT [TH]   report these token counts (and TH thought tokens) in the prompt response
//	/count               say "prompts: N", the session's prompts so far (this one
//	                     included); session/load restores the count
//	/env NAME            say "NAME=VALUE" from the process's environment, or
//	                     "NAME is not set" (for tests of what an agent is given)
//	/error MESSAGE       answer session/prompt with a JSON-RPC error
//	/stop REASON         end the turn with stop reason REASON, verbatim
//
// session/cancel is honoured between commands and during /sleep and /ask:
// the turn then ends with stop reason cancelled.
//
// # Start-up behaviour and session/load
//
// Options (flags of the command) make the process misbehave before any
// prompt: exit at start, hang at start (never answer initialize), write to
// stderr at start, or answer session/new with ACP's "authentication
// required". With a state directory, sessions are saved there after
// every prompt and the agent advertises loadSession: session/load replays
// the saved exchanges (user_message_chunk, agent_message_chunk) and keeps
// counting prompts where the earlier process stopped.
package acptestagent
