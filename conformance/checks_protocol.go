package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

// someOfEverything sends one request of each kind of answer: 200, 201, 400,
// 401, 404 (route and resource), 405, 409 and, when streaming, an event stream.
func someOfEverything(ctx context.Context, t *tester, header map[string]string) ([]*response, error) {
	s, err := t.echoSession(ctx)
	if err != nil {
		return nil, err
	}
	reqs := []request{
		{Method: http.MethodGet, Path: "/v1/health", As: asAnonymous},
		{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo)},
		{Method: http.MethodPost, Path: "/v1/sessions", JSON: map[string]any{}},
		{Method: http.MethodGet, Path: "/v1/sessions", As: asAnonymous},
		{Method: http.MethodGet, Path: "/v1/nope"},
		{Method: http.MethodGet, Path: path("/v1/sessions/%s", unknownSessionID)},
		{Method: http.MethodPut, Path: "/v1/sessions"},
		{Method: http.MethodDelete, Path: path("/v1/sessions/%s", s.SessionID)},
		{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "x"}},
	}
	var out []*response
	for _, r := range reqs {
		r.Header = header
		resp, err := t.Do(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, resp)
	}
	if t.env.has(NeedStreaming) {
		s2, err := t.echoSession(ctx)
		if err != nil {
			return nil, err
		}
		st, err := t.Stream(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s2.SessionID), JSON: map[string]any{"prompt": "x"}, Header: header})
		if err != nil {
			return nil, err
		}
		if st.Live() {
			_, _ = readStream(st, nil)
		}
		out = append(out, st.response)
	}
	return out, nil
}

// postRunReport fails with the first offending exchanges of the whole run.
func postRunReport(what string, bad []*Exchange, total int) error {
	if len(bad) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of the run's %d responses %s; the first ones:", len(bad), total, what)
	for i, ex := range bad {
		if i == 10 {
			break
		}
		fmt.Fprintf(&b, "\n  [%s] %s %s → %d", ex.check, ex.Method, ex.URL, ex.Status)
	}
	return &failure{msg: b.String(), ex: bad[0]}
}

func protocolChecks() []*check {
	checks := []*check{
		def("PROTO-001", Must, "getHealth createSession listSessions getSession closeSession sendTurn",
			"every kind of answer (2xx, 4xx, 405, unknown route, event stream) carries an X-Request-Id header",
			func(ctx context.Context, t *tester) error {
				resps, err := someOfEverything(ctx, t, nil)
				if err != nil {
					return err
				}
				for _, r := range resps {
					if r.Header.Get("X-Request-Id") == "" {
						return r.Failf("status %d without an X-Request-Id header", r.Status)
					}
				}
				return nil
			}),
		def("PROTO-002", Must, "getHealth createSession listSessions getSession closeSession sendTurn",
			"a valid X-Request-Id sent by the client is echoed on the answer and is the request_id of a problem",
			func(ctx context.Context, t *tester) error {
				id := "cf-req." + t.env.prefix + "_42"
				resps, err := someOfEverything(ctx, t, map[string]string{"X-Request-Id": id})
				if err != nil {
					return err
				}
				for _, r := range resps {
					if got := r.Header.Get("X-Request-Id"); got != id {
						return r.Failf("status %d: X-Request-Id %q, want the client's %q", r.Status, got, id)
					}
					if p, ok := r.problem(); ok && p.RequestID != id {
						return r.Failf("problem request_id %q, want the client's %q", p.RequestID, id)
					}
				}
				return nil
			}),
		def("PROTO-003", Should, "getHealth getSession",
			"an invalid client X-Request-Id (too long, or characters outside A-Z a-z 0-9 . _ -) is replaced by one the server makes up",
			func(ctx context.Context, t *tester) error {
				for _, id := range []string{strings.Repeat("r", 129), "has spaces", "semi;colon", "<script>"} {
					for _, r := range []request{
						{Method: http.MethodGet, Path: "/v1/health", As: asAnonymous},
						{Method: http.MethodGet, Path: path("/v1/sessions/%s", unknownSessionID)},
					} {
						r.Header = map[string]string{"X-Request-Id": id}
						resp, err := t.Do(ctx, r)
						if err != nil {
							return err
						}
						got := resp.Header.Get("X-Request-Id")
						if got == "" || got == id {
							return resp.Failf("X-Request-Id %q for the invalid client value %q, want a new id", got, id)
						}
					}
				}
				return nil
			}),
	}
	post := []*check{
		def("PROTO-004", Must, "",
			"every response the suite received during the run carried an X-Request-Id header",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if ex.Status != 0 && ex.header.Get("X-Request-Id") == "" {
						bad = append(bad, ex)
					}
				}
				return postRunReport("had no X-Request-Id", bad, len(all))
			}),
		def("PROTO-005", Must, "",
			"every error the suite received during the run was a problem document whose status is the HTTP status and whose request_id is the X-Request-Id",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if ex.Status < 400 {
						continue
					}
					var p gen.Problem
					mt, _, _ := mime.ParseMediaType(ex.header.Get("Content-Type"))
					if mt != "application/problem+json" || json.Unmarshal(ex.problem, &p) != nil ||
						int(p.Status) != ex.Status || p.Code == "" || p.RequestID != ex.header.Get("X-Request-Id") {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were errors without a matching problem document", bad, len(all))
			}),
		def("PROTO-006", Should, "",
			"no request of the run made the server fail with a 5xx",
			func(ctx context.Context, t *tester) error {
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if ex.Status >= 500 {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were 5xx", bad, len(all))
			}),
	}
	for _, c := range post {
		c.post = true
	}
	return append(checks, post...)
}
