// Package agent holds the agents behind the reference server's turns and the
// registry that finds them by name.
//
// An Agent answers one turn: it reads the prompt, emits events through the
// emit callback while it works, and returns how the turn ended. The server
// assigns every event its seq, turn_index and created_at, stores it and
// streams it; the agent only says what happened.
//
// Two kinds ship with the server:
//
//   - Echo (kind echo): one text event holding the prompt, stop_reason
//     end_turn. Deterministic, for quick round trips and benchmarks.
//   - Scripted (kind scripted): the prompt is an AgentScript (JSON) whose
//     steps, delays, stop reason and usage the agent plays back, so tests can
//     produce any event sequence, slow turns, cancels and busy sessions.
//     NewScript plays one fixed script whatever the prompt; LoadDir registers
//     one such agent per <name>.json file of a directory.
//
// A real model bridge would be a third implementation of Agent.
package agent
