package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/gen/spec"
)

// route is one operation of the spec, prepared once at start-up so a
// request needs no route lookup or spec parsing.
type route struct {
	pattern string // the ServeMux pattern, "POST /v1/sessions"
	op      string // the operationId
	kin     *routers.Route
	// params maps a parameter name to its location (path, query, header).
	params map[string]string
	// body is the operation's request body, nil when it takes none.
	body       *openapi3.RequestBody
	mediaTypes []string
	multipart  bool
	// limit bounds the request body, in bytes.
	limit int64
	opts  *openapi3filter.Options
}

// loadSpec parses the embedded openapi.yaml once per process; the document
// is only read afterwards.
var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := spec.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("refserver: load the embedded spec: %w", err)
	}
	doc.Servers = nil // validation must not depend on the host
	return doc, nil
})

// multipartOverhead is allowed on top of MaxFileBytes for the multipart
// framing of an upload.
const multipartOverhead = 64 << 10

func (s *Server) buildRoutes(doc *openapi3.T) map[string]*route {
	jsonOpts := &openapi3filter.Options{
		MultiError:          true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc, // auth ran before
		SkipSettingDefaults: true,                                  // handlers apply defaults
		KeepValidatedValue:  true,                                  // the strict server binds it without a second parse
	}
	// Uploads are checked by the handler: kin would decode the whole file
	// into memory again and refuses parts of media types it does not know.
	uploadOpts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true, ExcludeRequestBody: true}
	routes := map[string]*route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			rt := &route{
				pattern: method + " " + path,
				op:      op.OperationID,
				kin:     &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
				params:  map[string]string{},
				limit:   s.cfg.MaxBodyBytes,
				opts:    jsonOpts,
			}
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				rt.params[p.Value.Name] = p.Value.In
			}
			if op.RequestBody != nil {
				rt.body = op.RequestBody.Value
				for mt := range rt.body.Content {
					rt.mediaTypes = append(rt.mediaTypes, mt)
				}
				sort.Strings(rt.mediaTypes)
				if slices.Contains(rt.mediaTypes, "multipart/form-data") {
					rt.multipart = true
					rt.limit = s.cfg.MaxFileBytes + multipartOverhead
					rt.opts = uploadOpts
				}
			}
			routes[rt.pattern] = rt
		}
	}
	return routes
}

func (s *Server) paramLocation(rt *route, name string) string {
	if rt != nil {
		if in, ok := rt.params[name]; ok {
			return in + "." + name
		}
	}
	return name
}

// routeMux is the genserver.ServeMux the generated wrapper registers its
// operations on: it wraps each operation with the body limit and the
// request validation of that operation's route, so validation runs after
// routing (with the path values) and before the generated binding.
type routeMux struct {
	s   *Server
	mux *http.ServeMux
}

func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	rt := m.s.routes[pattern]
	if rt == nil {
		panic("refserver: the generated server has a route the spec lacks: " + pattern)
	}
	m.mux.Handle(pattern, m.s.validated(rt, http.HandlerFunc(h)))
}

func (m routeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// validated enforces the route's body limit and media types and validates
// the request against the spec before next runs.
func (s *Server) validated(rt *route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r.Context())
		ri.route, ri.pattern = rt, rt.pattern
		ri.accept = r.Header.Get("Accept")
		// url.Values silently drops what it cannot parse: say so instead.
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			s.writeProblem(w, r, invalidField("query", "malformed query string: "+err.Error()))
			return
		}
		if rt.body != nil {
			if e := s.readBody(w, r, rt, ri); e != nil {
				s.writeProblem(w, r, e)
				return
			}
		}
		pathParams := map[string]string{}
		for name, in := range rt.params {
			if in == openapi3.ParameterInPath {
				pathParams[name] = r.PathValue(name)
			}
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: rt.kin, Options: rt.opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			s.writeProblem(w, r, validationProblem(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads the request body within the route's limit, keeps it for
// idempotency hashing, and checks that it is present when required, of an
// accepted media type and, for JSON, well-formed.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, rt *route, ri *reqInfo) *apiError {
	tooLarge := func() *apiError {
		what := "request body"
		if rt.multipart {
			what = "upload"
		}
		return newError(http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge,
			"The %s is over the limit of %d bytes.", what, rt.limit)
	}
	if r.ContentLength > rt.limit {
		return tooLarge()
	}
	// A body that trickles in must not hold the connection and its
	// goroutine: the read has a deadline (lifted again after it, for a
	// stream's answer and the connection's next request).
	rc := http.NewResponseController(w)
	deadlined := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout)) == nil
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.limit))
	ri.bodyRead = true
	if err != nil {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			return tooLarge()
		case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
			ri.bodyRead = false // what is left of it is not waited for
			ri.bodyTimedOut = true
			return newError(http.StatusRequestTimeout, gen.ProblemCodeRequestTimeout,
				"The request body did not arrive within %v.", s.cfg.BodyReadTimeout)
		}
		return invalidField("body", "the request body could not be read: "+err.Error())
	}
	if deadlined {
		_ = rc.SetReadDeadline(time.Time{})
	}
	ri.body = data
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	if len(data) == 0 {
		if rt.body.Required {
			return invalidField("body", "a request body is required")
		}
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(rt.mediaTypes, mt) {
		detail := "Send the body as " + strings.Join(rt.mediaTypes, " or ") + "."
		if ct == "" {
			detail = "The Content-Type header is missing. " + detail
		}
		return newError(http.StatusUnsupportedMediaType, gen.ProblemCodeUnsupportedMediaType, "%s", detail)
	}
	if mt == "application/json" && !json.Valid(data) {
		var v any
		msg := "malformed JSON"
		if err := json.Unmarshal(data, &v); err != nil {
			msg = "malformed JSON: " + err.Error()
		}
		return invalidField("body", msg)
	}
	if mt == "application/json" {
		// Go's decoder would turn such text into U+FFFD without a word.
		if loc, what, bad := badUTF8(data); bad {
			return invalidField(loc, what+" is not valid UTF-8")
		}
	}
	return nil
}

// validationProblem turns kin-openapi's validation error into a 400
// invalid_request listing every offending field.
func validationProblem(err error) *apiError {
	var fields []gen.FieldError
	collectFieldErrors(err, "request", &fields)
	if len(fields) == 0 {
		fields = []gen.FieldError{{Location: "request", Message: err.Error()}}
	}
	detail := fields[0].Location + ": " + fields[0].Message
	if n := len(fields) - 1; n > 0 {
		detail += fmt.Sprintf(" (and %d more)", n)
	}
	return &apiError{status: http.StatusBadRequest, code: gen.ProblemCodeInvalidRequest, detail: detail, fields: fields}
}

func collectFieldErrors(err error, loc string, out *[]gen.FieldError) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			collectFieldErrors(x, loc, out)
		}
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			loc = e.Parameter.In + "." + e.Parameter.Name
		case e.RequestBody != nil:
			loc = "body"
		}
		switch inner := e.Err.(type) {
		case openapi3.MultiError, *openapi3.SchemaError:
			collectFieldErrors(inner, loc, out)
			return
		}
		msg := e.Reason
		if e.Err != nil {
			if msg == "" || msg == e.Err.Error() {
				msg = e.Err.Error()
			} else {
				msg += ": " + e.Err.Error()
			}
		}
		*out = append(*out, gen.FieldError{Location: loc, Message: msg})
	case *openapi3.SchemaError:
		if p := e.JSONPointer(); len(p) > 0 {
			loc += "." + strings.Join(p, ".")
		}
		msg := e.Reason
		if msg == "" {
			msg = e.Error()
		}
		*out = append(*out, gen.FieldError{Location: loc, Message: msg})
	default:
		*out = append(*out, gen.FieldError{Location: loc, Message: err.Error()})
	}
}
