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
			}).traces("REQ-ERR-003"),
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
			}).traces("REQ-ERR-004"),
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
			}).traces("REQ-ERR-005"),
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
			}).traces("REQ-ERR-006"),
		def("BAD-005", Must, "createSession sendTurn",
			"a JSON body of exactly limits.max_body_bytes is accepted; one byte more answers 413 payload_too_large",
			func(ctx context.Context, t *tester) error {
				limit := t.env.caps.Limits.MaxBodyBytes
				if limit < 1 || limit > 64<<20 {
					return Skipf("max_body_bytes is %d: the check sends at most 64 MiB", limit)
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				// Valid bodies padded to exactly the limit (accepted) and to
				// one byte over it (refused).
				padded := func(p, head, tail string, size int) request {
					pad := size - len(head) - len(tail)
					curl := fmt.Sprintf(`{ printf '%%s' %s; head -c %d /dev/zero | tr '\0' x; printf '%%s' %s; }`, shellQuote(head), pad, shellQuote(tail))
					return request{Method: http.MethodPost, Path: p, Body: []byte(head + strings.Repeat("x", pad) + tail), ContentType: "application/json", CurlStdin: curl}
				}
				session := func(size int) request {
					return padded("/v1/sessions", `{"agent":"`+t.env.echo+`","plan_slug":"`+t.plan()+`","meta":{"pad":"`, `"}}`, size)
				}
				turn := func(size int) request {
					return padded(path("/v1/sessions/%s/turns", s.SessionID), `{"prompt":"`, `"}`, size)
				}
				for _, r := range []request{session(int(limit)), turn(int(limit))} {
					resp, err := t.Do(ctx, r)
					if err != nil {
						return err
					}
					if err := resp.Expect(http.StatusCreated, http.StatusOK); err != nil {
						return fmt.Errorf("a body of exactly max_body_bytes (%d): %w", limit, err)
					}
				}
				return expectAll(ctx, t, []request{session(int(limit) + 1), turn(int(limit) + 1)}, http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge)
			}).traces("REQ-CAP-006"),
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
			}).traces("REQ-ERR-011", "REQ-ERR-007"),
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
			}).traces("REQ-ERR-007", "REQ-ERR-011"),
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
			}).traces("REQ-ERR-013"),
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
			}).traces("REQ-ERR-012"),
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
			}).traces("REQ-ERR-014"),
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
			}).traces("REQ-ERR-007", "REQ-EVT-003"),
		def("BAD-012", Must, "createSession",
			"an Idempotency-Key of 255 characters from ! to ~ is accepted; one of 256 characters or with spaces answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				for _, key := range []string{t.key("") + strings.Repeat("k", 255-len(t.key(""))), "!" + t.key("printable") + "~"} {
					resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": key}})
					if err != nil {
						return err
					}
					if err := resp.Expect(http.StatusCreated); err != nil {
						return fmt.Errorf("an Idempotency-Key of %d characters from ! to ~: %w", len(key), err)
					}
				}
				var reqs []request
				for _, key := range []string{strings.Repeat("k", 256), "has spaces in it"} {
					reqs = append(reqs, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": key}})
				}
				return expectAll(ctx, t, reqs, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}, NeedIdempotency).traces("REQ-IDEM-010"),
		def("BAD-013", Must, "createSession sendTurn",
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
			}).traces("REQ-ERR-002"),
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
			}).traces("REQ-ERR-003"),
		def("BAD-015", Must, "createSession listSessions sendTurn listEvents endSession handoffSession addLogEntry addArtifact",
			"a value exactly at a documented bound is accepted: 128-character agent and plan_slug, timeout_ms 1, after 999999999999999, 32 files, 65536-character summaries and messages, 100 next steps and blockers, a 4096-character artifact path",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				plan128 := boundedPlan(t, 128)
				cases := []statusCase{
					// A well-formed name of no agent: the bound is met, the agent is unknown.
					{request{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": strings.Repeat("a", 128), "meta": t.meta()}}, http.StatusUnprocessableEntity},
					{request{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": t.env.echo, "plan_slug": plan128, "meta": t.meta()}}, http.StatusCreated},
					{request{Method: http.MethodGet, Path: "/v1/sessions", Query: url.Values{"agent": {strings.Repeat("a", 128)}, "plan_slug": {plan128}}}, http.StatusOK},
					{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "a 1 ms timeout", "timeout_ms": 1}}, http.StatusOK},
					{request{Method: http.MethodGet, Path: path("/v1/sessions/%s/events", s.SessionID), Query: url.Values{"after": {"999999999999999"}}}, http.StatusOK},
					{request{Method: http.MethodGet, Path: path("/v1/sessions/%s/events", s.SessionID), Query: url.Values{"after": {"0"}}}, http.StatusOK},
				}
				if t.env.has(NeedFiles) {
					f, _, err := t.upload(ctx, testFile("bound.txt"), asPrimary)
					if err != nil {
						return err
					}
					cases = append(cases, statusCase{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "32 files", "files": repeatString(f.FileToken, 32)}}, http.StatusOK})
				}
				if t.env.has(NeedLifecycle) {
					long := strings.Repeat("s", 65536)
					hand := map[string]any{"summary": long, "next_steps": repeatString("step", 100), "blockers": repeatString("blocker", 100)}
					cases = append(cases,
						statusCase{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", s.SessionID), JSON: map[string]any{"type": "info", "message": long}}, http.StatusCreated},
						statusCase{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", s.SessionID), JSON: map[string]any{"path": strings.Repeat("p", 4096), "action": "created"}}, http.StatusCreated},
						statusCase{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", s.SessionID), JSON: hand}, http.StatusOK},
						statusCase{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", s.SessionID), JSON: map[string]any{"status": "completed", "summary": long}}, http.StatusOK})
				}
				for _, c := range cases {
					resp, err := t.Do(ctx, c.r)
					if err != nil {
						return err
					}
					if err := resp.Expect(c.status); err != nil {
						return fmt.Errorf("a value exactly at its bound: %w", err)
					}
				}
				return nil
			}).traces("REQ-ERR-008"),
		def("BAD-016", Must, "createSession listSessions sendTurn listEvents endSession handoffSession addLogEntry addArtifact continueSession",
			"a value one past a documented bound answers 400 invalid_request: 129-character agent and plan_slug, timeout_ms 0, after 10^15, 33 files, 65537-character summaries and messages, 101 next steps or blockers, a 4097-character artifact path",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				plan129 := boundedPlan(t, 129)
				reqs := []request{
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": strings.Repeat("a", 129), "meta": t.meta()}},
					{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": t.env.echo, "plan_slug": plan129, "meta": t.meta()}},
					{Method: http.MethodGet, Path: "/v1/sessions", Query: url.Values{"agent": {strings.Repeat("a", 129)}}},
					{Method: http.MethodGet, Path: "/v1/sessions", Query: url.Values{"plan_slug": {plan129}}},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "no time at all", "timeout_ms": 0}},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/events", s.SessionID), Query: url.Values{"after": {"1000000000000000"}}},
				}
				if t.env.has(NeedFiles) {
					f, _, err := t.upload(ctx, testFile("over-bound.txt"), asPrimary)
					if err != nil {
						return err
					}
					reqs = append(reqs, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "33 files", "files": repeatString(f.FileToken, 33)}})
				}
				if t.env.has(NeedLifecycle) {
					long := strings.Repeat("s", 65537)
					id := s.SessionID
					reqs = append(reqs,
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", id), JSON: map[string]any{"type": "info", "message": long}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", id), JSON: map[string]any{"path": strings.Repeat("p", 4097), "action": "created"}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: map[string]any{"summary": long}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: map[string]any{"summary": "ok", "next_steps": repeatString("step", 101)}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: map[string]any{"summary": "ok", "blockers": repeatString("blocker", 101)}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", id), JSON: map[string]any{"status": "completed", "summary": long}},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/continue", id), JSON: map[string]any{"agent": t.env.echo, "plan_slug": plan129}})
				}
				for _, r := range reqs {
					resp, err := t.Do(ctx, r)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
						return fmt.Errorf("a value one past its bound: %w", err)
					}
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("listSessions?plan_slug=%s: %d sessions; a refused request must create none", t.plan(), len(list))
				}
				return nil
			}).traces("REQ-ERR-009"),
		def("BAD-017", Must, "createSession sendTurn listSessions getTurn",
			"a field error's location names the field: body.agent, body.meta, body.files.0, body (malformed JSON), query.limit, header.Idempotency-Key, path.turn_index",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				cases := []locationCase{
					{request{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"meta": t.meta()}}, "body.agent"},
					{request{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{"agent": t.env.echo, "meta": "not an object"}}, "body.meta"},
					{request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "x", "files": []string{""}}}, "body.files.0"},
					{raw(http.MethodPost, "/v1/sessions", "application/json", `{"agent":`), "body"},
					{request{Method: http.MethodGet, Path: "/v1/sessions", Query: url.Values{"limit": {"0"}}}, "query.limit"},
				}
				if t.env.has(NeedIdempotency) {
					cases = append(cases, locationCase{request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": "has spaces"}}, "header.Idempotency-Key"})
				}
				for _, c := range cases {
					resp, err := t.Do(ctx, c.r)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
						return err
					}
					if err := expectLocation(resp, c.location); err != nil {
						return err
					}
				}
				// A path parameter: a server may answer 404 (no such turn) rather than 400.
				resp, err := t.get(ctx, path("/v1/sessions/%s/turns/", s.SessionID)+"abc", nil)
				if err != nil {
					return err
				}
				if resp.Status == http.StatusBadRequest {
					return expectLocation(resp, "path.turn_index")
				}
				return nil
			}).traces("REQ-ERR-021"),
		def("BAD-018", Must, "createSession sendTurn addLogEntry updateContext",
			"a JSON body's media type is matched case-insensitively and without parameters: application/json; charset=utf-8 and Application/JSON are accepted",
			func(ctx context.Context, t *tester) error {
				body := string(mustJSON(t.sessionBody(t.env.echo)))
				var id string
				for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"} {
					resp, err := t.Do(ctx, raw(http.MethodPost, "/v1/sessions", ct, body))
					if err != nil {
						return err
					}
					s, err := expectJSON[gen.Session](resp, http.StatusCreated)
					if err != nil {
						return fmt.Errorf("Content-Type %q: %w", ct, err)
					}
					id = s.SessionID
				}
				reqs := []statusCase{{raw(http.MethodPost, path("/v1/sessions/%s/turns", id), "application/json; charset=utf-8", `{"prompt":"with a charset"}`), http.StatusOK}}
				if t.env.has(NeedLifecycle) {
					reqs = append(reqs,
						statusCase{raw(http.MethodPost, path("/v1/sessions/%s/log", id), "application/json; charset=utf-8", `{"type":"info","message":"with a charset"}`), http.StatusCreated},
						statusCase{raw(http.MethodPatch, path("/v1/sessions/%s/context", id), "APPLICATION/JSON", `{"charset":"ignored"}`), http.StatusOK})
				}
				for _, c := range reqs {
					resp, err := t.Do(ctx, c.r)
					if err != nil {
						return err
					}
					if err := resp.Expect(c.status); err != nil {
						return fmt.Errorf("Content-Type %q: %w", c.r.ContentType, err)
					}
				}
				return nil
			}).traces("REQ-ERR-015"),
	}
}

// statusCase is a request and the status it must answer.
type statusCase struct {
	r      request
	status int
}

// locationCase is a bad request and the location its field error names.
type locationCase struct {
	r        request
	location string
}

// boundedPlan is a plan_slug of exactly n characters that starts with the
// check's plan (so the run's cleanup and filters still find it).
func boundedPlan(t *tester, n int) string {
	p := t.plan("bound")
	return p + strings.Repeat("x", n-len(p))
}

func repeatString(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// expectLocation fails unless the problem lists a field error at location.
func expectLocation(resp *response, location string) error {
	p, _ := resp.problem()
	var got []string
	for _, e := range p.Errors {
		if e.Location == location {
			return nil
		}
		got = append(got, e.Location)
	}
	return resp.Failf("the field errors' locations are %q, want %q among them", got, location)
}
