package sessions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
)

// pointerOrBytes finds what %+v prints for a pointer or a []byte.
var pointerOrBytes = regexp.MustCompile(`0x[0-9a-f]{6,}|:\[[0-9]+ [0-9]+ [0-9]+`)

// Results print as values: no pointer addresses, no byte lists; durations
// and usage read as Go.
func TestResultsPrintAsValues(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "scripted")
	ctx := context.Background()
	res, err := s.Turn(ctx, `{"steps":[{"delay_ms":20,"event":{"type":"text","content":"x"}}],"usage":{"input_tokens":3,"output_tokens":0}}`)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.GetTurn(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"TurnResult": res, "Turn": tr, "Info": s.Info(), "Event": res.Events[0]} {
		if out := fmt.Sprintf("%+v", v); pointerOrBytes.MatchString(out) {
			t.Errorf("%%+v of a %s shows pointers or bytes: %s", name, out)
		}
	}
	want := sessions.Usage{InputTokens: 3, OutputTokens: 0, Reported: true}
	if res.Usage != want || tr.Usage != want {
		t.Errorf("usage %+v / %+v, want %+v (a reported 0 kept)", res.Usage, tr.Usage, want)
	}
	if res.Duration < 20*time.Millisecond || tr.Duration != res.Duration {
		t.Errorf("durations %v / %v, want the turn's (>= 20ms, equal)", res.Duration, tr.Duration)
	}
	if !strings.Contains(fmt.Sprintf("%+v", res), "Duration:") || !strings.HasPrefix(res.Events[0].String(), "{") {
		t.Errorf("%+v", res)
	}
	if echo, err := s.Turn(ctx, script(0, "no usage")); err != nil || echo.Usage.Reported {
		t.Errorf("a turn without usage = %+v, %v", echo, err)
	}
}

// Every member of the contract's TurnResult and Turn reaches the SDK's
// types: a fully populated answer leaves no SDK field zero.
func TestTurnTypesCarryEveryMember(t *testing.T) {
	event := `{"seq":7,"turn_index":2,"type":"text","content":"hi","created_at":"2026-01-01T00:00:01Z"}`
	summary := `"session_id":"s1","turn_index":2,"stop_reason":"cancelled","cancelled_by":"timeout","duration_ms":1500,` +
		`"event_count":1,"first_seq":7,"last_seq":7,"started_at":"2026-01-01T00:00:01Z","ended_at":"2026-01-01T00:00:02Z",` +
		`"usage":{"input_tokens":5,"output_tokens":6},"meta":{"ticket":"OPS-42"},"events":[` + event + `]`
	turn := `{` + summary + `,"prompt":"p","files":["file_1"],"busy_policy":"enqueue","status":"completed","created_at":"2026-01-01T00:00:00Z","queue_position":2}`
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{`+summary+`}`)
	})
	mux.HandleFunc("GET /v1/sessions/s1/turns/2", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, turn)
	})
	// The contract's models, decoded from the same JSON, set every member.
	var gr gen.TurnResult
	var gt gen.Turn
	if err := json.Unmarshal([]byte(`{`+summary+`}`), &gr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(turn), &gt); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{gr, gt} {
		if zero := zeroFields(v); len(zero) > 0 {
			t.Fatalf("the fixture leaves %T members unset: %v", v, zero)
		}
	}
	s := sessions.New(c).Session("s1")
	res, err := s.Turn(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.GetTurn(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if zero := zeroFields(*res); len(zero) > 0 {
		t.Errorf("TurnResult fields left zero: %v", zero)
	}
	if zero := zeroFields(*tr); len(zero) > 0 {
		t.Errorf("Turn fields left zero: %v", zero)
	}
	if n := reflect.TypeOf(*tr).NumField(); n != reflect.TypeOf(gt).NumField() {
		t.Errorf("sessions.Turn has %d fields, gen.Turn %d: a member was added or lost", n, reflect.TypeOf(gt).NumField())
	}
	if n := reflect.TypeOf(*res).NumField() - 1; n != reflect.TypeOf(gr).NumField() { // - Response
		t.Errorf("sessions.TurnResult has %d contract fields, gen.TurnResult %d", n, reflect.TypeOf(gr).NumField())
	}
	if res.Duration != 1500*time.Millisecond || res.Usage.OutputTokens != 6 || tr.Events[0].Seq != 7 {
		t.Errorf("converted values: %+v / %+v", res, tr)
	}
}

func zeroFields(v any) []string {
	rv := reflect.ValueOf(v)
	var zero []string
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			zero = append(zero, rv.Type().Field(i).Name)
		}
	}
	return zero
}

// A server that breaks the contract with events that carry no seq (and no
// SSE id): each one is yielded once, resumes back off, and the stream ends
// with ErrStreamLost at the resume bound, saying why.
func TestStreamWithoutSeqsEndsAtTheResumeBound(t *testing.T) {
	c, mux := sdktest.Setup(t)
	var conns atomic.Int32
	var mu sync.Mutex
	var times []time.Time
	serve := func(accepted bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			conns.Add(1)
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			if accepted {
				fmt.Fprint(w, "event: turn.accepted\ndata: {\"session_id\":\"s1\",\"turn_index\":1,\"status\":\"running\"}\n\n")
			}
			// Two events without seq or id, then the connection ends.
			fmt.Fprint(w, "data: {\"turn_index\":1,\"type\":\"text\",\"content\":\"one\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n\n")
			fmt.Fprint(w, "data: {\"turn_index\":1,\"type\":\"text\",\"content\":\"two\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n\n")
		}
	}
	mux.HandleFunc("POST /v1/sessions/s1/turns", serve(true))
	mux.HandleFunc("GET /v1/sessions/s1/turns/1/stream", serve(false))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := sessions.New(c).Session("s1").TurnStream(ctx, "x", sessions.WithMaxResumes(2))
	var got []string
	var last error
	for ev, err := range st.Events() {
		if err != nil {
			last = err
			break
		}
		got = append(got, ev.Text())
	}
	if strings.Join(got, ",") != "one,two" || conns.Load() != 3 || st.Resumes() != 2 {
		t.Errorf("yielded %v over %d connections (%d resumes), want one,two once over 3", got, conns.Load(), st.Resumes())
	}
	if !errors.Is(last, sessions.ErrStreamLost) || !strings.Contains(last.Error(), "carry no seq") || ctx.Err() != nil {
		t.Errorf("err = %v, want ErrStreamLost saying the events carry no seq", last)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) == 3 && times[2].Sub(times[1]) < 90*time.Millisecond {
		t.Errorf("the second resume came %v after the first: resumes without progress must back off", times[2].Sub(times[1]))
	}
}

// TurnResult and Turn marshal back to the contract's JSON: what the server
// sent, member for member (the scenario runners report it so).
func TestTurnTypesMarshalAsTheContract(t *testing.T) {
	event := `{"content":"hi","created_at":"2026-01-01T00:00:01Z","seq":7,"turn_index":2,"type":"text","x_future":1}`
	summary := `"cancelled_by":"timeout","duration_ms":1500,"ended_at":"2026-01-01T00:00:02Z","event_count":1,"first_seq":7,` +
		`"last_seq":7,"session_id":"s1","started_at":"2026-01-01T00:00:01Z","stop_reason":"cancelled","turn_index":2,` +
		`"usage":{"input_tokens":5,"output_tokens":0}`
	result := `{` + summary + `,"events":[` + event + `]}`
	ended := `{"busy_policy":"enqueue","created_at":"2026-01-01T00:00:00Z",` + summary + `,"events":[` + event + `],"files":["f1"],"prompt":"p","status":"completed"}`
	running := `{"busy_policy":"reject","created_at":"2026-01-01T00:00:00Z","event_count":0,"prompt":"p","session_id":"s1","started_at":"2026-01-01T00:00:01Z","status":"running","turn_index":3}`
	c, mux := sdktest.Setup(t)
	answer := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("POST /v1/sessions/s1/turns", answer(result))
	mux.HandleFunc("GET /v1/sessions/s1/turns/2", answer(ended))
	mux.HandleFunc("GET /v1/sessions/s1/turns/3", answer(running))
	s := sessions.New(c).Session("s1")
	ctx := context.Background()
	res, err := s.Turn(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	t2, err := s.GetTurn(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	t3, err := s.GetTurn(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{{"TurnResult", res, result}, {"ended Turn", t2, ended}, {"running Turn", t3, running}} {
		got, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if canon(t, got) != canon(t, []byte(tt.want)) {
			t.Errorf("%s marshals as\n%s\nwant\n%s", tt.name, canon(t, got), canon(t, []byte(tt.want)))
		}
	}
}

// canon re-encodes JSON with sorted members.
func canon(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
