package refserver_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
)

// TestBadInputIsA4xxProblem sends malformed requests to every kind of
// operation: each answer is the expected 4xx problem, never a 5xx (the
// client helper fails on any 5xx or a body that is not a problem).
func TestBadInputIsA4xxProblem(t *testing.T) {
	srv, c := start(t, func(cfg *refserver.Config) { cfg.MaxBodyBytes = 2048 })
	id := c.newSession("echo")
	s := "/v1/sessions/" + id
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name, method, path string
		body               any
		hdrs               []header
		status             int
		code               gen.ProblemCode
		location           string
	}{
		{"malformed JSON", "POST", "/v1/sessions", `{"agent":`, nil, 400, gen.ProblemCodeInvalidRequest, "body"},
		{"trailing garbage", "POST", "/v1/sessions", `{"agent":"echo"} x`, nil, 400, gen.ProblemCodeInvalidRequest, "body"},
		{"JSON array body", "POST", "/v1/sessions", `[]`, nil, 400, gen.ProblemCodeInvalidRequest, "body"},
		{"JSON null body", "POST", "/v1/sessions", `null`, nil, 400, gen.ProblemCodeInvalidRequest, "body"},
		{"missing required field", "POST", "/v1/sessions", `{}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.agent"},
		{"wrong type", "POST", "/v1/sessions", `{"agent":7}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.agent"},
		{"empty agent", "POST", "/v1/sessions", `{"agent":""}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.agent"},
		{"meta not an object", "POST", "/v1/sessions", `{"agent":"echo","meta":[1]}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.meta"},
		{"empty body", "POST", "/v1/sessions", "", []header{{"Content-Type", "application/json"}}, 400, gen.ProblemCodeInvalidRequest, "body"},
		{"unknown enum value", "POST", s + "/log", `{"type":"gossip","message":"m"}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.type"},
		{"unknown end status", "POST", s + "/end", `{"status":"exploded"}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.status"},
		{"unknown busy policy", "POST", s + "/turns", `{"prompt":"p","busy_policy":"shove"}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.busy_policy"},
		{"empty prompt", "POST", s + "/turns", `{"prompt":""}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.prompt"},
		{"zero timeout", "POST", s + "/turns", `{"prompt":"p","timeout_ms":0}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.timeout_ms"},
		{"timeout over the maximum", "POST", s + "/turns", `{"prompt":"p","timeout_ms":600001}`, nil, 400, gen.ProblemCodeInvalidRequest, "body.timeout_ms"},
		{"timeout overflows int32", "POST", s + "/turns", `{"prompt":"p","timeout_ms":99999999999}`, nil, 400, gen.ProblemCodeInvalidRequest, ""},
		{"context patch not an object", "PATCH", s + "/context", `"x"`, nil, 400, gen.ProblemCodeInvalidRequest, "body"},
		{"negative limit", "GET", "/v1/sessions?limit=-1", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.limit"},
		{"zero limit", "GET", "/v1/sessions?limit=0", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.limit"},
		{"limit over 100", "GET", "/v1/sessions?limit=101", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.limit"},
		{"limit not a number", "GET", "/v1/sessions?limit=ten", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.limit"},
		{"unknown status filter", "GET", "/v1/sessions?status=sleeping", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.status"},
		{"negative after", "GET", s + "/events?after=-1", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.after"},
		{"garbled query", "GET", "/v1/sessions?cursor=%%%", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query"},
		{"semicolon query", "GET", "/v1/sessions?limit=1;x=2", nil, nil, 400, gen.ProblemCodeInvalidRequest, "query"},
		{"cursor not base64", "GET", "/v1/sessions?cursor=not*base64", nil, nil, 400, gen.ProblemCodeInvalidCursor, ""},
		{"cursor of another list", "GET", "/v1/sessions?cursor=djF8ZXZlbnRzfDEyMzQ1Njc4OWFiY3wx", nil, nil, 400, gen.ProblemCodeInvalidCursor, ""},
		{"cursor too long", "GET", "/v1/sessions?cursor=" + long[:600], nil, nil, 400, gen.ProblemCodeInvalidRequest, "query.cursor"},
		{"traversal in id", "GET", "/v1/sessions/..%2F..%2Fetc", nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.session_id"},
		{"unicode id", "GET", "/v1/sessions/s%C3%A9ance", nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.session_id"},
		{"10k-char id", "GET", "/v1/sessions/" + long, nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.session_id"},
		{"turn index zero", "GET", s + "/turns/0", nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.turn_index"},
		{"turn index not a number", "GET", s + "/turns/one", nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.turn_index"},
		{"turn index overflows", "GET", s + "/turns/99999999999", nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.turn_index"},
		{"bad Last-Event-ID", "GET", s + "/turns/1/stream", nil, []header{{"Last-Event-ID", "abc"}}, 400, gen.ProblemCodeInvalidRequest, "header.Last-Event-ID"},
		{"Last-Event-ID overflows", "GET", s + "/turns/1/stream", nil, []header{{"Last-Event-ID", "99999999999999999999"}}, 400, gen.ProblemCodeInvalidRequest, "header.Last-Event-ID"},
		{"bad Idempotency-Key", "POST", "/v1/sessions", `{"agent":"echo"}`, []header{{"Idempotency-Key", "has space"}}, 400, gen.ProblemCodeInvalidRequest, "header.Idempotency-Key"},
		{"too long Idempotency-Key", "POST", "/v1/sessions", `{"agent":"echo"}`, []header{{"Idempotency-Key", long[:256]}}, 400, gen.ProblemCodeInvalidRequest, "header.Idempotency-Key"},
		{"bad file token", "GET", "/v1/files/bad.token", nil, nil, 400, gen.ProblemCodeInvalidRequest, "path.file_token"},
		{"form body", "POST", "/v1/sessions", "agent=echo", []header{{"Content-Type", "application/x-www-form-urlencoded"}}, 415, gen.ProblemCodeUnsupportedMediaType, ""},
		{"no content type", "POST", "/v1/sessions", `{"agent":"echo"}`, []header{{"Content-Type", ""}}, 415, gen.ProblemCodeUnsupportedMediaType, ""},
		{"text body", "POST", s + "/turns", `{"prompt":"p"}`, []header{{"Content-Type", "text/plain"}}, 415, gen.ProblemCodeUnsupportedMediaType, ""},
		{"JSON upload", "POST", "/v1/files", `{"file":"x"}`, nil, 415, gen.ProblemCodeUnsupportedMediaType, ""},
		{"nested JSON", "PATCH", s + "/context", strings.Repeat(`{"a":`, 250) + `1` + strings.Repeat(`}`, 250), nil, 200, "", ""},
		{"body over the limit", "POST", "/v1/sessions", `{"agent":"echo","meta":{"x":"` + long + `"}}`, nil, 413, gen.ProblemCodePayloadTooLarge, ""},
		{"unknown agent", "POST", "/v1/sessions", `{"agent":"gpt-9"}`, nil, 422, gen.ProblemCodeUnknownAgent, ""},
		{"no such session", "GET", "/v1/sessions/sess_nope", nil, nil, 404, gen.ProblemCodeNotFound, ""},
		{"no such turn", "GET", s + "/turns/9", nil, nil, 404, gen.ProblemCodeNotFound, ""},
		{"no such file", "GET", "/v1/files/file_nope", nil, nil, 404, gen.ProblemCodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(tt.method, tt.path, tt.body, tt.hdrs...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if r.Status < 300 {
				return
			}
			p := r.problem(t)
			if p.Code != tt.code {
				t.Fatalf("code %q, want %q: %s", p.Code, tt.code, r.Body)
			}
			if tt.location != "" {
				if len(p.Errors) == 0 || p.Errors[0].Location != tt.location {
					t.Fatalf("errors %s, want the first at %q", r.Body, tt.location)
				}
			}
		})
	}
	// The session is untouched by all of that (but the one valid context patch).
	if got := c.getSession(id); got.TurnCount != 0 || got.ActionCount != 0 || got.Status != "active" {
		t.Errorf("session changed by bad requests: %+v", got)
	}
	_ = srv
}

func TestUploadLimits(t *testing.T) {
	srv, c := start(t, func(cfg *refserver.Config) { cfg.MaxFileBytes = 1000 })
	upload := func(field string, size int) *response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile(field, "data.bin")
		fw.Write(bytes.Repeat([]byte("a"), size))
		mw.Close()
		return c.do("POST", "/v1/files", buf.Bytes(), header{"Content-Type", mw.FormDataContentType()})
	}
	upload("file", 1000).want(t, http.StatusCreated)
	upload("file", 1001).want(t, http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge)
	upload("file", 200000).want(t, http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge)
	upload("document", 10).want(t, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
	c.do("POST", "/v1/files", "not multipart", header{"Content-Type", "multipart/form-data; boundary=xyz"}).want(t, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
	c.do("POST", "/v1/files", "--x--", header{"Content-Type", "multipart/form-data"}).want(t, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
	_ = srv
}

func TestJSONNestedTooDeep(t *testing.T) {
	_, c := start(t)
	deep := `{"agent":"echo","meta":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}`
	c.do("POST", "/v1/sessions", deep).want(t, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
}
