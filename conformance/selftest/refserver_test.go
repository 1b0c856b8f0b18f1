package selftest

import (
	"context"
	"os"
	"testing"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/refserver/refservertest"
)

func TestReferenceServerPasses(t *testing.T) {
	srv := refservertest.Start(t)
	res, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: srv.URL, Token: srv.Tokens[0], Token2: srv.Tokens[1], Progress: os.Stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Problems() {
		t.Errorf("%s %s: %s", c.ID, c.Outcome, c.Message)
	}
}
