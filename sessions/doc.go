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
// after a while (WithTimeout), choose the busy policy (WithBusyPolicy),
// carry the caller's correlation data (WithMeta, returned in
// TurnResult.Meta), answer permission requests (WithPermissionHandler) or
// pass call options such as an idempotency key (WithCallOptions).
// CreateParams.AgentOptions sets the agent's options (a model, a reasoning
// effort) for the session's life.
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
// # Permission requests
//
// An agent may ask before it acts: its turn yields an Event of type
// EventPermissionRequest (RequestID, Title, Options) and waits. Answer it
// from the loop with the event's Answer method, and read on: the same
// turn goes on.
//
//	for ev, err := range st.Events() {
//		...
//		if ev.Type == sessions.EventPermissionRequest {
//			_, err = ev.Answer(ctx, "allow")
//		}
//	}
//
// A Turn takes a handler, WithPermissionHandler, that decides each request
// and answers it; Turn then returns the finished turn as usual. Without a
// handler Turn fails with a *PermissionRequiredError (errors.Is
// ErrPermissionRequired) naming the turn and its pending requests: answer
// them with AnswerPermission, then WaitTurn(ctx, index) returns the result.
// Permissions lists a session's requests by status.
//
// # Queue control and steering
//
// A turn sent with BusyEnqueue while another runs waits in the session's
// queue: Stream.Accepted and Turn.QueuePosition say where, Info.QueuedTurns
// how many wait, History(ctx, OnlyStatus(TurnQueued)) lists them, and
// CancelTurnAt cancels one (a turn that has ended fails with
// agentsession.ErrTurnEnded). BusySteer gives the prompt to the running
// turn as guidance instead: the Turn returns that turn's result, a
// TurnStream yields its events.
//
// # The session-wide stream
//
// Watch yields every event of every turn and every lifecycle event
// (package lifecycle's Change: turns queued, started and ended, status
// changes, handoffs, children) across turns until the session ends, when
// Info holds the ended session (EndReason, DurationMs). It resumes after
// a dropped connection from the last Position it yielded, each frame once.
// LifecycleEvents is its history.
//
// # Lists
//
// List, History, Events, TurnEvents, Children, LogEntries, Artifacts,
// Permissions and LifecycleEvents return iterators (iter.Seq2) that fetch pages as the loop consumes them;
// an error is yielded once and ends the loop.
//
// # Turn record
//
// With agentsession.WithTurnRecord(dir), every Turn and TurnStream is
// appended to <dir>/<session_id>.jsonl with its prompt, events, stop reason,
// duration and HTTP attempts; package record reads it back.
package sessions
