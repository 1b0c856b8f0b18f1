package selftest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sse"
)

// defect is a deliberately broken server: the reference server with one
// fault injected by a wrapper around its handler, and the checks that must
// catch it.
type defect struct {
	name   string
	inject func(h http.Handler, tokens []string) http.Handler
	// caughtBy lists checks that must not pass against the broken server
	// (fail for a MUST check, warn for a SHOULD one).
	caughtBy []string
}

const (
	sessionPath = `/v1/sessions/[^/]+`
	turnsPath   = `/v1/sessions/[^/]+/turns`
	streamPath  = `/v1/sessions/[^/]+/turns/[0-9]+/stream`
	listPath    = `/v1/sessions(/[^/]+/(turns|events|log|artifacts|children))?`
)

func isStream(r *http.Request) bool {
	return (r.Method == http.MethodPost && is(http.MethodPost, turnsPath)(r) && strings.Contains(r.Header.Get("Accept"), "text/event-stream")) ||
		is(http.MethodGet, streamPath)(r)
}

func isProblem(a *answer) bool {
	return strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json")
}

var defects = []defect{
	{
		name: "another tenant's session is readable",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, sessionPath), func(r *http.Request, a *answer) {
				if a.status == http.StatusNotFound && r.Header.Get("Authorization") == "Bearer "+tok[1] {
					r2 := r.Clone(r.Context())
					r2.Header.Set("Authorization", "Bearer "+tok[0])
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r2)
					a.status, a.header, a.body = rec.Code, rec.Header().Clone(), rec.Body.Bytes()
				}
			})
		},
		caughtBy: []string{"ISO-001"},
	},
	{
		name: "another tenant can close a session",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodDelete, sessionPath), func(r *http.Request, a *answer) {
				if a.status == http.StatusNotFound && r.Header.Get("Authorization") == "Bearer "+tok[1] {
					r2 := r.Clone(r.Context())
					r2.Header.Set("Authorization", "Bearer "+tok[0])
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r2)
					a.status, a.header, a.body = rec.Code, rec.Header().Clone(), rec.Body.Bytes()
				}
			})
		},
		caughtBy: []string{"ISO-003"},
	},
	{
		name: "the children cap is not enforced",
		inject: func(h http.Handler, tok []string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !is(http.MethodPost, sessionPath+`/children`)(r) {
					h.ServeHTTP(w, r)
					return
				}
				body := readBody(r)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				var p gen.Problem
				if rec.Code == http.StatusConflict && json.Unmarshal(rec.Body.Bytes(), &p) == nil && p.Code == gen.ProblemCodeSpawnLimitExceeded {
					// Over the cap: make an ordinary session instead.
					req := httptest.NewRequest(http.MethodPost, "/v1/sessions", strings.NewReader(string(body)))
					req.Header = r.Header.Clone()
					rec = httptest.NewRecorder()
					h.ServeHTTP(rec, req)
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
			})
		},
		caughtBy: []string{"CHLD-002", "CHLD-003"},
	},
	{
		name: "another tenant's sessions are listed",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, `/v1/sessions`), func(r *http.Request, a *answer) {
				if r.Header.Get("Authorization") != "Bearer "+tok[1] || a.status != http.StatusOK {
					return
				}
				var other gen.SessionList
				internal(h, http.MethodGet, r.URL.RequestURI(), "Bearer "+tok[0], nil, &other)
				a.body = editJSON(a.body, func(m map[string]any) {
					items, _ := m["items"].([]any)
					for _, s := range other.Items {
						items = append(items, s)
					}
					m["items"] = items
				})
			})
		},
		caughtBy: []string{"ISO-007"},
	},
	{
		name: "closing a closed session is a conflict",
		inject: func(h http.Handler, tok []string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if is(http.MethodDelete, sessionPath)(r) {
					var s gen.Session
					if internal(h, http.MethodGet, r.URL.Path, r.Header.Get("Authorization"), nil, &s) == http.StatusOK &&
						(s.Status == gen.SessionStatusCompleted || s.Status == gen.SessionStatusFailed) {
						a := &answer{header: http.Header{"X-Request-Id": {"req_defect"}}}
						a.problem(http.StatusConflict, gen.ProblemCodeInvalidTransition)
						for k, v := range a.header {
							w.Header()[k] = v
						}
						w.WriteHeader(a.status)
						_, _ = w.Write(a.body)
						return
					}
				}
				h.ServeHTTP(w, r)
			})
		},
		caughtBy: []string{"SESS-006", "LIFE-023"},
	},
	{
		name: "a forbidden transition answers 400",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodPost, sessionPath+`/(pause|resume|end|handoff)`), func(r *http.Request, a *answer) {
				var p gen.Problem
				if a.status == http.StatusConflict && json.Unmarshal(a.body, &p) == nil && p.Code == gen.ProblemCodeInvalidTransition {
					a.problem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
				}
			})
		},
		caughtBy: []string{"LIFE-011", "LIFE-014", "LIFE-022"},
	},
	{
		name: "404 answers lack X-Request-Id",
		inject: func(h http.Handler, tok []string) http.Handler {
			return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
				if status == http.StatusNotFound {
					hdr.Del("X-Request-Id")
				}
			})
		},
		caughtBy: []string{"PROTO-001", "PROTO-004"},
	},
	{
		name: "an idempotent replay executes again",
		inject: func(h http.Handler, tok []string) http.Handler {
			return editRequest(h, func(r *http.Request) { r.Header.Del("Idempotency-Key") })
		},
		caughtBy: []string{"IDEM-001", "IDEM-003", "IDEM-004", "IDEM-012"},
	},
	{
		name: "idempotency records ignore the path",
		inject: func(h http.Handler, tok []string) http.Handler {
			var mu sync.Mutex
			seen := map[string]*answer{} // by key and body only
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				key := r.Header.Get("Idempotency-Key")
				if key == "" || !is(http.MethodPost, sessionPath+`/log`)(r) {
					h.ServeHTTP(w, r)
					return
				}
				id := r.Header.Get("Authorization") + "|" + key + "|" + string(readBody(r))
				mu.Lock()
				a := seen[id]
				mu.Unlock()
				if a == nil {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					a = &answer{status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()}
					mu.Lock()
					seen[id] = a
					mu.Unlock()
				}
				for k, v := range a.header {
					w.Header()[k] = v
				}
				w.WriteHeader(a.status)
				_, _ = w.Write(a.body)
			})
		},
		caughtBy: []string{"IDEM-013"},
	},
	{
		name: "SSE ids are not increasing",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, isStream, func(r *http.Request, a *answer) {
				editFrames(a, func(frames []sse.Frame) []sse.Frame {
					// Send the event frames in reverse order.
					var events []sse.Frame
					for _, f := range frames {
						if f.Event == "" {
							events = append(events, f)
						}
					}
					slices.Reverse(events)
					out := slices.Clone(frames)
					for i, j := 0, 0; i < len(out); i++ {
						if out[i].Event == "" {
							out[i] = events[j]
							j++
						}
					}
					return out
				})
			})
		},
		caughtBy: []string{"STRM-003"},
	},
	{
		name: "a resume repeats events",
		inject: func(h http.Handler, tok []string) http.Handler {
			return editRequest(h, func(r *http.Request) {
				if is(http.MethodGet, streamPath)(r) {
					r.Header.Del("Last-Event-ID")
					r.URL.RawQuery = ""
				}
			})
		},
		caughtBy: []string{"STRM-006", "STRM-007", "STRM-008"},
	},
	{
		name: "getSession answers a status outside the schema",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, sessionPath), func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) {
					if m["status"] == "active" {
						m["status"] = "open"
					}
				})
			})
		},
		caughtBy: []string{"SESS-002"},
	},
	{
		name: "malformed JSON makes the server fail with 500",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodPost, `/v1/sessions`), func(r *http.Request, a *answer) {
				var p gen.Problem
				if a.status == http.StatusBadRequest && json.Unmarshal(a.body, &p) == nil && strings.Contains(strings.ToLower(p.Detail), "json") {
					a.problem(http.StatusInternalServerError, gen.ProblemCodeInternal)
				}
			})
		},
		caughtBy: []string{"BAD-001"},
	},
	{
		name: "401 without a problem body",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, func(r *http.Request) bool { return !isStream(r) }, func(r *http.Request, a *answer) {
				if a.status == http.StatusUnauthorized {
					a.header.Set("Content-Type", "text/plain; charset=utf-8")
					a.body = []byte("unauthorized\n")
				}
			})
		},
		caughtBy: []string{"AUTH-002", "AUTH-003"},
	},
	{
		name: "405 without Allow",
		inject: func(h http.Handler, tok []string) http.Handler {
			return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
				if status == http.StatusMethodNotAllowed {
					hdr.Del("Allow")
				}
			})
		},
		caughtBy: []string{"BAD-008"},
	},
	{
		name: "an unknown route answers the Go mux's text 404",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, func(r *http.Request) bool { return !knownRoute(r.URL.Path) }, func(r *http.Request, a *answer) {
				a.header.Set("Content-Type", "text/plain; charset=utf-8")
				a.body = []byte("404 page not found\n")
			})
		},
		caughtBy: []string{"BAD-009"},
	},
	{
		name: "the echo agent's text is not the prompt",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, func(r *http.Request) bool { return is(http.MethodPost, turnsPath)(r) && !isStream(r) }, func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) {
					events, _ := m["events"].([]any)
					for _, e := range events {
						if ev, ok := e.(map[string]any); ok && ev["type"] == "text" {
							ev["content"] = strings.ToUpper(ev["content"].(string))
						}
					}
				})
			})
		},
		caughtBy: []string{"TURN-002"},
	},
	{
		name: "an over-large timeout_ms is capped, not refused",
		inject: func(h http.Handler, tok []string) http.Handler {
			var caps gen.Capabilities
			internal(h, http.MethodGet, "/v1/capabilities", "Bearer "+tok[0], nil, &caps)
			limit := float64(caps.Limits.MaxTurnTimeoutMs)
			return editRequest(h, func(r *http.Request) {
				if is(http.MethodPost, turnsPath)(r) {
					setBody(r, editJSON(readBody(r), func(m map[string]any) {
						if ms, ok := m["timeout_ms"].(float64); ok && ms > limit {
							m["timeout_ms"] = limit
						}
					}))
				}
			})
		},
		caughtBy: []string{"TURN-009"},
	},
	{
		name: "turn.accepted says running for a queued turn",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, isStream, func(r *http.Request, a *answer) {
				editFrames(a, func(frames []sse.Frame) []sse.Frame {
					for i, f := range frames {
						if f.Event == "turn.accepted" {
							frames[i].Data = string(editJSON([]byte(f.Data), func(m map[string]any) {
								if m["status"] == "queued" {
									m["status"] = "running"
								}
							}))
						}
					}
					return frames
				})
			})
		},
		caughtBy: []string{"STRM-013"},
	},
	{
		name: "busy policy reject is ignored (turns queue)",
		inject: func(h http.Handler, tok []string) http.Handler {
			return editRequest(h, func(r *http.Request) {
				if is(http.MethodPost, turnsPath)(r) {
					setBody(r, editJSON(readBody(r), func(m map[string]any) {
						if p, ok := m["busy_policy"]; !ok || p == "reject" {
							m["busy_policy"] = "enqueue"
						}
					}))
				}
			})
		},
		caughtBy: []string{"BUSY-001"},
	},
	{
		name: "busy policy interrupt only queues",
		inject: func(h http.Handler, tok []string) http.Handler {
			return editRequest(h, func(r *http.Request) {
				if is(http.MethodPost, turnsPath)(r) {
					setBody(r, editJSON(readBody(r), func(m map[string]any) {
						if m["busy_policy"] == "interrupt" {
							m["busy_policy"] = "enqueue"
						}
					}))
				}
			})
		},
		caughtBy: []string{"BUSY-003"},
	},
	{
		name: "cancel with nothing running is a conflict",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodPost, sessionPath+`/cancel`), func(r *http.Request, a *answer) {
				var c gen.CancelTurnResult
				if a.status == http.StatusOK && json.Unmarshal(a.body, &c) == nil && !c.Cancelled {
					a.problem(http.StatusConflict, gen.ProblemCodeInvalidTransition)
				}
			})
		},
		caughtBy: []string{"BUSY-005"},
	},
	{
		name: "lists drop next_cursor",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, listPath), func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) { delete(m, "next_cursor") })
			})
		},
		caughtBy: []string{"PAGE-001", "PAGE-002", "PAGE-006"},
	},
	{
		name: "lists ignore limit",
		inject: func(h http.Handler, tok []string) http.Handler {
			return editRequest(h, func(r *http.Request) {
				if is(http.MethodGet, listPath)(r) {
					q := r.URL.Query()
					q.Del("limit")
					r.URL.RawQuery = q.Encode()
				}
			})
		},
		caughtBy: []string{"PAGE-001", "PAGE-004"},
	},
	{
		name: "lists are newest first",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, listPath), func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) {
					if items, ok := m["items"].([]any); ok {
						slices.Reverse(items)
					}
				})
			})
		},
		caughtBy: []string{"PAGE-001", "SESS-004", "TURN-004"},
	},
	{
		name: "the event log has a gap",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, sessionPath+`/events`), func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) {
					if items, ok := m["items"].([]any); ok && len(items) > 2 {
						m["items"] = append(items[:1], items[2:]...)
					}
				})
			})
		},
		caughtBy: []string{"TURN-006"},
	},
	{
		name: "problem status differs from the HTTP status",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, func(r *http.Request) bool { return !isStream(r) }, func(r *http.Request, a *answer) {
				if isProblem(a) {
					a.body = editJSON(a.body, func(m map[string]any) { m["status"] = 418 })
				}
			})
		},
		caughtBy: []string{"SESS-008", "PROTO-005"},
	},
	{
		name: "problems lack request_id",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, func(r *http.Request) bool { return !isStream(r) }, func(r *http.Request, a *answer) {
				if isProblem(a) {
					a.body = editJSON(a.body, func(m map[string]any) { delete(m, "request_id") })
				}
			})
		},
		caughtBy: []string{"SESS-003", "PROTO-005"},
	},
	{
		name: "the client's X-Request-Id is not echoed",
		inject: func(h http.Handler, tok []string) http.Handler {
			return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
				hdr.Set("X-Request-Id", "req_always_the_same")
			})
		},
		caughtBy: []string{"PROTO-002"},
	},
	{
		name: "streams end without turn.completed",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, isStream, func(r *http.Request, a *answer) {
				editFrames(a, func(frames []sse.Frame) []sse.Frame {
					return slices.DeleteFunc(frames, func(f sse.Frame) bool { return f.Event == "turn.completed" })
				})
			})
		},
		caughtBy: []string{"STRM-004"},
	},
	{
		name: "streams are buffered until the turn ends",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, isStream, func(*http.Request, *answer) {})
		},
		caughtBy: []string{"STRM-010"},
	},
	{
		name: "event streams are served as application/octet-stream",
		inject: func(h http.Handler, tok []string) http.Handler {
			return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
				if strings.HasPrefix(hdr.Get("Content-Type"), "text/event-stream") {
					hdr.Set("Content-Type", "application/octet-stream")
				}
			})
		},
		caughtBy: []string{"STRM-001"},
	},
	{
		name: "handoff does not pause the session",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodPost, sessionPath+`/handoff`), func(r *http.Request, a *answer) {
				if a.status == http.StatusOK {
					internal(h, http.MethodPost, strings.TrimSuffix(r.URL.Path, "/handoff")+"/resume", r.Header.Get("Authorization"), nil, nil)
				}
			})
		},
		caughtBy: []string{"LIFE-002"},
	},
	{
		name: "an unknown agent falls back to echo",
		inject: func(h http.Handler, tok []string) http.Handler {
			return editRequest(h, func(r *http.Request) {
				if is(http.MethodPost, `/v1/sessions`)(r) {
					setBody(r, editJSON(readBody(r), func(m map[string]any) {
						if m["agent"] != "echo" && m["agent"] != "scripted" {
							m["agent"] = "echo"
						}
					}))
				}
			})
		},
		caughtBy: []string{"SESS-003"},
	},
	{
		name: "an oversize body answers 400",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, func(r *http.Request) bool { return r.Method == http.MethodPost && !isStream(r) }, func(r *http.Request, a *answer) {
				if a.status == http.StatusRequestEntityTooLarge {
					a.problem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
				}
			})
		},
		caughtBy: []string{"BAD-005"},
	},
	{
		name: "turn_count stays 0",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, sessionPath), func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) {
					if _, ok := m["turn_count"]; ok {
						m["turn_count"] = 0
					}
				})
			})
		},
		caughtBy: []string{"TURN-003"},
	},
	{
		name: "activity is always idle",
		inject: func(h http.Handler, tok []string) http.Handler {
			return rewrite(h, is(http.MethodGet, sessionPath), func(r *http.Request, a *answer) {
				a.body = editJSON(a.body, func(m map[string]any) {
					if _, ok := m["activity"]; ok {
						m["activity"] = "idle"
					}
				})
			})
		},
		caughtBy: []string{"BUSY-007"},
	},
	{
		name: "updateContext replaces instead of merging",
		inject: func(h http.Handler, tok []string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !is(http.MethodPatch, sessionPath+`/context`)(r) {
					h.ServeHTTP(w, r)
					return
				}
				// Clear the summary first, so the patch replaces it whole.
				var s gen.Session
				auth := r.Header.Get("Authorization")
				internal(h, http.MethodGet, strings.TrimSuffix(r.URL.Path, "/context"), auth, nil, &s)
				clear := map[string]any{}
				for k := range s.ContextSummary {
					clear[k] = nil
				}
				internal(h, http.MethodPatch, r.URL.Path, auth, clear, nil)
				h.ServeHTTP(w, r)
			})
		},
		caughtBy: []string{"LIFE-038"},
	},
}

// TestDefectsAreCaught runs, for every defect, the checks that must catch it
// against the broken server. TestReferenceServerPasses shows the same checks
// pass against the reference server itself.
func TestDefectsAreCaught(t *testing.T) {
	names := map[string]bool{}
	for _, d := range defects {
		if names[d.name] {
			t.Fatalf("two defects named %q", d.name)
		}
		names[d.name] = true
	}
	if len(defects) < 15 {
		t.Fatalf("%d defects; the suite must be shown to catch at least 15", len(defects))
	}
	for _, d := range defects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			srv := refservertest.Start(t)
			broken := httptest.NewServer(d.inject(srv.Server, srv.Tokens))
			t.Cleanup(broken.Close)
			res, err := conformance.Run(context.Background(), conformance.Config{
				BaseURL: broken.URL, Token: srv.Tokens[0], Token2: srv.Tokens[1], Include: d.caughtBy,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range d.caughtBy {
				c, ok := res.Check(id)
				if !ok {
					t.Errorf("%s did not run", id)
					continue
				}
				want := conformance.Fail
				if c.Level != conformance.Must {
					want = conformance.Warn
				}
				if c.Outcome != want {
					t.Errorf("%s [%s]: %s (%s), want %s: the defect went unnoticed", id, c.Level, c.Outcome, c.Message, want)
				}
			}
		})
	}
}
