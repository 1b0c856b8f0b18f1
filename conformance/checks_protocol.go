package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
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
			}).traces("REQ-RID-001"),
		def("PROTO-002", Must, "getHealth createSession listSessions getSession closeSession sendTurn",
			"a valid X-Request-Id sent by the client is echoed on the answer and is the request_id of a problem",
			func(ctx context.Context, t *tester) error {
				short := "cf-req." + t.env.prefix + "_42"
				// The longest valid id: 128 characters.
				long := short + strings.Repeat("x", 128-len(short))
				for _, id := range []string{short, long} {
					resps, err := someOfEverything(ctx, t, map[string]string{"X-Request-Id": id})
					if err != nil {
						return err
					}
					for _, r := range resps {
						if got := r.Header.Get("X-Request-Id"); got != id {
							return r.Failf("status %d: X-Request-Id %q, want the client's %q (%d characters)", r.Status, got, id, len(id))
						}
						if p, ok := r.problem(); ok && p.RequestID != id {
							return r.Failf("problem request_id %q, want the client's %q", p.RequestID, id)
						}
					}
				}
				return nil
			}).traces("REQ-RID-002", "REQ-RID-004"),
		def("PROTO-003", Must, "getHealth getSession",
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
			}).traces("REQ-RID-003"),
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
			}).traces("REQ-RID-001"),
		def("PROTO-005", Must, "",
			"every error the suite received during the run was a problem document with a code, whose status is the HTTP status",
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
						int(p.Status) != ex.Status || p.Code == "" {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were errors without a matching problem document", bad, len(all))
			}).traces("REQ-ERR-001", "REQ-ERR-019"),
		def("PROTO-006", Should, "",
			"no request of the run made the server fail with a 5xx",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if ex.Status >= 500 {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were 5xx", bad, len(all))
			}).traces("REQ-ERR-016"),
	}
	post = append(post,
		def("PROTO-007", Must, "",
			"every problem document the suite received during the run had the response's X-Request-Id as its request_id",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if p, ok := problemOf(ex); ok && p.RequestID != ex.header.Get("X-Request-Id") {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were problems whose request_id is not the X-Request-Id", bad, len(all))
			}).traces("REQ-RID-004"),
		def("PROTO-008", Must, "",
			"every 429 the suite received during the run was a rate_limited problem with a Retry-After of whole seconds",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if ex.Status != http.StatusTooManyRequests {
						continue
					}
					p, ok := problemOf(ex)
					n, err := strconv.Atoi(strings.TrimSpace(ex.header.Get("Retry-After")))
					if !ok || p.Code != gen.ProblemCodeRateLimited || err != nil || n < 0 {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were 429s without rate_limited and a Retry-After of seconds", bad, len(all))
			}).traces("REQ-RATE-002"),
		def("PROTO-009", Must, "",
			"every problem document the suite received during the run that has an instance names the request's path in it",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					p, ok := problemOf(ex)
					if !ok || p.Instance == "" {
						continue
					}
					unescaped, _ := url.PathUnescape(ex.path)
					if !instanceNames(p.Instance, ex.path) && !instanceNames(p.Instance, unescaped) {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were problems whose instance is not the request's path", bad, len(all))
			}).traces("REQ-ERR-020"),
		def("PROTO-010", Must, "",
			"every problem document the suite received during the run had an absolute URI as its type, one type per code",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				typeOf := map[gen.ProblemCode]string{}
				var bad []*Exchange
				for _, ex := range all {
					p, ok := problemOf(ex)
					if !ok {
						continue
					}
					u, err := url.Parse(p.Type)
					if err != nil || !u.IsAbs() {
						bad = append(bad, ex)
						continue
					}
					if prev, seen := typeOf[p.Code]; seen && prev != p.Type {
						bad = append(bad, ex)
						continue
					}
					typeOf[p.Code] = p.Type
				}
				return postRunReport("were problems whose type is not an absolute URI, or not the type of their code", bad, len(all))
			}).traces("REQ-ERR-018"),
		def("PROTO-011", Must, "",
			"every 401 the suite received during the run carried WWW-Authenticate: Bearer",
			func(ctx context.Context, t *tester) error {
				if _, err := someOfEverything(ctx, t, nil); err != nil {
					return err
				}
				all := t.c.exchanges()
				var bad []*Exchange
				for _, ex := range all {
					if ex.Status != http.StatusUnauthorized {
						continue
					}
					ok := false
					for _, h := range ex.header.Values("WWW-Authenticate") {
						scheme, _, _ := strings.Cut(strings.TrimSpace(h), " ")
						ok = ok || strings.EqualFold(strings.TrimSuffix(scheme, ","), "bearer")
					}
					if !ok {
						bad = append(bad, ex)
					}
				}
				return postRunReport("were 401s without WWW-Authenticate: Bearer", bad, len(all))
			}).traces("REQ-AUTH-002"),
	)
	for _, c := range post {
		c.post = true
	}
	return append(checks, post...)
}

// problemOf decodes an exchange's problem document, when it is one.
func problemOf(ex *Exchange) (gen.Problem, bool) {
	var p gen.Problem
	if ex.Status < 400 || json.Unmarshal(ex.problem, &p) != nil {
		return p, false
	}
	if mt, _, _ := mime.ParseMediaType(ex.header.Get("Content-Type")); mt != "application/problem+json" {
		return p, false
	}
	return p, true
}

// instanceNames reports whether a problem's instance is path as the contract
// allows it: the whole path, or, for a path longer than 1024 bytes, its first
// 1024 bytes (a server may stop earlier at a character boundary) followed by "...".
func instanceNames(instance, path string) bool {
	if instance == path {
		return true
	}
	head, cut := strings.CutSuffix(instance, "...")
	return cut && len(path) > 1024 && len(head) <= 1024 && len(head) > 1020 && strings.HasPrefix(path, head)
}
