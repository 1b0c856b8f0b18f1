package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

// A session id no server issued; any tenant gets 404 (or 401 without a token).
const unknownSessionID = "sess_conformance_does_not_exist"

// protectedRequests are operations that need a token, one per kind.
func protectedRequests(sessionID string) []request {
	return []request{
		{Method: http.MethodGet, Path: "/v1/capabilities"},
		{Method: http.MethodGet, Path: "/v1/sessions"},
		{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": "echo"}},
		{Method: http.MethodGet, Path: path("/v1/sessions/%s", sessionID)},
		{Method: http.MethodDelete, Path: path("/v1/sessions/%s", sessionID)},
		{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", sessionID), JSON: map[string]any{"prompt": "hello"}},
		{Method: http.MethodGet, Path: path("/v1/sessions/%s/events", sessionID)},
	}
}

// expect401 sends each request with the given authorization and expects a
// 401 unauthorized problem.
func expect401(ctx context.Context, t *tester, reqs []request, as tenant, authorization string) error {
	for _, r := range reqs {
		r.As, r.Authorization = as, authorization
		resp, err := t.Do(ctx, r)
		if err != nil {
			return err
		}
		if err := resp.ExpectProblem(http.StatusUnauthorized, gen.ProblemCodeUnauthorized); err != nil {
			return err
		}
	}
	return nil
}

func authChecks() []*check {
	return []*check{
		def("AUTH-001", Must, "getHealth",
			"getHealth answers 200 with a Health document without a token",
			func(ctx context.Context, t *tester) error {
				resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: "/v1/health", As: asAnonymous})
				if err != nil {
					return err
				}
				h, err := expectJSON[gen.Health](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if h.Status != gen.HealthStatusOk {
					return resp.Failf("status %q, want ok", h.Status)
				}
				return nil
			}).traces("REQ-SVC-001"),
		def("AUTH-002", Must, "getCapabilities listSessions createSession getSession closeSession sendTurn listEvents",
			"a request without a token answers 401 with an unauthorized problem",
			func(ctx context.Context, t *tester) error {
				return expect401(ctx, t, protectedRequests(unknownSessionID), asAnonymous, "")
			}).traces("REQ-AUTH-001"),
		def("AUTH-003", Must, "getCapabilities listSessions createSession getSession closeSession sendTurn listEvents",
			"a request with an unknown bearer token answers 401 with an unauthorized problem",
			func(ctx context.Context, t *tester) error {
				return expect401(ctx, t, protectedRequests(unknownSessionID), asRaw, "Bearer conformance-unknown-token-0000")
			}).traces("REQ-AUTH-001"),
		def("AUTH-004", Must, "getCapabilities listSessions",
			"a malformed Authorization header (another scheme, an empty bearer, the token with junk) answers 401",
			func(ctx context.Context, t *tester) error {
				reqs := protectedRequests(unknownSessionID)[:2]
				for _, auth := range []string{
					"Basic Y29uZm9ybWFuY2U6c2VjcmV0",
					"Bearer",
					"Bearer ",
					"Token " + t.c.cfg.Token,
					"Bearer " + t.c.cfg.Token + "x",
				} {
					if err := expect401(ctx, t, reqs, asRaw, auth); err != nil {
						return err
					}
				}
				return nil
			}).traces("REQ-AUTH-001"),
		def("AUTH-005", Must, "getCapabilities listSessions createSession getSession",
			"a 401 answer carries WWW-Authenticate: Bearer, whatever made the token wrong",
			func(ctx context.Context, t *tester) error {
				for _, r := range protectedRequests(unknownSessionID)[:4] {
					for _, auth := range []string{"", "Bearer conformance-unknown-token-0000", "Basic Y29uZm9ybWFuY2U6c2VjcmV0"} {
						r.As, r.Authorization = asRaw, auth
						resp, err := t.Do(ctx, r)
						if err != nil {
							return err
						}
						if err := resp.Expect(http.StatusUnauthorized); err != nil {
							return err
						}
						if err := expectBearerChallenge(resp); err != nil {
							return err
						}
					}
				}
				return nil
			}).traces("REQ-AUTH-002"),
		def("AUTH-006", Must, "getSession listTurns closeSession",
			"without a token an existing session answers 401, never its data, and is not closed",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, r := range []request{
					{Method: http.MethodGet, Path: path("/v1/sessions/%s", s.SessionID)},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns", s.SessionID)},
					{Method: http.MethodDelete, Path: path("/v1/sessions/%s", s.SessionID)},
				} {
					if err := expect401(ctx, t, []request{r}, asAnonymous, ""); err != nil {
						return err
					}
				}
				_, err = t.expectStatus(ctx, s.SessionID, gen.SessionStatusActive)
				return err
			}).traces("REQ-AUTH-001"),
		def("AUTH-007", Must, "getHealth",
			"getHealth ignores the Authorization header: with an unknown token, an empty bearer or another scheme it still answers 200 ok",
			func(ctx context.Context, t *tester) error {
				for _, auth := range []string{"Bearer conformance-unknown-token-0000", "Bearer", "Basic Y29uZm9ybWFuY2U6c2VjcmV0", "garbage"} {
					resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: "/v1/health", As: asRaw, Authorization: auth})
					if err != nil {
						return err
					}
					h, err := expectJSON[gen.Health](resp, http.StatusOK)
					if err != nil {
						return fmt.Errorf("with Authorization %q: %w", auth, err)
					}
					if h.Status != gen.HealthStatusOk {
						return resp.Failf("status %q with Authorization %q, want ok", h.Status, auth)
					}
				}
				return nil
			}).traces("REQ-SVC-001"),
	}
}

// expectBearerChallenge fails unless a 401 names the Bearer scheme in
// WWW-Authenticate (auth-scheme names are case-insensitive).
func expectBearerChallenge(resp *response) error {
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(h), " ")
		if strings.EqualFold(strings.TrimSuffix(scheme, ","), "bearer") {
			return nil
		}
	}
	return resp.Failf("status 401 with WWW-Authenticate %q, want Bearer", resp.Header.Values("WWW-Authenticate"))
}
