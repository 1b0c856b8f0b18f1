package refservertest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/refservertest"
)

func TestStartServesTwoTenants(t *testing.T) {
	srv := refservertest.Start(t)
	if len(srv.Tokens) != 2 || srv.Tokens[0] == srv.Tokens[1] {
		t.Fatalf("Tokens = %q, want two different tokens", srv.Tokens)
	}
	for _, tok := range srv.Tokens {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/capabilities", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var caps gen.Capabilities
		err = json.NewDecoder(resp.Body).Decode(&caps)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("capabilities: status %d, err %v", resp.StatusCode, err)
		}
		kinds := map[string]gen.AgentKind{}
		for _, a := range caps.Agents {
			kinds[a.Name] = a.Kind
		}
		if kinds["echo"] != gen.AgentKindEcho || kinds["scripted"] != gen.AgentKindScripted {
			t.Errorf("agents = %v, want echo (echo) and scripted (scripted)", kinds)
		}
	}
}
