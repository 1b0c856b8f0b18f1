package refserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/sse"
)

// eventsOf decodes the event frames of a stream.
func eventsOf(t *testing.T, frames []sse.Frame) []gen.Event {
	t.Helper()
	var out []gen.Event
	for _, f := range frames {
		if f.Event == "" {
			var ev gen.Event
			if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
	}
	return out
}

func summaryOf(t *testing.T, f sse.Frame) gen.TurnSummary {
	t.Helper()
	if f.Event != "turn.completed" {
		t.Fatalf("last frame is %q, want turn.completed", f.Event)
	}
	var s gen.TurnSummary
	if err := json.Unmarshal([]byte(f.Data), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// allEvents reads a turn's events from the event log.
func (c *client) allEvents(id string, turn int) []gen.Event {
	c.t.Helper()
	var list gen.EventList
	c.do("GET", fmt.Sprintf("/v1/sessions/%s/events?turn_index=%d&limit=100", id, turn), nil).want(c.t, 200).decode(c.t, &list)
	return list.Items
}

func TestStreamFraming(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.KeepAlive = 20 * time.Millisecond })
	id := c.newSession("scripted")
	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "earlier"))}) // seq 1 belongs to turn 1
	resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns",
		map[string]any{"prompt": script("", text(0, "a"), text(120*time.Millisecond, "b"), text(120*time.Millisecond, "c"))})
	defer resp.Body.Close()
	frames, comments := readFrames(t, resp.Body)
	if len(frames) != 5 {
		t.Fatalf("%d frames, want accepted + 3 events + completed: %+v", len(frames), frames)
	}
	var acc gen.TurnAccepted
	if frames[0].Event != "turn.accepted" || json.Unmarshal([]byte(frames[0].Data), &acc) != nil ||
		!cmp.Equal(acc, gen.TurnAccepted{SessionID: id, TurnIndex: 2, Status: gen.TurnStatusRunning}) {
		t.Fatalf("first frame = %+v", frames[0])
	}
	events := eventsOf(t, frames)
	for i, ev := range events {
		if ev.Seq != int64(i+2) || ev.TurnIndex != 2 || ev.Content != string(rune('a'+i)) || frames[i+1].ID != strconv.Itoa(i+2) {
			t.Errorf("event frame %d = %+v", i, frames[i+1])
		}
	}
	sum := summaryOf(t, frames[4])
	if sum.StopReason != gen.StopReasonEndTurn || sum.EventCount != 3 || sum.FirstSeq != 2 || sum.LastSeq != 4 || sum.TurnIndex != 2 {
		t.Errorf("summary = %+v", sum)
	}
	if comments < 2 {
		t.Errorf("%d keep-alive comments during 240 ms with a 20 ms keep-alive", comments)
	}
	if diff := cmp.Diff(c.allEvents(id, 2), events); diff != "" {
		t.Errorf("streamed events differ from the log (-log +stream):\n%s", diff)
	}
}

func TestStreamResume(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	prompt := script("", text(0, "1"), text(0, "2"), text(150*time.Millisecond, "3"), text(150*time.Millisecond, "4"), text(0, "5"))

	// Read the first two events, then drop the connection.
	ctx, cut := context.WithCancel(context.Background())
	resp := c.stream(ctx, "POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": prompt})
	rd := sse.NewReader(resp.Body)
	var got []gen.Event
	for len(got) < 2 {
		f, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		checkFrame(t, f)
		got = append(got, eventsOf(t, []sse.Frame{f})...)
	}
	cut()
	resp.Body.Close()

	// Resume while the turn still runs; Last-Event-ID wins over ?after=.
	resp = c.stream(context.Background(), "GET", "/v1/sessions/"+id+"/turns/1/stream?after=0", nil,
		header{"Last-Event-ID", strconv.FormatInt(got[1].Seq, 10)})
	frames, _ := readFrames(t, resp.Body)
	resp.Body.Close()
	if frames[0].Event == "turn.accepted" {
		t.Errorf("streamTurn sent turn.accepted")
	}
	got = append(got, eventsOf(t, frames)...)
	if sum := summaryOf(t, frames[len(frames)-1]); sum.EventCount != 5 {
		t.Errorf("summary = %+v", sum)
	}
	if diff := cmp.Diff(c.allEvents(id, 1), got); diff != "" {
		t.Fatalf("resumed stream lost or repeated events (-log +got):\n%s", diff)
	}

	// After the turn ended: every event after the cursor, then the summary.
	tests := []struct {
		name  string
		query string
		hdrs  []header
		first int64 // the first seq expected; 0 for none
	}{
		{"from the start", "", nil, 1},
		{"after=3", "?after=3", nil, 4},
		{"Last-Event-ID 4", "", []header{{"Last-Event-ID", "4"}}, 5},
		{"header wins", "?after=1", []header{{"Last-Event-ID", "3"}}, 4},
		{"after the last", "?after=5", nil, 0},
		{"beyond the last", "?after=500", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.stream(context.Background(), "GET", "/v1/sessions/"+id+"/turns/1/stream"+tt.query, nil, tt.hdrs...)
			frames, _ := readFrames(t, resp.Body)
			resp.Body.Close()
			events := eventsOf(t, frames)
			summaryOf(t, frames[len(frames)-1])
			if tt.first == 0 {
				if len(events) != 0 {
					t.Errorf("events %+v, want none", events)
				}
				return
			}
			if len(events) != int(6-tt.first) || events[0].Seq != tt.first {
				t.Errorf("events %+v, want %d..5", events, tt.first)
			}
		})
	}
	c.do("GET", "/v1/sessions/"+id+"/turns/2/stream", nil, header{"Accept", "text/event-stream"}).want(t, 404, gen.ProblemCodeNotFound)
	c.do("GET", "/v1/sessions/sess_nope/turns/1/stream", nil, header{"Accept", "text/event-stream"}).want(t, 404, gen.ProblemCodeNotFound)
}

func TestStreamQueuedTurn(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.KeepAlive = 20 * time.Millisecond })
	id := c.newSession("scripted")
	first := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", wait(200*time.Millisecond))})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns",
		map[string]any{"prompt": script("", text(0, "after the wait")), "busy_policy": "enqueue"})
	frames, comments := readFrames(t, resp.Body)
	resp.Body.Close()
	var acc gen.TurnAccepted
	_ = json.Unmarshal([]byte(frames[0].Data), &acc)
	if acc.Status != gen.TurnStatusQueued || acc.TurnIndex != 2 {
		t.Errorf("accepted = %+v, want turn 2 queued", acc)
	}
	if events := eventsOf(t, frames); len(events) != 1 || events[0].Content != "after the wait" {
		t.Errorf("events = %+v", events)
	}
	if comments == 0 {
		t.Errorf("no keep-alive while queued")
	}
	result(t, first).want(t, 200)
}

func TestSendTurnReplayResumesTheStream(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	body := map[string]any{"prompt": script("", text(0, "1"), text(100*time.Millisecond, "2"), text(0, "3"))}
	key := header{"Idempotency-Key", "turn-key-1"}
	resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns", body, key)
	frames, _ := readFrames(t, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the first answer says it is replayed")
	}
	first := eventsOf(t, frames)

	resp = c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns", body, key, header{"Last-Event-ID", "1"})
	frames, _ = readFrames(t, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed = %q", resp.Header.Get("Idempotent-Replayed"))
	}
	if frames[0].Event != "turn.accepted" {
		t.Errorf("first frame %q", frames[0].Event)
	}
	if diff := cmp.Diff(first[1:], eventsOf(t, frames)); diff != "" {
		t.Errorf("replayed stream (-want +got):\n%s", diff)
	}
	if s := c.getSession(id); s.TurnCount != 1 {
		t.Errorf("turn_count %d: the replay started a turn", s.TurnCount)
	}
	// The same key as JSON answers the turn's result.
	var r gen.TurnResult
	c.do("POST", "/v1/sessions/"+id+"/turns", body, key).want(t, 200).decode(t, &r)
	if diff := cmp.Diff(first, r.Events); diff != "" {
		t.Errorf("JSON replay events (-stream +json):\n%s", diff)
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	srv, c := start(t)
	id := c.newSession("scripted")
	resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": slow})
	defer resp.Body.Close()
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	queued := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": slow, "busy_policy": "enqueue"})
	c.waitTurn(id, 2, gen.TurnStatusQueued)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	frames, _ := readFrames(t, resp.Body)
	events := eventsOf(t, frames)
	last := events[len(events)-1]
	sum := summaryOf(t, frames[len(frames)-1])
	if sum.StopReason != gen.StopReasonError || last.Type != gen.EventTypeError || sum.LastSeq != last.Seq {
		t.Errorf("after shutdown: last event %+v, summary %+v", last, sum)
	}
	var r gen.TurnResult
	result(t, queued).want(t, 200).decode(t, &r)
	if r.StopReason != gen.StopReasonError || r.Events[len(r.Events)-1].Type != gen.EventTypeError {
		t.Errorf("queued turn after shutdown = %+v", r)
	}
	// A turn sent now ends at once the same way.
	if r := c.sendTurn(c.newSession("echo"), gen.TurnRequest{Prompt: "late"}); r.StopReason != gen.StopReasonError {
		t.Errorf("turn after shutdown = %+v", r)
	}
	_ = http.StatusOK
}

// TestResumeBounds checks the resume points at the contract's bounds:
// Last-Event-ID is 1 to 15 digits and after at most 999999999999999. Every
// value the schema accepts is served (a point beyond the last seq just means
// nothing was missed); one digit more is 400 invalid_request.
func TestResumeBounds(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "one"), text(0, "two"))}) // seq 1 and 2
	stream := "/v1/sessions/" + id + "/turns/1/stream"
	const max15, over = "999999999999999", "1000000000000000"

	accepted := []struct {
		name  string
		query string
		hdrs  []header
		first int64 // the first seq expected; 0 for none
	}{
		{"Last-Event-ID of 15 digits", "", []header{{"Last-Event-ID", max15}}, 0},
		{"Last-Event-ID of 15 digits with leading zeros", "", []header{{"Last-Event-ID", "000000000000001"}}, 2},
		{"after at its maximum", "?after=" + max15, nil, 0},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.stream(context.Background(), "GET", stream+tt.query, nil, tt.hdrs...)
			frames, _ := readFrames(t, resp.Body)
			resp.Body.Close()
			events := eventsOf(t, frames)
			if sum := summaryOf(t, frames[len(frames)-1]); sum.TurnIndex != 1 {
				t.Errorf("summary = %+v", sum)
			}
			switch {
			case tt.first == 0 && len(events) != 0:
				t.Errorf("events %+v, want none", events)
			case tt.first != 0 && (len(events) == 0 || events[0].Seq != tt.first):
				t.Errorf("events %+v, want from seq %d", events, tt.first)
			}
		})
	}

	// A running turn resumed beyond its last seq sends only its end.
	running := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns",
		map[string]any{"prompt": script("", wait(300*time.Millisecond), text(0, "late"))})
	c.waitTurn(id, 2, gen.TurnStatusRunning)
	resp := c.stream(context.Background(), "GET", "/v1/sessions/"+id+"/turns/2/stream", nil, header{"Last-Event-ID", max15})
	frames, _ := readFrames(t, resp.Body)
	resp.Body.Close()
	if events := eventsOf(t, frames); len(events) != 0 {
		t.Errorf("live stream beyond the last seq sent %+v", events)
	}
	summaryOf(t, frames[len(frames)-1])
	readFrames(t, running.Body)
	running.Body.Close()

	var list gen.EventList
	c.do("GET", "/v1/sessions/"+id+"/events?after="+max15, nil).want(t, 200).decode(t, &list)
	if len(list.Items) != 0 || list.NextCursor != "" {
		t.Errorf("events after %s = %+v", max15, list)
	}
	// sendTurn takes Last-Event-ID too (it resumes an idempotent replay).
	resp = c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns",
		map[string]any{"prompt": script("", text(0, "x"))}, header{"Last-Event-ID", max15})
	frames, _ = readFrames(t, resp.Body)
	resp.Body.Close()
	if frames[0].Event != "turn.accepted" {
		t.Errorf("sendTurn with Last-Event-ID %s: first frame %+v", max15, frames[0])
	}

	refused := []struct {
		name, method, path string
		hdrs               []header
		location           string
	}{
		{"Last-Event-ID of 16 digits", "GET", stream, []header{{"Last-Event-ID", over}}, "header.Last-Event-ID"},
		{"sendTurn Last-Event-ID of 16 digits", "POST", "/v1/sessions/" + id + "/turns", []header{{"Last-Event-ID", over}}, "header.Last-Event-ID"},
		{"after over its maximum", "GET", stream + "?after=" + over, nil, "query.after"},
		{"events after over its maximum", "GET", "/v1/sessions/" + id + "/events?after=" + over, nil, "query.after"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			var b any
			if tt.method == "POST" {
				b = map[string]any{"prompt": "p"}
			}
			r := c.do(tt.method, tt.path, b, append([]header{{"Accept", "text/event-stream"}}, tt.hdrs...)...).
				want(t, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Location != tt.location {
				t.Errorf("errors %s, want the first at %s", r.Body, tt.location)
			}
		})
	}
	if n := c.getSession(id).TurnCount; n != 3 {
		t.Errorf("turn count %d, want 3: a refused sendTurn made a turn", n)
	}
}
