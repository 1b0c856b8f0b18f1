package record_test

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/agentsession/agentsession/record"
)

func ExampleRead() {
	dir, _ := os.MkdirTemp("", "turns")
	defer os.RemoveAll(dir)

	// The SDK appends a line per turn (agentsession.WithTurnRecord).
	r, _ := record.New(dir)
	_ = r.Append(&record.Turn{
		SessionID: "sess_1", TurnIndex: 1, Prompt: "Hello", StartedAt: time.Now(), DurationMs: 12.5,
		StopReason: "end_turn",
		Events:     []json.RawMessage{json.RawMessage(`{"seq":1,"type":"text","content":"Hello"}`)},
		Attempts: []record.Attempt{
			{Number: 1, Method: "POST", URL: "http://localhost:8080/v1/sessions/sess_1/turns", Status: 503, DurationMs: 1, WaitMs: 250},
			{Number: 2, Method: "POST", URL: "http://localhost:8080/v1/sessions/sess_1/turns", Status: 200, DurationMs: 11},
		},
	})

	turns, err := record.Read(dir, "sess_1")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range turns {
		fmt.Printf("turn %d %q: %s, %d events, %d attempts\n", t.TurnIndex, t.Prompt, t.StopReason, len(t.Events), len(t.Attempts))
	}
	// Output: turn 1 "Hello": end_turn, 1 events, 2 attempts
}
