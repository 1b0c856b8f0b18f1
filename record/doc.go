// Package record keeps a local, append-only record of turns: one JSON Lines
// file per session (<dir>/<session_id>.jsonl), one line per turn with its
// prompt, events (as the server sent them), stop reason, duration and every
// HTTP attempt (status or error, duration, delay before the next). It
// serves audits and replays without the server.
//
// The SDK writes it when the client has agentsession.WithTurnRecord(dir);
// Read gives it back:
//
//	turns, err := record.Read(dir, sessionID)
//	if errors.Is(err, record.ErrTornLine) {
//		// the process died while writing the last line; turns holds the rest
//	}
//
// A Recorder is safe for concurrent use: appends to one session's file are
// serialized, different sessions are written in parallel, and each line is
// written with a single write. Lines of any length are read back. A line
// left incomplete by a crash is reported by Read (a *LineError matching
// ErrTornLine) without losing the lines before it, and the next Append
// terminates it first, so it cannot corrupt the new line.
package record
