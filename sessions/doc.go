// Package sessions drives multi-turn agent sessions: create and find them,
// send turns and stream their events, cancel, close, read the history,
// spawn child sessions and upload files.
//
//	c, err := agentsession.NewClient() // AGENTSESSION_BASE_URL, AGENTSESSION_TOKEN
//	svc := sessions.New(c)
//	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo"})
//	res, err := s.Turn(ctx, "Summarise the open pull requests.")
//	fmt.Println(res.Text())
//	err = s.Close(ctx)
//
// # Sessions and turns
//
// A *Session is a handle on one session. Turn sends a prompt and returns
// the finished *TurnResult: its events, stop reason, timings, and Text, the
// concatenated text events. Turn options attach files (WithFiles), ask the
// server to stop the turn after a while (WithTimeout), choose the busy
// policy (WithBusyPolicy) or fix the idempotency key (WithIdempotencyKey).
// Turns on one session run one at a time, in order, even when goroutines
// share the handle; turns on different sessions never wait for each other.
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
// List, History, Events and Children return iterators (iter.Seq2) that
// fetch pages as the loop consumes them; an error is yielded once and ends
// the loop.
//
// # Turn record
//
// With agentsession.WithTurnRecord(dir), every Turn and TurnStream is
// appended to <dir>/<session_id>.jsonl with its prompt, events, stop reason,
// duration and HTTP attempts; package record reads it back.
package sessions
