package selftest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession/conformance"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := scriptsDir(); err == nil {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// TestReferenceServerPasses runs the whole suite (full profile, two tenants,
// a restart hook) against the reference server in the self-tests'
// configuration: every check passes, none warns or is skipped, every server
// requirement of the contract passes, and the server is fully compliant.
func TestReferenceServerPasses(t *testing.T) {
	tg := startTestTarget(t, nil, false)
	var out strings.Builder
	cfg := tg.config()
	cfg.Progress = &out
	start := time.Now()
	res, err := conformance.Run(context.Background(), cfg)
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
	for _, r := range res.Requirements {
		if r.Outcome != conformance.ReqPass {
			t.Errorf("requirement %s [%s]: %s %s", r.ID, r.Level, r.Outcome, r.Reason)
		}
	}
	if !res.Passed() || res.ExitCode() != 0 || res.Compliance.Level != conformance.LevelFull || len(res.Compliance.FalseAdvertising) != 0 {
		t.Errorf("verdict %s, exit code %d, compliance %s, false advertising %v", res.Verdict, res.ExitCode(), res.Compliance.Summary(), res.Compliance.FalseAdvertising)
	}
	if n := len(res.Cleanup.Problems); n > 0 {
		t.Errorf("cleanup problems: %q", res.Cleanup.Problems)
	}
	if tg.Restarts.Load() == 0 {
		t.Errorf("the restart checks did not restart the server")
	}
	if t.Failed() {
		t.Log(out.String())
	}
}

// The core profile runs the MUST checks only, and they pass too.
func TestReferenceServerPassesCore(t *testing.T) {
	tg := startTestTarget(t, nil, false)
	cfg := tg.config()
	cfg.Profile, cfg.Token2 = conformance.ProfileCore, ""
	res, err := conformance.Run(context.Background(), cfg)
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
	// The isolation requirements are unverified, so no level is reached.
	if res.Compliance.Level != conformance.LevelNone || !strings.Contains(res.Compliance.Summary(), "unverified") {
		t.Errorf("compliance %s, want none for want of a second tenant", res.Compliance.Summary())
	}
}
