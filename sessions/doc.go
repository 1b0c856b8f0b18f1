// Package sessions drives agent sessions through one handle: create and
// find them, send turns and stream their events, cancel, close, read the
// history, spawn child sessions, upload files, and move them through their
// lifecycle (package lifecycle holds its vocabulary).
//
//	c, err := agentsession.NewClient() // AGENTSESSION_BASE_URL, AGENTSESSION_TOKEN
//	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"})
//	res, err := s.Turn(ctx, "Summarise the open pull requests.")
//	fmt.Println(res.Text())
//	_, err = s.Log(ctx, lifecycle.LogParams{Type: lifecycle.LogCheckpoint, Message: "summary sent"})
//	err = s.Close(ctx)
//
// # The handle
//
// A *Session is the one value a user holds for a session: New(c).NewSession,
// Get, List or Session(id) make one, and every verb is its method. A verb
// whose answer carries the session (Refresh, Close, Pause, Resume, End,
// Handoff, UpdateContext) updates Info; Continue, Replay and Spawn return the
// new session's handle.
//
// # Turns
//
// Turn sends a prompt and returns the finished *TurnResult: its events,
// stop reason, usage, duration, and Text, the concatenated text events.
// Turn options attach files (WithFiles), ask the server to stop the turn
// after a while (WithTimeout), choose the busy policy (WithBusyPolicy) or
// pass call options such as an idempotency key (WithCallOptions).
//
// Without a busy policy, the Client sends a session's turns one at a time,
// in the order they were sent, across every handle of the session: callers
// that share a session never overlap. Turns of different sessions never wait
// for each other. With WithBusyPolicy a turn is sent at once and the server
// applies the policy: BusyReject fails with agentsession.ErrBusy at once,
// BusyEnqueue queues the turn, BusyInterrupt cancels the running turn.
//
// Cancel ends the running turn without waiting. Close is idempotent: once a
// Close succeeded, later ones return at once; a failed Close can be retried.
//
// # Streaming
//
// TurnStream returns a *Stream whose Events yields each event as the agent
// produces it, then Result gives the whole turn:
//
//	st := s.TurnStream(ctx, prompt, sessions.WithIdleTimeout(time.Minute))
//	for ev, err := range st.Events() {
//		if err != nil {
//			return err
//		}
//		if ev.Type == sessions.EventText {
//			fmt.Print(ev.Text())
//		}
//	}
//	res, err := st.Result()
//
// When the connection drops, the stream resumes by itself after the last
// event it saw (Last-Event-ID), so every event is yielded exactly once, in
// seq order. Events of types this SDK does not know are yielded too, with
// their JSON untouched in Event.Raw.
//
// # Lists
//
// List, History, Events, TurnEvents, Children, LogEntries and Artifacts
// return iterators (iter.Seq2) that fetch pages as the loop consumes them;
// an error is yielded once and ends the loop.
//
// # Turn record
//
// With agentsession.WithTurnRecord(dir), every Turn and TurnStream is
// appended to <dir>/<session_id>.jsonl with its prompt, events, stop reason,
// duration and HTTP attempts; package record reads it back.
package sessions
