package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

// expectAll sends each request and expects a problem with status and code.
func expectAll(ctx context.Context, t *tester, reqs []request, status int, code gen.ProblemCode) error {
	for _, r := range reqs {
		resp, err := t.Do(ctx, r)
		if err != nil {
			return err
		}
		if err := resp.ExpectProblem(status, code); err != nil {
			return err
		}
	}
	return nil
}

// raw is a request with a raw body and content type.
func raw(method, p, contentType, body string) request {
	return request{Method: method, Path: p, Body: []byte(body), ContentType: contentType}
}

// oddIDs are path segments no server issues, already escaped.
func oddIDs() []string {
	return []string{
		"..%2F..%2Fetc%2Fpasswd",
		url.PathEscape("séssion-ünïcode-☃"),
		strings.Repeat("a", 10000),
		"a%20b",
		"%00",
		"%FF%FE",
		url.PathEscape("'; DROP TABLE sessions;--"),
		"%7Bsession_id%7D",
		"-",
	}
}

func badInputChecks() []*check {
	return []*check{
		def("BAD-001", Must, "createSession sendTurn endSession updateContext",
			"malformed JSON (truncated, not JSON, trailing data) answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				reqs := []request{
					raw(http.MethodPost, "/v1/sessions", "application/json", `{"agent": "echo"`),
					raw(http.MethodPost, "/v1/sessions", "application/json", `agent=echo`),
					raw(http.MethodPost, "/v1/sessions", "application/json", `{"agent":"echo"} {"agent":"echo"}`),
					raw(http.MethodPost, path("/v1/sessions/%s/turns", s.SessionID), "application/json", `{"prompt": "hi",}`),
				}
				if t.env.has(NeedLifecycle) {
					reqs = append(reqs,
						raw(http.MethodPost, path("/v1/sessions/%s/end", s.SessionID), "application/json", `not json`),
						raw(http.MethodPatch, path("/v1/sessions/%s/context", s.SessionID), "application/json", `{"a":}`))
				}
				return expectAll(ctx, t, reqs, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}),
		def("BAD-002", Must, "createSession sendTurn endSession addArtifact updateContext",
			"a body or field of the wrong JSON type answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				turns := path("/v1/sessions/%s/turns", s.SessionID)
				reqs := []request{
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": 123}},
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": t.env.echo, "meta": "not an object"}},
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: []any{"agent", t.env.echo}},
					{Method: http.MethodPost, Path: turns, JSON: map[string]any{"prompt": []string{"a"}}},
					{Method: http.MethodPost, Path: turns, JSON: map[string]any{"prompt": "x", "timeout_ms": "soon"}},
					{Method: http.MethodPost, Path: turns, JSON: map[string]any{"prompt": "x", "files": "file_1"}},
				}
				if t.env.has(NeedLifecycle) {
					reqs = append(reqs,
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", s.SessionID), JSON: map[string]any{"status": 1}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", s.SessionID), JSON: map[string]any{"path": "a", "action": "created", "metadata": []int{1}}},
						request{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", s.SessionID), JSON: []int{1, 2}})
				}
				return expectAll(ctx, t, reqs, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}),
		def("BAD-003", Must, "createSession sendTurn endSession handoffSession addLogEntry addArtifact continueSession",
			"a body without a required field (or with an empty prompt) answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				reqs := []request{
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{}},
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"meta": map[string]any{}}},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{}},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": ""}},
				}
				if t.env.has(NeedLifecycle) {
					for _, r := range []struct {
						op   string
						body map[string]any
					}{
						{"end", map[string]any{"summary": "no status"}},
						{"handoff", map[string]any{"next_steps": []string{"x"}}},
						{"log", map[string]any{"type": "info"}},
						{"artifacts", map[string]any{"path": "x"}},
						{"continue", map[string]any{"meta": map[string]any{}}},
					} {
						reqs = append(reqs, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/", s.SessionID) + r.op, JSON: r.body})
					}
				}
				return expectAll(ctx, t, reqs, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}),
		def("BAD-004", Must, "sendTurn endSession addLogEntry addArtifact listSessions",
			"an unknown enum value in a body or query answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				reqs := []request{
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "x", "busy_policy": "sometimes"}},
					{Method: http.MethodGet, Path: "/v1/sessions", Query: url.Values{"status": {"sleeping"}}},
				}
				if t.env.has(NeedLifecycle) {
					reqs = append(reqs,
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", s.SessionID), JSON: map[string]any{"status": "done"}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", s.SessionID), JSON: map[string]any{"status": "active"}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", s.SessionID), JSON: map[string]any{"type": "gossip", "message": "x"}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", s.SessionID), JSON: map[string]any{"path": "x", "action": "renamed"}},
						request{Method: http.MethodGet, Path: path("/v1/sessions/%s/log", s.SessionID), Query: url.Values{"type": {"gossip"}}})
				}
				return expectAll(ctx, t, reqs, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}),
		def("BAD-005", Must, "createSession sendTurn",
			"a JSON body over limits.max_body_bytes answers 413 payload_too_large",
			func(ctx context.Context, t *tester) error {
				limit := t.env.caps.Limits.MaxBodyBytes
				if limit < 1 || limit > 64<<20 {
					return Skipf("max_body_bytes is %d: the check sends at most 64 MiB", limit)
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				// A valid body padded to one byte over the limit.
				head := `{"agent":"` + t.env.echo + `","meta":{"pad":"`
				tail := `"}}`
				pad := int(limit) + 1 - len(head) - len(tail)
				body := head + strings.Repeat("x", pad) + tail
				curl := fmt.Sprintf(`{ printf '%%s' %s; head -c %d /dev/zero | tr '\0' x; printf '%%s' %s; }`, shellQuote(head), pad, shellQuote(tail))
				turnHead, turnTail := `{"prompt":"`, `"}`
				turnPad := int(limit) + 1 - len(turnHead) - len(turnTail)
				turnBody := turnHead + strings.Repeat("x", turnPad) + turnTail
				turnCurl := fmt.Sprintf(`{ printf '%%s' %s; head -c %d /dev/zero | tr '\0' x; printf '%%s' %s; }`, shellQuote(turnHead), turnPad, shellQuote(turnTail))
				return expectAll(ctx, t, []request{
					{Method: http.MethodPost, Path: "/v1/sessions", Body: []byte(body), ContentType: "application/json", CurlStdin: curl},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), Body: []byte(turnBody), ContentType: "application/json", CurlStdin: turnCurl},
				}, http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge)
			}),
		def("BAD-006", Must, "getSession closeSession sendTurn getFile",
			"odd path ids (encoded slashes and dots, unicode, NUL, invalid UTF-8, 10,000 characters, SQL) answer a 4xx problem, never a 5xx",
			func(ctx context.Context, t *tester) error {
				for _, id := range oddIDs() {
					reqs := []request{
						{Method: http.MethodGet, Path: "/v1/sessions/" + id},
						{Method: http.MethodDelete, Path: "/v1/sessions/" + id},
						{Method: http.MethodPost, Path: "/v1/sessions/" + id + "/turns", JSON: map[string]any{"prompt": "x"}},
					}
					if t.env.has(NeedFiles) {
						reqs = append(reqs, request{Method: http.MethodGet, Path: "/v1/files/" + id})
					}
					for _, r := range reqs {
						resp, err := t.Do(ctx, r)
						if err != nil {
							return err
						}
						if err := resp.ExpectProblemIn(http.StatusBadRequest, http.StatusNotFound); err != nil {
							return err
						}
					}
				}
				return nil
			}),
		def("BAD-007", Must, "getTurn streamTurn",
			"a turn_index that is not a positive 32-bit integer answers a 4xx problem, never a 5xx",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, idx := range []string{"0", "-1", "abc", "1.5", "99999999999999999999", "%20"} {
					for _, suffix := range []string{"", "/stream"} {
						resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns/", s.SessionID) + idx + suffix})
						if err != nil {
							return err
						}
						if err := resp.ExpectProblemIn(http.StatusBadRequest, http.StatusNotFound); err != nil {
							return err
						}
					}
				}
				return nil
			}),
		def("BAD-008", Must, "createSession getSession cancelTurn updateContext getHealth uploadFile",
			"a method the route does not have answers 405 method_not_allowed with an Allow header listing the route's methods",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, tc := range []struct {
					method, path string
					allow        []string
				}{
					{http.MethodPut, "/v1/sessions", []string{"GET", "POST"}},
					{http.MethodDelete, "/v1/health", []string{"GET"}},
					{http.MethodPatch, path("/v1/sessions/%s", s.SessionID), []string{"DELETE", "GET"}},
					{http.MethodGet, path("/v1/sessions/%s/cancel", s.SessionID), []string{"POST"}},
					{http.MethodPut, path("/v1/sessions/%s/context", s.SessionID), []string{"PATCH"}},
					{http.MethodDelete, "/v1/files", []string{"POST"}},
				} {
					resp, err := t.Do(ctx, request{Method: tc.method, Path: tc.path, As: asPrimary})
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusMethodNotAllowed, gen.ProblemCodeMethodNotAllowed); err != nil {
						return err
					}
					var got []string
					for _, v := range resp.Header.Values("Allow") {
						for _, m := range strings.Split(v, ",") {
							if m = strings.ToUpper(strings.TrimSpace(m)); m != "" && m != "HEAD" && m != "OPTIONS" {
								got = append(got, m)
							}
						}
					}
					slices.Sort(got)
					if !slices.Equal(got, tc.allow) {
						return resp.Failf("Allow %q, want the route's methods %s", resp.Header.Values("Allow"), strings.Join(tc.allow, ", "))
					}
				}
				return nil
			}),
		def("BAD-009", Must, "",
			"a route the API does not have answers 404 not_found",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var reqs []request
				for _, p := range []string{"/v1/nope", "/v2/sessions", path("/v1/sessions/%s/nope", s.SessionID), path("/v1/sessions/%s/turns/1/nope", s.SessionID)} {
					reqs = append(reqs, request{Method: http.MethodGet, Path: p})
				}
				return expectAll(ctx, t, reqs, http.StatusNotFound, gen.ProblemCodeNotFound)
			}),
		def("BAD-010", Must, "createSession sendTurn uploadFile",
			"a body in a media type the operation does not accept answers 415 unsupported_media_type",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				reqs := []request{
					raw(http.MethodPost, "/v1/sessions", "text/plain", `{"agent":"`+t.env.echo+`"}`),
					raw(http.MethodPost, path("/v1/sessions/%s/turns", s.SessionID), "application/x-www-form-urlencoded", "prompt=hi"),
				}
				if t.env.has(NeedFiles) {
					reqs = append(reqs, raw(http.MethodPost, "/v1/files", "application/json", `{"file":"x"}`))
				}
				return expectAll(ctx, t, reqs, http.StatusUnsupportedMediaType, gen.ProblemCodeUnsupportedMediaType)
			}),
		def("BAD-011", Must, "listSessions listEvents",
			"a query parameter of the wrong type or range answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				events := path("/v1/sessions/%s/events", s.SessionID)
				return expectAll(ctx, t, []request{
					{Method: http.MethodGet, Path: events, Query: url.Values{"after": {"-1"}}},
					{Method: http.MethodGet, Path: events, Query: url.Values{"after": {"soon"}}},
					{Method: http.MethodGet, Path: events, Query: url.Values{"turn_index": {"0"}}},
					{Method: http.MethodGet, Path: "/v1/sessions", Query: url.Values{"plan_slug": {strings.Repeat("p", 200)}}},
				}, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}),
		def("BAD-012", Must, "createSession",
			"an Idempotency-Key over 255 characters or with spaces answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				var reqs []request
				for _, key := range []string{strings.Repeat("k", 256), "has spaces in it"} {
					reqs = append(reqs, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": key}})
				}
				return expectAll(ctx, t, reqs, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}, NeedIdempotency),
		def("BAD-013", Should, "createSession sendTurn",
			"a validation problem lists the offending fields in errors, each with a location and a message",
			func(ctx context.Context, t *tester) error {
				resp, err := t.post(ctx, "/v1/sessions", map[string]any{"meta": map[string]any{}})
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
					return err
				}
				p, _ := resp.problem()
				if len(p.Errors) == 0 {
					return resp.Failf("the problem has no errors list")
				}
				for _, e := range p.Errors {
					if e.Location == "" || e.Message == "" {
						return resp.Failf("an errors item without location or message: %+v", e)
					}
				}
				return nil
			}),
		def("BAD-014", Must, "createSession sendTurn",
			"a missing or empty body where one is required answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				return expectAll(ctx, t, []request{
					raw(http.MethodPost, "/v1/sessions", "application/json", ""),
					raw(http.MethodPost, path("/v1/sessions/%s/turns", s.SessionID), "application/json", ""),
					raw(http.MethodPost, "/v1/sessions", "application/json", "null"),
				}, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}),
	}
}
