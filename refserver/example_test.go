package refserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
)

// Serve the API with an in-memory store and send one echo turn.
func Example() {
	srv, err := refserver.New(refserver.Config{Tokens: []string{"dev-token"}})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	call := func(method, path, body string, out any) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer dev-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	var sess gen.Session
	call("POST", "/v1/sessions", `{"agent":"echo"}`, &sess)
	var turn gen.TurnResult
	call("POST", "/v1/sessions/"+sess.SessionID+"/turns", `{"prompt":"Hello, agent."}`, &turn)
	fmt.Println(turn.TurnIndex, turn.StopReason, turn.Events[0].Content)
	// Output: 1 end_turn Hello, agent.
}
