package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// The checks of contract 1.2's hardening: what a server does with a body
// that does not arrive (a 401 before it, a 408 after its time bound) and
// with JSON that is not valid UTF-8.

// rawExchange sends a request's head and the first bytes of its body over a
// connection of its own, then waits up to wait for the answer. Go's client
// would not send a body shorter than its Content-Length, so the request is
// written by hand. The exchange is recorded like any other.
type rawResult struct {
	resp   *response
	closed bool // the server closed the connection after its answer
	took   time.Duration
}

func (t *tester) rawExchange(ctx context.Context, method, p, authorization string, contentLength int, sent []byte, wait time.Duration) (rawResult, error) {
	u, err := url.Parse(t.c.cfg.BaseURL + p)
	if err != nil {
		return rawResult{}, err
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host += ":443"
		} else {
			host += ":80"
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	var conn net.Conn
	if u.Scheme == "https" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: u.Hostname()}}).DialContext(ctx, "tcp", host)
	} else {
		conn, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return rawResult{}, fmt.Errorf("dial %s: %w", host, err)
	}
	defer conn.Close()
	ex := &Exchange{Method: method, URL: t.c.redact(u.String()), path: u.EscapedPath(), check: t.chk.ID}
	ex.Curl = fmt.Sprintf("# a raw request: its head, then %d of its %d body bytes, then nothing\nprintf '%s %s HTTP/1.1\\r\\nHost: %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n%s\\r\\n%s' | nc %s",
		len(sent), contentLength, method, u.RequestURI(), u.Host, contentLength, t.c.redact(curlAuth(strings.ReplaceAll(authorization, "Bearer "+t.c.cfg.Token, "Bearer $AGENTSESSION_TOKEN"))), strings.ReplaceAll(string(sent), "'", ""), strings.ReplaceAll(host, ":", " "))
	ex.RequestBody = excerpt(sent, maxRequestShown)
	t.add(ex)
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nUser-Agent: agentsession-conformance/%s\r\n", method, u.RequestURI(), u.Host, contentLength, SpecVersion())
	if authorization != "" {
		fmt.Fprintf(&head, "Authorization: %s\r\n", authorization)
	}
	head.WriteString("\r\n")
	start := time.Now()
	_ = conn.SetDeadline(start.Add(wait))
	if _, err := conn.Write(append([]byte(head.String()), sent...)); err != nil {
		return rawResult{}, fmt.Errorf("write the request: %w", err)
	}
	br := bufio.NewReader(conn)
	hr, err := http.ReadResponse(br, nil)
	took := time.Since(start)
	ex.DurationMS = took.Milliseconds()
	if err != nil {
		ex.Error = rawError(err, wait)
		t.c.record(ex)
		return rawResult{took: took}, &failure{msg: fmt.Sprintf("%s %s with %d of %d body bytes: %s", method, p, len(sent), contentLength, ex.Error), ex: ex}
	}
	body, _ := io.ReadAll(io.LimitReader(hr.Body, maxProblemKept))
	_ = hr.Body.Close()
	ex.Status, ex.header = hr.StatusCode, hr.Header.Clone()
	ex.RequestID = hr.Header.Get("X-Request-Id")
	ex.ResponseHeaders = map[string]string{"Content-Type": hr.Header.Get("Content-Type")}
	ex.ResponseExcerpt, ex.ResponseBytes = t.c.redact(excerpt(body, maxExcerpt)), len(body)
	if hr.StatusCode >= 400 {
		ex.problem = body
		ex.Violations = t.c.redactAll(t.c.v.validateProblem(hr.Header, body))
	}
	t.c.record(ex)
	out := rawResult{resp: &response{Status: hr.StatusCode, Header: hr.Header, Body: body, Ex: ex}, took: took}
	// After its answer, does the server close the connection? A read that
	// ends (rather than times out) within a second says it did.
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	out.closed = err != nil && !(errors.As(err, &ne) && ne.Timeout())
	return out, nil
}

// rawError describes why a raw exchange got no answer.
func rawError(err error, wait time.Duration) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no answer within %s", wait)
	}
	return err.Error()
}

// curlAuth renders an Authorization header line for the report without the
// tokens the run uses.
func curlAuth(a string) string {
	if a == "" {
		return ""
	}
	return "Authorization: " + strings.ReplaceAll(a, "'", "") + "\\r\\n"
}

// maxBodyTimeoutWaited bounds the body read timeout PROTO-012 waits for.
const maxBodyTimeoutWaited = 5 * time.Second

// invalidUTF8 are request bodies with a string or member name that is not
// UTF-8, and where the error must point.
var invalidUTF8 = []struct {
	what, body, location string
}{
	{"a raw 0xff byte in the prompt", "{\"prompt\":\"a\xffb\"}", "body.prompt"},
	{"a lone surrogate escape in the prompt", `{"prompt":"a\ud800b"}`, "body.prompt"},
	{"a truncated UTF-8 sequence in meta.user", "{\"prompt\":\"x\",\"meta\":{\"user\":\"caf\xc3\"}}", "body.meta.user"},
	{"a lone low surrogate in meta.user", `{"prompt":"x","meta":{"user":"\udc00"}}`, "body.meta.user"},
	{"an overlong encoding in a member name of meta", "{\"prompt\":\"x\",\"meta\":{\"\xc0\xafuser\":\"v\"}}", "body.meta"},
}

func hardeningChecks() []*check {
	return []*check{
		def("AUTH-008", Must, "createSession sendTurn",
			"a request with a wrong or missing token is answered 401 at once, without the server waiting for the body its Content-Length announces",
			func(ctx context.Context, t *tester) error {
				for _, c := range []struct{ what, path, auth string }{
					{"no token", "/v1/sessions", ""},
					{"an unknown token", "/v1/sessions", "Bearer cf-not-a-token"},
					{"an unknown token", "/v1/sessions/sess_cf_none/turns", "Bearer cf-not-a-token"},
				} {
					r, err := t.rawExchange(ctx, http.MethodPost, c.path, c.auth, 4096, []byte(`{"agent":`), 3*time.Second)
					if err != nil {
						var f *failure
						if errors.As(err, &f) {
							return Failf("%s, the head of a 4096-byte body and nothing more: %s: the 401 must not wait for the body", c.what, f.msg)
						}
						return err
					}
					if err := r.resp.ExpectProblem(http.StatusUnauthorized, gen.ProblemCodeUnauthorized); err != nil {
						return err
					}
				}
				return nil
			}).traces("REQ-AUTH-003"),
		def("BAD-019", Must, "sendTurn createSession getSession",
			"JSON with a string or member name that is not valid UTF-8 (raw bytes, lone surrogate escapes) answers 400 invalid_request naming where (body.prompt, body.meta.user) and changes nothing",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, c := range invalidUTF8 {
					resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), Body: []byte(c.body), ContentType: "application/json"})
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
						return fmt.Errorf("%s: %w", c.what, err)
					}
					p, _ := resp.problem()
					found := false
					for _, e := range p.Errors {
						found = found || e.Location == c.location || (c.location == "body.meta" && strings.HasPrefix(e.Location, "body.meta"))
					}
					if !found {
						return resp.Failf("%s: the errors %s do not name %s", c.what, excerpt(resp.Body, 300), c.location)
					}
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 0 {
					return Failf("turn_count %d after turns refused for invalid UTF-8, want 0", got.TurnCount)
				}
				body := fmt.Sprintf("{\"agent\":%q,\"plan_slug\":%q,\"meta\":{\"user\":\"\xff\"}}", t.env.echo, t.plan())
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", Body: []byte(body), ContentType: "application/json"})
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
					return fmt.Errorf("createSession with meta.user not UTF-8: %w", err)
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("a createSession refused for invalid UTF-8 left %d sessions of the plan, want 1 (the check's own)", len(list))
				}
				return nil
			}).traces("REQ-ERR-022"),
		def("PROTO-012", May, "createSession",
			"a request body that does not arrive within the server's time bound (-body-read-timeout) is answered 408 request_timeout and the connection closed",
			func(ctx context.Context, t *tester) error {
				bound := t.c.cfg.BodyReadTimeout
				if bound <= 0 || bound > maxBodyTimeoutWaited {
					return Skipf("the server's body read timeout is %s: set -body-read-timeout (at most %s) to the server's", bound, maxBodyTimeoutWaited)
				}
				r, err := t.rawExchange(ctx, http.MethodPost, "/v1/sessions", "Bearer "+t.c.cfg.Token, 4096, []byte(`{"agent":`), bound+3*time.Second)
				if err != nil {
					return err
				}
				if err := r.resp.ExpectProblem(http.StatusRequestTimeout, gen.ProblemCodeRequestTimeout); err != nil {
					return err
				}
				if !r.closed {
					return r.resp.Failf("the connection stayed open after the 408")
				}
				return nil
			}).traces("REQ-ERR-023"),
	}
}
