package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/gen/spec"
	"github.com/agentsession/agentsession/sse"
)

// validator checks responses against the contract embedded in gen/spec (the same
// openapi.yaml the repository ships), never against the server's own idea of it.
type validator struct {
	doc    *openapi3.T
	router routers.Router
}

const schemaProblem = "Problem"

// frameKind is what the contract says about one kind of SSE frame.
type frameKind struct {
	// event is the frame's type, the discriminator of TurnStreamFrame; frame
	// is the schema of the whole frame {event, id, data}, data the schema of
	// its data alone.
	event, frame, data string
}

// frameKinds maps the event name a frame carries on the wire to its kind. An
// event frame has no event: line, so its name is "" (SSE type message).
var frameKinds = map[string]frameKind{
	"": {string(gen.EventFrameEventMessage), "EventFrame", "Event"},
	string(gen.TurnAcceptedFrameEventTurnAccepted):   {string(gen.TurnAcceptedFrameEventTurnAccepted), "TurnAcceptedFrame", "TurnAccepted"},
	string(gen.TurnCompletedFrameEventTurnCompleted): {string(gen.TurnCompletedFrameEventTurnCompleted), "TurnCompletedFrame", "TurnSummary"},
}

// sessionFrameKinds is frameKinds for streamSession, whose frames are
// SessionStreamFrames: the same unnamed event frames with a <seq>.<lifecycle_seq>
// id, lifecycle frames and the last session.ended frame.
var sessionFrameKinds = map[string]frameKind{
	"": {string(gen.SessionEventFrameEventMessage), "SessionEventFrame", "Event"},
	string(gen.SessionLifecycleFrameEventSessionLifecycle): {string(gen.SessionLifecycleFrameEventSessionLifecycle), "SessionLifecycleFrame", "LifecycleEvent"},
	string(gen.SessionEndedFrameEventSessionEnded):         {string(gen.SessionEndedFrameEventSessionEnded), "SessionEndedFrame", "Session"},
}

// validators caches a validator per base path: decoding the contract and
// building its router is most of the cost of a short run, and a validator is
// read-only once built.
var validators sync.Map // base path → *validator

func newValidator(baseURL string) (*validator, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL: %w", err)
	}
	// A server URL without a host routes on the path alone: the suite only
	// ever sends to the base URL.
	base := strings.TrimRight(u.EscapedPath(), "/")
	if v, ok := validators.Load(base); ok {
		return v.(*validator), nil
	}
	// GetSwagger decodes a fresh document, so editing Servers touches no one else.
	doc, err := spec.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load the embedded contract: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: base + "/"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the contract at %s: %w", baseURL, err)
	}
	v, _ := validators.LoadOrStore(base, &validator{doc: doc, router: router})
	return v.(*validator), nil
}

// SpecVersion returns the contract's info.version the suite tests against.
func SpecVersion() string { return specVersion() }

var specVersion = sync.OnceValue(func() string {
	doc, err := spec.GetSwagger()
	if err != nil {
		return "unknown"
	}
	return doc.Info.Version
})

// route finds the operation a request addresses; ok is false for a route the
// contract does not define (or a method it does not allow there).
func (v *validator) route(req *http.Request) (*routers.Route, map[string]string, bool) {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, nil, false
	}
	return route, params, true
}

// allowedMethods lists the methods the contract defines for the path of req,
// or nil when it defines none there.
func (v *validator) allowedMethods(req *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(context.Background())
		probe.Method = m
		if _, _, err := v.router.FindRoute(probe); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// validateResponse checks one response's status, headers and body (the body
// unless stream is set; stream frames are checked one by one with
// validateFrame). It returns one message per violation.
func (v *validator) validateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte, stream bool) []string {
	route, params, ok := v.route(req)
	if !ok {
		// 404 for an unknown route and 405 for a wrong method have no
		// operation; they are still problem documents.
		if status < 400 {
			return []string{fmt.Sprintf("the contract defines no operation %s %s, yet the server answered %d", req.Method, req.URL.EscapedPath(), status)}
		}
		return v.validateProblem(header, body)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: stream}
	opts.WithCustomSchemaErrorFunc(schemaErrorText)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		return flattenValidation(route.Operation.OperationID, status, err)
	}
	return nil
}

// validateProblem checks a body against the Problem schema and media type.
func (v *validator) validateProblem(header http.Header, body []byte) []string {
	var out []string
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/problem+json" {
		out = append(out, fmt.Sprintf("error response Content-Type is %q, want application/problem+json", header.Get("Content-Type")))
	}
	return append(out, v.validateJSON(schemaProblem, body)...)
}

// validateJSON checks a JSON document against a named component schema.
func (v *validator) validateJSON(schema string, data []byte) []string {
	value, err := decodeJSON(data)
	if err != nil {
		return []string{fmt.Sprintf("body is not JSON (%s expected): %v", schema, err)}
	}
	var msgs []string
	for _, e := range v.visit(schema, value) {
		msgs = append(msgs, fmt.Sprintf("%s doesn't match schema %s: %s", "body", schema, schemaErrorText2(e)))
	}
	return msgs
}

// validateFrame checks one SSE frame of a stream body (which openapi3filter
// cannot read): its data against the data's schema, then the frame as the
// object {event, id, data} against the frame's schema, which is what checks
// the id (an event frame's seq). Violations inside data are reported once,
// by the first step.
func (v *validator) validateFrame(f sse.Frame, session bool) []string {
	kind, ok := frameKinds[f.Event]
	if session {
		kind, ok = sessionFrameKinds[f.Event]
		if !ok {
			return []string{fmt.Sprintf("SSE frame with event name %q: the contract defines only unnamed event frames, session.lifecycle and session.ended on a session's stream", f.Event)}
		}
	}
	if !ok {
		return []string{fmt.Sprintf("SSE frame with event name %q: the contract defines only unnamed event frames, turn.accepted and turn.completed", f.Event)}
	}
	var out []string
	for _, msg := range v.validateJSON(kind.data, []byte(f.Data)) {
		out = append(out, fmt.Sprintf("SSE frame (id %q, event %q): %s", f.ID, f.Event, msg))
	}
	frame := map[string]any{"event": kind.event}
	if f.HasID {
		frame["id"] = f.ID
	}
	// Data that is not JSON was reported above; as a string it still lets
	// the rest of the frame be checked.
	if data, err := decodeJSON([]byte(f.Data)); err == nil {
		frame["data"] = data
	} else {
		frame["data"] = f.Data
	}
	for _, e := range v.visit(kind.frame, frame) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) && len(se.JSONPointer()) > 0 && se.JSONPointer()[0] == "data" {
			continue
		}
		out = append(out, fmt.Sprintf("SSE frame (id %q, event %q) doesn't match schema %s: %s", f.ID, f.Event, kind.frame, schemaErrorText2(e)))
	}
	return out
}

// visit validates a decoded JSON value against a named component schema and
// returns one error per violation.
func (v *validator) visit(schema string, value any) []error {
	ref := v.doc.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return []error{errors.New("internal: no schema " + schema)}
	}
	err := ref.Value.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsResponse(), openapi3.SetSchemaErrorMessageCustomizer(schemaErrorText))
	if err == nil {
		return nil
	}
	return unwrapMulti(err)
}

// decodeJSON decodes one JSON document into the form VisitJSON expects.
func decodeJSON(data []byte) (any, error) {
	var value any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return nil, err
	}
	return numbersToFloat(value), nil
}

// numbersToFloat turns json.Number into float64 (what VisitJSON expects),
// keeping integers exact up to 2^53.
func numbersToFloat(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToFloat(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToFloat(e)
		}
	}
	return v
}

// schemaErrorText renders a schema error as "/json/pointer: reason", much
// shorter than kin-openapi's default (which dumps the whole schema).
func schemaErrorText(err *openapi3.SchemaError) string {
	ptr := "/" + strings.Join(err.JSONPointer(), "/")
	return ptr + ": " + err.Reason
}

func schemaErrorText2(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return schemaErrorText(se)
	}
	return err.Error()
}

func unwrapMulti(err error) []error {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		var out []error
		for _, e := range multi {
			out = append(out, unwrapMulti(e)...)
		}
		return out
	}
	return []error{err}
}

// flattenValidation turns a kin-openapi response error into one line per
// violation, prefixed with the operation and status.
func flattenValidation(op string, status int, err error) []string {
	prefix := fmt.Sprintf("%s %d: ", op, status)
	var rerr *openapi3filter.ResponseError
	if !errors.As(err, &rerr) {
		return []string{prefix + err.Error()}
	}
	if rerr.Err == nil {
		if rerr.Reason == "status is not supported" {
			return []string{fmt.Sprintf("%s: the contract documents no %d answer for this operation", strings.TrimSuffix(prefix, ": "), status)}
		}
		return []string{prefix + strings.ReplaceAll(rerr.Reason, "#/components/schemas/", "")}
	}
	// "#/components/schemas/Session" reads better as "Session".
	reason := strings.ReplaceAll(rerr.Reason, "#/components/schemas/", "")
	var out []string
	for _, e := range unwrapMulti(rerr.Err) {
		out = append(out, prefix+reason+": "+schemaErrorText2(e))
	}
	sort.Strings(out)
	return out
}
