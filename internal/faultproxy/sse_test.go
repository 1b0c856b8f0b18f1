package faultproxy_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentsession/agentsession/internal/faultproxy"
	"github.com/agentsession/agentsession/sse"
)

// turnStream is a stream shaped like the reference server's: turn.accepted
// (no id), events 1..n with ids, keep-alive comments between them, then
// turn.completed (no id).
func turnStream(n int) []string {
	frames := []string{"event: turn.accepted\ndata: {\"turn_index\":1}\n\n"}
	for i := 1; i <= n; i++ {
		frames = append(frames, fmt.Sprintf("id: %d\ndata: {\"seq\":%d,\"type\":\"text\"}\n\n", i, i))
		if i%2 == 0 {
			frames = append(frames, ": keep-alive\n\n")
		}
	}
	return append(frames, "event: turn.completed\ndata: {\"stop_reason\":\"end_turn\"}\n\n")
}

// sseBackend writes frames, flushing after each one, or all at once.
func sseBackend(frames []string, oneWrite bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		if oneWrite {
			io.WriteString(w, strings.Join(frames, ""))
			rc.Flush()
			return
		}
		for _, f := range frames {
			io.WriteString(w, f)
			rc.Flush()
		}
	}
}

// readStream reads every frame the client gets.
func readStream(t *testing.T, url string) (ids []string, events []string, comments int, raw string, err error) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"prompt":"hi"}`))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := freshClient(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rawBuf strings.Builder
	r := sse.NewReader(io.TeeReader(resp.Body, &rawBuf))
	for {
		f, ferr := r.Next()
		if ferr != nil {
			if ferr != io.EOF {
				err = ferr
			}
			break
		}
		if f.HasID {
			ids = append(ids, f.ID)
		}
		events = append(events, f.Event)
	}
	return ids, events, r.Comments(), rawBuf.String(), err
}

func TestSSECut(t *testing.T) {
	tests := []struct {
		name     string
		oneWrite bool
		fault    faultproxy.Fault
		wantIDs  []string
		wantTail string // the raw stream ends with this
		wantErr  error
	}{
		{"after 3 events, frame by frame", false,
			faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 3},
			[]string{"1", "2", "3"}, "id: 3\ndata: {\"seq\":3,\"type\":\"text\"}\n\n", io.ErrUnexpectedEOF},
		{"after 3 events, all in one write", true,
			faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 3},
			[]string{"1", "2", "3"}, "id: 3\ndata: {\"seq\":3,\"type\":\"text\"}\n\n", io.ErrUnexpectedEOF},
		{"after 2 events the keep-alive is not sent", true,
			faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 2},
			[]string{"1", "2"}, "id: 2\ndata: {\"seq\":2,\"type\":\"text\"}\n\n", io.ErrUnexpectedEOF},
		{"mid-frame: the 4th event without its blank line", true,
			faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 3, MidFrame: true},
			[]string{"1", "2", "3"}, "id: 4\ndata: {\"seq\":4,\"type\":\"text\"}\n", io.ErrUnexpectedEOF},
		{"mid-frame after the last event: turn.completed is cut", false,
			faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 5, MidFrame: true},
			[]string{"1", "2", "3", "4", "5"}, "event: turn.completed\ndata: {\"stop_reason\":\"end_turn\"}\n", io.ErrUnexpectedEOF},
		{"with a reset", false,
			faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 1, RST: true},
			[]string{"1"}, "", syscall.ECONNRESET},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := startBackend(t, sseBackend(turnStream(5), tt.oneWrite))
			fp := faultproxy.Start(t, b.URL, rule(tt.fault))
			ids, _, _, raw, err := readStream(t, fp.URL+"/v1/sessions/s/turns")
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids %v, want %v", ids, tt.wantIDs)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("stream error %v, want %v", err, tt.wantErr)
			}
			if !strings.HasSuffix(raw, tt.wantTail) {
				t.Errorf("the stream ends %q, want %q", raw[max(0, len(raw)-80):], tt.wantTail)
			}
			if st := fp.Proxy.Stats(); st.FaultsByKind[faultproxy.KindSSECut] != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestSSEShorterThanTheCut: a stream with fewer events than after_events
// passes whole, keep-alives included, and the fault counts as skipped.
func TestSSEShorterThanTheCut(t *testing.T) {
	b := startBackend(t, sseBackend(turnStream(4), false))
	fp := faultproxy.Start(t, b.URL, rule(faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 5}))
	ids, events, comments, _, err := readStream(t, fp.URL+"/v1/sessions/s/turns")
	if err != nil || len(ids) != 4 || events[len(events)-1] != "turn.completed" || comments != 2 {
		t.Errorf("ids %v, events %v, %d comments, %v", ids, events, comments, err)
	}
	if st := fp.Proxy.Stats(); st.Faults != 0 || st.Rules[0].Skipped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestStreamIsNotBuffered: the backend sends the next frame only once the
// client has read the previous one through the proxy, so a proxy that held
// frames back would hang here. Keep-alive comments come through too.
func TestStreamIsNotBuffered(t *testing.T) {
	received := make(chan struct{})
	b := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(w, ": keep-alive\n\nid: %d\ndata: {}\n\n", i)
			rc.Flush()
			select {
			case <-received:
			case <-time.After(5 * time.Second):
				t.Errorf("the client did not get frame %d: the proxy buffers", i)
				return
			}
		}
	})
	fp := faultproxy.Start(t, b.URL, faultproxy.Config{})
	req, _ := http.NewRequest("GET", fp.URL+"/v1/sessions/s/turns/1/stream", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body)
	for i := 1; i <= 3; i++ {
		f, err := r.Next()
		if err != nil || f.ID != fmt.Sprint(i) {
			t.Fatalf("frame %d: %+v %v", i, f, err)
		}
		if r.Comments() != i {
			t.Errorf("%d keep-alive comments, want %d", r.Comments(), i)
		}
		received <- struct{}{}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}
