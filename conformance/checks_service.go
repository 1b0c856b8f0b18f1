package conformance

import (
	"context"
	"net/http"
	"slices"

	"github.com/agentsession/agentsession/gen"
)

func serviceChecks() []*check {
	return []*check{
		def("SVC-001", Must, "getCapabilities",
			"getCapabilities answers 200 with the agents (an echo agent among them), the features and consistent limits",
			func(ctx context.Context, t *tester) error {
				resp, err := t.get(ctx, "/v1/capabilities", nil)
				if err != nil {
					return err
				}
				caps, err := expectJSON[gen.Capabilities](resp, http.StatusOK)
				if err != nil {
					return err
				}
				// The suite's echo agent is of kind echo, or a model agent
				// configured to play it (preflight allows no other kind).
				found := false
				for _, a := range caps.Agents {
					found = found || (a.Name == t.env.echo && (a.Kind == gen.AgentKindEcho || a.Kind == gen.AgentKindModel))
				}
				if !found {
					return resp.Failf("no agent %q of kind echo in agents", t.env.echo)
				}
				l := caps.Limits
				switch {
				case l.DefaultPageSize < 1 || l.DefaultPageSize > l.MaxPageSize:
					return resp.Failf("limits: default_page_size %d must be between 1 and max_page_size %d", l.DefaultPageSize, l.MaxPageSize)
				case l.MaxPageSize > 100:
					return resp.Failf("limits: max_page_size %d is over the contract's limit maximum of 100", l.MaxPageSize)
				case l.MaxBodyBytes < 1024:
					return resp.Failf("limits: max_body_bytes %d is too small to hold a request", l.MaxBodyBytes)
				case l.MaxTurnTimeoutMs < 1:
					return resp.Failf("limits: max_turn_timeout_ms %d must be positive", l.MaxTurnTimeoutMs)
				case caps.APIVersion != "v1":
					return resp.Failf("api_version %q, want v1: the major version of the paths", caps.APIVersion)
				}
				return nil
			}).traces("REQ-CAP-001", "REQ-CAP-003", "REQ-CAP-005"),
		def("SVC-002", Must, "getCapabilities",
			"features.busy_policies lists reject, the default busy policy",
			func(ctx context.Context, t *tester) error {
				resp, err := t.get(ctx, "/v1/capabilities", nil)
				if err != nil {
					return err
				}
				caps, err := expectJSON[gen.Capabilities](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if !slices.Contains(caps.Features.BusyPolicies, gen.BusyPolicyReject) {
					return resp.Failf("busy_policies %v does not list reject", caps.Features.BusyPolicies)
				}
				return nil
			}).traces("REQ-CAP-004"),
		def("SVC-003", Must, "getCapabilities createSession",
			"every agent getCapabilities lists can be used: createSession with its name answers 201 with a session of that agent",
			func(ctx context.Context, t *tester) error {
				if len(t.env.caps.Agents) > maxAgentsTried {
					t.Logf("the server lists %d agents; the check tries the first %d", len(t.env.caps.Agents), maxAgentsTried)
				}
				for i, a := range t.env.caps.Agents {
					if i == maxAgentsTried {
						break
					}
					s, err := t.create(ctx, t.sessionBody(a.Name), asPrimary)
					if err != nil {
						return err
					}
					if s.Agent != a.Name {
						return Failf("createSession with agent %q: the session's agent is %q", a.Name, s.Agent)
					}
				}
				return nil
			}).traces("REQ-CAP-002"),
	}
}

// maxAgentsTried bounds the sessions SVC-003 creates.
const maxAgentsTried = 20
