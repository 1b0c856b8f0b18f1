package agentsession_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/refserver/refservertest"
)

func TestIntegrationServiceAndGenClient(t *testing.T) {
	srv := refservertest.Start(t)
	ctx := context.Background()

	// Health needs no token.
	anon, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	if h, err := anon.Health(ctx); err != nil || h.Status != "ok" {
		t.Errorf("Health = %+v, %v", h, err)
	}
	if _, err := anon.Capabilities(ctx); !errors.Is(err, agentsession.ErrAuth) {
		t.Errorf("Capabilities without a token = %v, want ErrAuth", err)
	}

	c, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken(srv.Tokens[0]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	agents := map[string]bool{}
	for _, a := range caps.Agents {
		agents[a.Name] = true
	}
	if !agents["echo"] || !agents["scripted"] || !caps.Features.Streaming || caps.Limits.MaxPageSize != 100 {
		t.Errorf("Capabilities = %+v", caps)
	}

	// The generated client shares auth, keys and retries.
	created, err := c.Gen().CreateSessionWithResponse(ctx, nil, gen.CreateSessionRequest{Agent: "echo"})
	if err != nil || created.JSON201 == nil {
		t.Fatalf("generated CreateSession = %v, %v", created, err)
	}
	got, err := c.Gen().GetSessionWithResponse(ctx, created.JSON201.SessionID)
	if err != nil || got.JSON200 == nil || got.JSON200.Agent != "echo" {
		t.Errorf("generated GetSession = %+v, %v", got, err)
	}

	// Client.Do with a generated request builder.
	req, _ := gen.NewGetSessionRequest(c.BaseURL(), "sess_nope")
	if _, err := c.Do(ctx, req, &gen.Session{}); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("Do of a missing session = %v, want ErrNotFound", err)
	}
}
