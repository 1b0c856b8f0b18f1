package selftest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/refserver/refservertest"
)

// TestReferenceServerPasses runs the whole suite (full profile, two tenants)
// against the reference server: every check must pass. The reference server
// declares every optional feature, so nothing may be skipped either.
func TestReferenceServerPasses(t *testing.T) {
	srv := refservertest.Start(t)
	var out strings.Builder
	start := time.Now()
	res, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: srv.URL, Token: srv.Tokens[0], Token2: srv.Tokens[1], Progress: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d checks in %s", len(res.Checks), time.Since(start).Round(time.Millisecond))
	if len(res.Checks) != len(conformance.Catalogue()) {
		t.Errorf("%d checks ran, the catalogue has %d", len(res.Checks), len(conformance.Catalogue()))
	}
	for _, c := range res.Checks {
		if c.Outcome != conformance.Pass {
			t.Errorf("%s [%s] %s: %s", c.ID, c.Level, c.Outcome, c.Message)
		}
	}
	if !res.Passed() || res.ExitCode() != 0 {
		t.Errorf("verdict %s, exit code %d", res.Verdict, res.ExitCode())
	}
	if n := len(res.Cleanup.Problems); n > 0 {
		t.Errorf("cleanup problems: %q", res.Cleanup.Problems)
	}
	// Every check named by the defect table exists (and so passed above).
	for _, d := range defects {
		for _, id := range d.caughtBy {
			if _, ok := res.Check(id); !ok {
				t.Errorf("defect %q names unknown check %s", d.name, id)
			}
		}
	}
	if t.Failed() {
		t.Log(out.String())
	}
}

// The core profile runs the MUST checks only, and they pass too.
func TestReferenceServerPassesCore(t *testing.T) {
	srv := refservertest.Start(t)
	res, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: srv.URL, Token: srv.Tokens[0], Profile: conformance.ProfileCore,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if c.Level != conformance.Must {
			t.Errorf("core profile ran %s (%s)", c.ID, c.Level)
		}
		// Without a second token the isolation checks are skipped; all else passes.
		want := conformance.Pass
		if strings.HasPrefix(c.ID, "ISO-") {
			want = conformance.Skip
		}
		if c.Outcome != want {
			t.Errorf("%s: %s (%s), want %s", c.ID, c.Outcome, c.Message, want)
		}
	}
}
