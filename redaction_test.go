package agentsession_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/sessions"
)

// A server (or a proxy) that echoes the token in a problem's code and
// request_id and in X-Request-Id: the token reaches neither the error, nor
// the WithLogger output, nor the turn record, nor the values a caller reads.
func TestTokenRedactedFromEveryEcho(t *testing.T) {
	tok := sdktest.Token
	var logs bytes.Buffer
	dir := t.TempDir()
	c, mux := sdktest.Setup(t, agentsession.WithTurnRecord(dir),
		agentsession.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	echo := func(w http.ResponseWriter, status int) {
		w.Header().Set("X-Request-Id", "req-"+tok)
		w.Header().Set("X-Echo", "Bearer "+tok)
		if status >= 300 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"type":"https://x/%[1]s","title":"t %[1]s","status":%[2]d,"code":"%[1]s","request_id":"%[1]s",`+
				`"detail":"d %[1]s","instance":"/%[1]s","errors":[{"location":"body.%[1]s","message":"m %[1]s"}]}`, tok, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"session_id":"s1","turn_index":1,"stop_reason":"end_turn","duration_ms":1,"event_count":0,`+
			`"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:00Z","events":[]}`)
	}
	fail := true
	mux.HandleFunc("POST /v1/sessions/{id}/turns", func(w http.ResponseWriter, r *http.Request) {
		if fail {
			echo(w, 409)
			return
		}
		echo(w, 200)
	})
	mux.HandleFunc("GET /v1/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		// No problem body: the request id only in the header.
		w.Header().Set("X-Request-Id", tok)
		w.WriteHeader(404)
	})
	s := sessions.New(c).Session("s1")
	_, err := s.Turn(context.Background(), "hi")
	var ae *agentsession.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 409 {
		t.Fatalf("err = %v", err)
	}
	fail = false
	res, err := s.Turn(context.Background(), "hi")
	if err != nil {
		t.Fatal(err)
	}
	_, getErr := s.Refresh(context.Background())
	var ae404 *agentsession.APIError
	if !errors.As(getErr, &ae404) {
		t.Fatalf("Refresh = %v", getErr)
	}

	record, err := os.ReadFile(filepath.Join(dir, "s1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{
		"Error()": err409(ae) + getErr.Error(), "APIError values": fmt.Sprintf("%+v %+v", *ae, *ae404),
		"the log": logs.String(), "the turn record": string(record),
		"the successful Response": fmt.Sprintf("%+v", res.Response),
	} {
		if strings.Contains(text, tok) {
			t.Errorf("the token is in %s: %s", what, text)
		}
	}
	if string(ae.Code) != "[REDACTED]" || ae.RequestID != "req-[REDACTED]" || res.Response.RequestID != "req-[REDACTED]" || ae404.RequestID != "[REDACTED]" {
		t.Errorf("code %q, request ids %q %q %q: want the token replaced", ae.Code, ae.RequestID, res.Response.RequestID, ae404.RequestID)
	}
	if !strings.Contains(logs.String(), "request_id=req-[REDACTED]") {
		t.Errorf("the log lacks the redacted request id:\n%s", logs.String())
	}
}

func err409(ae *agentsession.APIError) string { return ae.Error() }
