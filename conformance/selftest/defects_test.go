package selftest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// defect is a deliberately broken server: the reference server with one
// fault injected around its handler. It breaks one requirement of the
// contract, and the checks that trace to that requirement must catch it.
type defect struct {
	req    string // the requirement it breaks
	name   string
	inject injector
}

// auth is the Authorization header of tenant i.
func auth(i int) string { return "Bearer " + tokens[i] }

// sessionOf is the session path a request addresses ("/v1/sessions/x").
func sessionOf(r *http.Request) string {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/v1/sessions/"), "/", 2)
	return "/v1/sessions/" + parts[0]
}

// intQuery reads an integer query parameter, -1 without one.
func intQuery(r *http.Request, name string) int {
	v := r.URL.Query().Get(name)
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func num(v any) float64 { f, _ := v.(float64); return f }

var defects = []defect{
	// --- authentication and tenants
	{"REQ-AUTH-001", "an unknown bearer token is taken for the first tenant", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") && a != auth(0) && a != auth(1) && a != "Bearer " && a != "Bearer" {
				r.Header.Set("Authorization", auth(0))
			}
		})
	}},
	{"REQ-AUTH-002", "401 answers lack WWW-Authenticate", dropHeader("WWW-Authenticate", func(r *http.Request, status int) bool { return status == http.StatusUnauthorized })},
	{"REQ-TEN-001", "another tenant's session is readable", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("getSession"), func(r *http.Request, a *answer) {
			if a.status == http.StatusNotFound && r.Header.Get("Authorization") == auth(1) {
				r2 := r.Clone(r.Context())
				r2.Header.Set("Authorization", auth(0))
				*a = *record(h, r2)
			}
		})
	}},
	{"REQ-TEN-002", "another tenant's sessions are listed", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("listSessions"), func(r *http.Request, a *answer) {
			if r.Header.Get("Authorization") != auth(1) || a.status != http.StatusOK {
				return
			}
			var other gen.SessionList
			internal(h, http.MethodGet, r.URL.RequestURI(), auth(0), nil, &other)
			a.body = editJSON(a.body, func(m map[string]any) {
				items, _ := m["items"].([]any)
				for _, s := range other.Items {
					items = append(items, s)
				}
				m["items"] = items
			})
		})
	}},

	// --- request ids
	{"REQ-RID-001", "404 answers lack X-Request-Id", dropHeader("X-Request-Id", func(r *http.Request, status int) bool { return status == http.StatusNotFound })},
	{"REQ-RID-002", "a 128-character client X-Request-Id is cut to 64 on successful answers", func(h http.Handler, tg *target) http.Handler {
		return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
			if id := hdr.Get("X-Request-Id"); len(id) == 128 && status < 400 {
				hdr.Set("X-Request-Id", id[:64])
			}
		})
	}},
	{"REQ-RID-003", "an invalid client X-Request-Id is echoed on successful answers", func(h http.Handler, tg *target) http.Handler {
		return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
			if id := r.Header.Get("X-Request-Id"); id != "" && status < 400 {
				hdr.Set("X-Request-Id", id)
			}
		})
	}},
	{"REQ-RID-004", "problems name another request id than the header", problemField(func(_ *http.Request, m map[string]any) { m["request_id"] = "req_another_one" })},

	// --- errors and bad input
	{"REQ-ERR-001", "an unknown session answers a text/plain 404", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("getSession"), func(r *http.Request, a *answer) {
			if a.status == http.StatusNotFound {
				a.header.Set("Content-Type", "text/plain; charset=utf-8")
				a.body = []byte("no such session\n")
			}
		})
	}},
	{"REQ-ERR-002", "validation problems list no errors", problemField(func(_ *http.Request, m map[string]any) {
		if m["code"] == string(gen.ProblemCodeInvalidRequest) {
			delete(m, "errors")
		}
	})},
	{"REQ-ERR-003", "malformed JSON makes the server fail with 500", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("createSession"), func(r *http.Request, a *answer) {
			var p gen.Problem
			if a.status == http.StatusBadRequest && json.Unmarshal(a.body, &p) == nil && strings.Contains(strings.ToLower(p.Detail), "json") {
				a.problem(http.StatusInternalServerError, gen.ProblemCodeInternal)
			}
		})
	}},
	{"REQ-ERR-004", "a meta that is not an object is dropped instead of refused", reqJSON(isOp("createSession"), func(m map[string]any) {
		if _, ok := m["meta"].(map[string]any); !ok {
			delete(m, "meta")
		}
	})},
	{"REQ-ERR-005", "a turn without a prompt gets a default prompt", reqJSON(isOp("sendTurn"), func(m map[string]any) {
		if _, ok := m["prompt"]; !ok {
			m["prompt"] = "(no prompt)"
		}
	})},
	{"REQ-ERR-006", "an unknown busy_policy falls back to the default", reqJSON(isOp("sendTurn"), func(m map[string]any) {
		if p, ok := m["busy_policy"].(string); ok && p != "reject" && p != "enqueue" && p != "interrupt" {
			delete(m, "busy_policy")
		}
	})},
	{"REQ-ERR-007", "a negative after is read as 0", reqQuery(isOp("listEvents"), func(q url.Values) {
		if strings.HasPrefix(q.Get("after"), "-") {
			q.Del("after")
		}
	})},
	{"REQ-ERR-008", "a plan_slug of exactly 128 characters is refused", refuse(func(r *http.Request) bool {
		if isOp("listSessions")(r) && len(r.URL.Query().Get("plan_slug")) == 128 {
			return true
		}
		var b struct {
			PlanSlug string `json:"plan_slug"`
		}
		return isOp("createSession")(r) && json.Unmarshal(readBody(r), &b) == nil && len(b.PlanSlug) == 128
	}, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)},
	{"REQ-ERR-009", "a plan_slug over 128 characters is cut to 128", reqJSON(isOp("createSession"), func(m map[string]any) {
		if p, ok := m["plan_slug"].(string); ok && len(p) > 128 {
			m["plan_slug"] = p[:128]
		}
	})},
	{"REQ-ERR-010", "a cursor the server never issued restarts the list", reqQuery(isOp("listSessions", "listTurns", "listEvents"), func(q url.Values) {
		if c := q.Get("cursor"); c != "" {
			if raw, err := base64.RawURLEncoding.DecodeString(c); err != nil || !strings.HasPrefix(string(raw), "v1|") {
				q.Del("cursor")
			}
		}
	})},
	{"REQ-ERR-011", "an unknown turn answers 400", recode(isOp("getTurn"), gen.ProblemCodeNotFound, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)},
	{"REQ-ERR-012", "an unknown route answers the Go mux's text 404", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, func(r *http.Request) bool { return !knownRoute(r.URL.Path) }, func(r *http.Request, a *answer) {
			a.header.Set("Content-Type", "text/plain; charset=utf-8")
			a.body = []byte("404 page not found\n")
		})
	}},
	{"REQ-ERR-013", "405 answers lack Allow", dropHeader("Allow", func(r *http.Request, status int) bool { return status == http.StatusMethodNotAllowed })},
	{"REQ-ERR-014", "a text/plain body is read as JSON", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
				r.Header.Set("Content-Type", "application/json")
			}
		})
	}},
	{"REQ-ERR-015", "a media type with a charset answers 415", refuse(func(r *http.Request) bool {
		return strings.Contains(r.Header.Get("Content-Type"), "charset")
	}, http.StatusUnsupportedMediaType, gen.ProblemCodeUnsupportedMediaType)},
	{"REQ-ERR-016", "a createSession without an agent makes the server fail", recode(isOp("createSession"), gen.ProblemCodeInvalidRequest, http.StatusInternalServerError, gen.ProblemCodeInternal)},
	{"REQ-ERR-018", "problem types are relative paths", problemField(func(_ *http.Request, m map[string]any) {
		m["type"] = "/problems/" + fmt.Sprint(m["code"])
	})},
	{"REQ-ERR-019", "the problem's status differs from the HTTP status", problemField(func(_ *http.Request, m map[string]any) { m["status"] = 418 })},
	{"REQ-ERR-020", "a problem's instance is the full URL", problemField(func(_ *http.Request, m map[string]any) {
		if s, ok := m["instance"].(string); ok {
			m["instance"] = "https://api.example.test" + s
		}
	})},
	{"REQ-ERR-021", "field errors locate fields by JSON pointer", problemField(func(_ *http.Request, m map[string]any) {
		errs, _ := m["errors"].([]any)
		for _, e := range errs {
			if fe, ok := e.(map[string]any); ok {
				loc, _ := fe["location"].(string)
				_, rest, _ := strings.Cut(loc, ".")
				fe["location"] = "/" + strings.ReplaceAll(rest, ".", "/")
			}
		}
	})},

	// --- service and capabilities
	{"REQ-SVC-001", "getHealth refuses an unknown token", refuse(func(r *http.Request) bool {
		return isOp("getHealth")(r) && r.Header.Get("Authorization") != ""
	}, http.StatusUnauthorized, gen.ProblemCodeUnauthorized)},
	{"REQ-SVC-002", "getHealth's time runs a minute ahead", respJSON(isOp("getHealth"), func(_ *http.Request, m map[string]any) { shift(m, "time", "1m") })},
	{"REQ-CAP-001", "getCapabilities leaves features.children out", capsField(func(m map[string]any) {
		if f, ok := m["features"].(map[string]any); ok {
			delete(f, "children")
		}
	})},
	{"REQ-CAP-002", "getCapabilities lists an agent that does not exist", capsField(func(m map[string]any) {
		agents, _ := m["agents"].([]any)
		m["agents"] = append(agents, map[string]any{"name": "ghost", "kind": "model", "description": "not really there"})
	})},
	{"REQ-CAP-003", "api_version is the contract's version, not the path's", capsField(func(m map[string]any) { m["api_version"] = "1.1.0" })},
	{"REQ-CAP-004", "busy_policies leaves reject out", capsField(func(m map[string]any) {
		if f, ok := m["features"].(map[string]any); ok {
			f["busy_policies"] = []any{"enqueue", "interrupt"}
		}
	})},
	{"REQ-CAP-005", "default_page_size is above max_page_size", capsField(func(m map[string]any) {
		if l, ok := m["limits"].(map[string]any); ok {
			l["default_page_size"] = 200
		}
	})},
	{"REQ-CAP-006", "a JSON body of exactly max_body_bytes is refused", func(h http.Handler, tg *target) http.Handler {
		limit := int64(tg.cur.Load().Config().MaxBodyBytes)
		return refuse(func(r *http.Request) bool {
			return r.ContentLength >= limit && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		}, http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge)(h, tg)
	}},
	{"REQ-CAP-007", "max_file_bytes is declared one byte below the real limit", capsField(func(m map[string]any) {
		if l, ok := m["limits"].(map[string]any); ok {
			l["max_file_bytes"] = num(l["max_file_bytes"]) - 1
		}
	})},
	{"REQ-CAP-008", "a list without limit holds 10 items", reqQuery(isOp("listSessions", "listTurns", "listEvents", "listLogEntries", "listArtifacts", "listChildren"), func(q url.Values) {
		if q.Get("limit") == "" {
			q.Set("limit", "10")
		}
	})},
	{"REQ-CAP-009", "limit=100 is refused", refuse(func(r *http.Request) bool { return r.URL.Query().Get("limit") == "100" }, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)},

	// --- sessions
	{"REQ-SESS-001", "a new session is answered paused", respJSON(isOp("createSession"), func(_ *http.Request, m map[string]any) { m["status"] = "paused" })},
	{"REQ-SESS-002", "an unknown agent falls back to echo", reqJSON(isOp("createSession"), func(m map[string]any) {
		if a, ok := m["agent"].(string); ok && a != "echo" && a != "scripted" && a != "fixed" && len(a) <= 128 {
			m["agent"] = "echo"
		}
	})},
	{"REQ-SESS-003", "a body sent again without a key answers the first session again", func(h http.Handler, tg *target) http.Handler {
		var seen keyedOnce
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isOp("createSession")(r) || r.Header.Get("Idempotency-Key") != "" {
				h.ServeHTTP(w, r)
				return
			}
			body := r.Header.Get("Authorization") + string(readBody(r))
			if prev, ok := seen.get(body); ok {
				a := &answer{status: http.StatusCreated, header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {requestIDFor(r)}}, body: []byte(prev)}
				a.send(w)
				return
			}
			a := record(h, r)
			if a.status == http.StatusCreated {
				seen.put(body, string(a.body))
			}
			a.send(w)
		})
	}},
	{"REQ-SESS-004", "listSessions ignores status", reqQuery(isOp("listSessions"), func(q url.Values) { q.Del("status") })},
	{"REQ-SESS-005", "getSession answers a status the session does not have", respJSON(isOp("getSession"), func(_ *http.Request, m map[string]any) {
		if m["status"] == "active" {
			m["status"] = "open"
		}
	})},
	{"REQ-SESS-006", "closeSession says already_closed on the first close", respJSON(isOp("closeSession"), func(_ *http.Request, m map[string]any) { m["already_closed"] = true })},
	{"REQ-SESS-007", "a turn the close cancelled is reported as ended normally", resultField(func(m map[string]any) {
		if m["cancelled_by"] == "session_closed" {
			m["stop_reason"] = "end_turn"
			delete(m, "cancelled_by")
		}
	})},
	{"REQ-SESS-008", "closing a closed session is a conflict", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isOp("closeSession")(r) {
				var s gen.Session
				if internal(h, http.MethodGet, r.URL.Path, r.Header.Get("Authorization"), nil, &s) == http.StatusOK &&
					(s.Status == gen.SessionStatusCompleted || s.Status == gen.SessionStatusFailed) {
					problemAnswer(r, http.StatusConflict, gen.ProblemCodeInvalidTransition).send(w)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-SESS-009", "a closed session's turns are no longer listed", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("listTurns"), func(r *http.Request, a *answer) {
			var s gen.Session
			if internal(h, http.MethodGet, sessionOf(r), r.Header.Get("Authorization"), nil, &s) == http.StatusOK && s.Status == gen.SessionStatusCompleted {
				a.body = editJSON(a.body, func(m map[string]any) { m["items"] = []any{} })
			}
		})
	}},
	{"REQ-SESS-010", "a session without a plan has plan_slug \"\"", sessionField(func(s map[string]any) {
		if _, ok := s["plan_slug"]; !ok {
			s["plan_slug"] = ""
		}
	})},
	{"REQ-SESS-011", "a new session is answered with the previous new session's id", func(h http.Handler, tg *target) http.Handler {
		var mu sync.Mutex
		last := map[string]string{}
		return rewrite(h, isOp("createSession"), func(r *http.Request, a *answer) {
			if a.status != http.StatusCreated {
				return
			}
			a.body = editJSON(a.body, func(m map[string]any) {
				mu.Lock()
				defer mu.Unlock()
				plan, _ := m["plan_slug"].(string)
				id, _ := m["session_id"].(string)
				if prev, ok := last[plan]; ok && plan != "" {
					m["session_id"] = prev
				}
				last[plan] = id
			})
		})
	}},
	{"REQ-SESS-012", "meta is emptied once a session has turns", sessionField(func(s map[string]any) {
		if num(s["turn_count"]) > 0 {
			s["meta"] = map[string]any{}
		}
	})},
	{"REQ-SESS-013", "children are answered with depth 0", sessionField(func(s map[string]any) {
		if _, ok := s["parent_session_id"]; ok {
			s["depth"] = 0
		}
	})},
	{"REQ-SESS-014", "context_summary counts the turns by itself", sessionField(func(s map[string]any) {
		if n := num(s["turn_count"]); n > 0 {
			if c, ok := s["context_summary"].(map[string]any); ok {
				c["turns_seen"] = n
			}
		}
	})},
	{"REQ-SESS-015", "turn_count stays 0", respJSON(isOp("getSession"), func(_ *http.Request, m map[string]any) { m["turn_count"] = 0 })},
	{"REQ-SESS-016", "action_count counts each entry twice", sessionField(func(s map[string]any) { s["action_count"] = 2 * num(s["action_count"]) })},
	{"REQ-SESS-017", "artifact_count is one too many", sessionField(func(s map[string]any) {
		if n := num(s["artifact_count"]); n > 0 {
			s["artifact_count"] = n + 1
		}
	})},
	{"REQ-SESS-018", "last_event_seq lags one event behind", sessionField(func(s map[string]any) {
		if n := num(s["last_event_seq"]); n > 0 {
			s["last_event_seq"] = n - 1
		}
	})},
	{"REQ-SESS-019", "created_at is an hour early", sessionField(func(s map[string]any) { shift(s, "created_at", "-1h") })},
	{"REQ-SESS-020", "updated_at never moves", sessionField(func(s map[string]any) { s["updated_at"] = s["created_at"] })},
	{"REQ-SESS-021", "last_turn_at is a millisecond after the turn was accepted", sessionField(func(s map[string]any) { shift(s, "last_turn_at", "1ms") })},
	{"REQ-SESS-022", "active sessions have an ended_at", sessionField(func(s map[string]any) {
		if s["status"] == "active" || s["status"] == "paused" {
			s["ended_at"] = s["created_at"]
		}
	})},
	{"REQ-SESS-023", "a continuing session has no continued_from", respJSON(isOp("continueSession"), func(_ *http.Request, m map[string]any) { delete(m, "continued_from") })},
	{"REQ-SESS-024", "createSession ignores context", dropMember(isOp("createSession"), "context")},

	// --- turns
	{"REQ-TURN-001", "a turn that ended normally says cancelled_by", resultField(func(m map[string]any) {
		if m["stop_reason"] == "end_turn" {
			m["cancelled_by"] = "cancel_request"
		}
	})},
	{"REQ-TURN-002", "a turn without Accept is streamed", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("sendTurn")(r) && r.Header.Get("Accept") == "" {
				r.Header.Set("Accept", "text/event-stream")
			}
		})
	}},
	{"REQ-TURN-003", "event streams are served as application/octet-stream", func(h http.Handler, tg *target) http.Handler {
		return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
			if strings.HasPrefix(hdr.Get("Content-Type"), "text/event-stream") {
				hdr.Set("Content-Type", "application/octet-stream")
			}
		})
	}},
	{"REQ-TURN-004", "a paused session takes turns", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isOp("sendTurn")(r) {
				h.ServeHTTP(w, r)
				return
			}
			body := readBody(r)
			a := record(h, r)
			if problemCode(a) == gen.ProblemCodeSessionPaused {
				internal(h, http.MethodPost, sessionOf(r)+"/resume", r.Header.Get("Authorization"), nil, nil)
				setBody(r, body)
				a = record(h, r)
			}
			a.send(w)
		})
	}},
	{"REQ-TURN-005", "a turn on an ended session answers 404", recode(isOp("sendTurn"), gen.ProblemCodeSessionEnded, http.StatusNotFound, gen.ProblemCodeNotFound)},
	{"REQ-TURN-006", "a sendTurn repeated while the first runs answers 409 idempotency_in_progress", func(h http.Handler, tg *target) http.Handler {
		var mu sync.Mutex
		running := map[string]bool{}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get("Idempotency-Key")
			if !isOp("sendTurn")(r) || key == "" {
				h.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			busy := running[key]
			running[key] = true
			mu.Unlock()
			if busy {
				a := problemAnswer(r, http.StatusConflict, gen.ProblemCodeIdempotencyInProgress)
				a.header.Set("Retry-After", "1")
				a.send(w)
				return
			}
			defer func() { mu.Lock(); delete(running, key); mu.Unlock() }()
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-TURN-007", "a streamed replay ignores Last-Event-ID", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("sendTurn")(r) && r.Header.Get("Idempotency-Key") != "" {
				r.Header.Del("Last-Event-ID")
			}
		})
	}},
	{"REQ-TURN-008", "listTurns items carry their events", respJSON(isOp("listTurns"), func(_ *http.Request, m map[string]any) {
		items, _ := m["items"].([]any)
		for _, it := range items {
			if t, ok := it.(map[string]any); ok {
				t["events"] = []any{}
			}
		}
	})},
	{"REQ-TURN-009", "getTurn leaves the events out", respJSON(isOp("getTurn"), func(_ *http.Request, m map[string]any) { delete(m, "events") })},
	{"REQ-TURN-010", "the default turn timeout is half the declared one", func(h http.Handler, tg *target) http.Handler {
		half := tg.cur.Load().Config().MaxTurnTimeout.Milliseconds() / 2
		return reqJSON(isOp("sendTurn"), func(m map[string]any) {
			if _, ok := m["timeout_ms"]; !ok {
				m["timeout_ms"] = half
			}
		})(h, tg)
	}},
	{"REQ-TURN-011", "a turn's busy_policy is always recorded as reject", turnField(func(t map[string]any) { t["busy_policy"] = "reject" })},
	{"REQ-TURN-012", "timeout_ms is ignored", dropMember(isOp("sendTurn"), "timeout_ms")},
	{"REQ-TURN-013", "an over-large timeout_ms is capped, not refused", func(h http.Handler, tg *target) http.Handler {
		limit := float64(tg.cur.Load().Config().MaxTurnTimeout.Milliseconds())
		return reqJSON(isOp("sendTurn"), func(m map[string]any) {
			if ms, ok := m["timeout_ms"].(float64); ok && ms > limit {
				m["timeout_ms"] = limit
			}
		})(h, tg)
	}},
	{"REQ-TURN-014", "a timed-out turn says it was cancelled by a cancel request", resultField(func(m map[string]any) {
		if m["cancelled_by"] == "timeout" {
			m["cancelled_by"] = "cancel_request"
		}
	})},
	{"REQ-TURN-015", "a TurnResult's first_seq is one too high", resultField(func(m map[string]any) {
		if n := num(m["first_seq"]); n > 0 {
			m["first_seq"] = n + 1
		}
	})},
	{"REQ-TURN-016", "duration_ms is in seconds", resultField(func(m map[string]any) { m["duration_ms"] = float64(int64(num(m["duration_ms"]) / 1000)) })},
	{"REQ-TURN-017", "a running turn already has a stop_reason", turnField(func(t map[string]any) {
		if t["status"] == "running" {
			t["stop_reason"] = "end_turn"
		}
	})},
	{"REQ-TURN-018", "sendTurn answers a turn_index one too high", resultField(func(m map[string]any) { m["turn_index"] = num(m["turn_index"]) + 1 })},
	{"REQ-TURN-019", "getTurn counts one event too many", respJSON(isOp("getTurn"), func(_ *http.Request, m map[string]any) {
		if n := num(m["event_count"]); n > 0 {
			m["event_count"] = n + 1
		}
	})},
	{"REQ-TURN-020", "a turn started a second before it was accepted", turnField(func(t map[string]any) {
		if c, ok := t["created_at"]; ok {
			t["started_at"] = c
			shift(t, "started_at", "-1s")
		}
	})},

	// --- events and streams
	{"REQ-EVT-002", "listEvents ignores turn_index", reqQuery(isOp("listEvents"), func(q url.Values) { q.Del("turn_index") })},
	{"REQ-EVT-003", "listEvents ignores after", reqQuery(isOp("listEvents"), func(q url.Values) {
		if a := q.Get("after"); a != "" && !strings.HasPrefix(a, "-") && len(a) < 16 {
			q.Del("after")
		}
	})},
	{"REQ-EVT-004", "events are dated an hour before their turn started", respJSON(isOp("getTurn"), func(_ *http.Request, m map[string]any) {
		events, _ := m["events"].([]any)
		for _, e := range events {
			if ev, ok := e.(map[string]any); ok {
				shift(ev, "created_at", "-1h")
			}
		}
	})},
	{"REQ-EVT-005", "the event log has a gap", respJSON(isOp("listEvents"), func(_ *http.Request, m map[string]any) {
		if items, ok := m["items"].([]any); ok && len(items) > 2 {
			m["items"] = append(items[:1], items[2:]...)
		}
	})},
	{"REQ-STRM-001", "a resumed stream opens with turn.accepted", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("streamTurn"), func(r *http.Request, a *answer) {
			editFrames(a, func(frames []sse.Frame) []sse.Frame {
				accepted := sse.Frame{Event: "turn.accepted", Retry: -1, Data: `{"session_id":"` + strings.TrimPrefix(sessionOf(r), "/v1/sessions/") + `","turn_index":1,"status":"completed"}`}
				return append([]sse.Frame{accepted}, frames...)
			})
		})
	}},
	{"REQ-STRM-002", "SSE ids are not increasing", streamFrames(func(_ *http.Request, frames []sse.Frame) []sse.Frame {
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
	})},
	{"REQ-STRM-003", "streams end without turn.completed", streamFrames(func(_ *http.Request, frames []sse.Frame) []sse.Frame {
		return slices.DeleteFunc(frames, func(f sse.Frame) bool { return f.Event == "turn.completed" })
	})},
	{"REQ-STRM-004", "streams use \\r\\n line ends", streamBytes(func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) })},
	{"REQ-STRM-005", "quiet streams carry no keep-alive comment", streamBytes(func(b []byte) []byte {
		var out []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if !strings.HasPrefix(l, ":") {
				out = append(out, l)
			}
		}
		return []byte(strings.Join(out, ""))
	})},
	{"REQ-STRM-006", "streams are buffered until the turn ends", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isStream, func(*http.Request, *answer) {})
	}},
	{"REQ-STRM-008", "a resume repeats events", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("streamTurn")(r) {
				r.Header.Del("Last-Event-ID")
				r.URL.RawQuery = ""
			}
		})
	}},
	{"REQ-STRM-009", "after wins over Last-Event-ID", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("streamTurn")(r) && r.URL.Query().Get("after") != "" {
				r.Header.Del("Last-Event-ID")
			}
		})
	}},
	{"REQ-STRM-010", "Last-Event-ID: 0 answers 400", refuse(func(r *http.Request) bool {
		return isOp("streamTurn")(r) && r.Header.Get("Last-Event-ID") == "0"
	}, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)},
	{"REQ-STRM-011", "turn.accepted says running for a queued turn", streamFrames(func(_ *http.Request, frames []sse.Frame) []sse.Frame {
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
	})},
	{"REQ-STRM-012", "a replayed stream's turn.accepted says running", streamFrames(func(_ *http.Request, frames []sse.Frame) []sse.Frame {
		for i, f := range frames {
			if f.Event == "turn.accepted" {
				frames[i].Data = strings.Replace(f.Data, `"status":"completed"`, `"status":"running"`, 1)
			}
		}
		return frames
	})},

	// --- busy policy and cancel
	{"REQ-BUSY-001", "an enqueued turn reports it started when it was sent", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var b struct {
				BusyPolicy string `json:"busy_policy"`
			}
			if !isJSONTurn(r) || json.Unmarshal(readBody(r), &b) != nil || b.BusyPolicy != "enqueue" {
				h.ServeHTTP(w, r)
				return
			}
			sent := time.Now().UTC().Format(time.RFC3339Nano)
			a := record(h, r)
			a.body = editJSON(a.body, func(m map[string]any) { m["started_at"] = sent })
			a.send(w)
		})
	}},
	{"REQ-BUSY-002", "busy policy reject is ignored (turns queue)", reqJSON(isOp("sendTurn"), func(m map[string]any) {
		if p, ok := m["busy_policy"]; !ok || p == "reject" {
			m["busy_policy"] = "enqueue"
		}
	})},
	{"REQ-BUSY-003", "busy policy enqueue interrupts", reqJSON(isOp("sendTurn"), func(m map[string]any) {
		if m["busy_policy"] == "enqueue" {
			m["busy_policy"] = "interrupt"
		}
	})},
	{"REQ-BUSY-004", "busy policy interrupt only queues", reqJSON(isOp("sendTurn"), func(m map[string]any) {
		if m["busy_policy"] == "interrupt" {
			m["busy_policy"] = "enqueue"
		}
	})},
	{"REQ-BUSY-005", "cancelTurn says it cancelled nothing when it did", respJSON(isOp("cancelTurn"), func(_ *http.Request, m map[string]any) {
		m["cancelled"] = false
		delete(m, "turn_index")
	})},
	{"REQ-BUSY-006", "cancel with nothing running is a conflict", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("cancelTurn"), func(r *http.Request, a *answer) {
			var c gen.CancelTurnResult
			if a.status == http.StatusOK && json.Unmarshal(a.body, &c) == nil && !c.Cancelled {
				a.problem(http.StatusConflict, gen.ProblemCodeInvalidTransition)
			}
		})
	}},
	{"REQ-BUSY-007", "after a cancel, the queued turns report they were cancelled too", func(h http.Handler, tg *target) http.Handler {
		var mu sync.Mutex
		cancelled := map[string]bool{}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case isOp("cancelTurn")(r):
				mu.Lock()
				cancelled[sessionOf(r)] = true
				mu.Unlock()
				h.ServeHTTP(w, r)
			case isJSONTurn(r):
				a := record(h, r)
				mu.Lock()
				after := cancelled[sessionOf(r)]
				mu.Unlock()
				if after && a.status == http.StatusOK {
					a.body = editJSON(a.body, func(m map[string]any) {
						m["stop_reason"], m["cancelled_by"] = "cancelled", "cancel_request"
					})
				}
				a.send(w)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}},
	{"REQ-BUSY-008", "max_queued_turns is declared one below the real cap", capsField(func(m map[string]any) {
		if l, ok := m["limits"].(map[string]any); ok {
			l["max_queued_turns"] = num(l["max_queued_turns"]) - 1
		}
	})},
	{"REQ-ACT-001", "activity is always idle", respJSON(isOp("getSession"), func(_ *http.Request, m map[string]any) { m["activity"] = "idle" })},
	{"REQ-ACT-002", "a quiet turn is never stalled", sessionField(func(s map[string]any) {
		if s["activity"] == "stalled" {
			s["activity"] = "running"
		}
	})},

	// --- lifecycle
	{"REQ-LIFE-001", "handoff does not pause the session", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("handoffSession"), func(r *http.Request, a *answer) {
			if a.status == http.StatusOK {
				internal(h, http.MethodPost, sessionOf(r)+"/resume", r.Header.Get("Authorization"), nil, nil)
				a.body = editJSON(a.body, func(m map[string]any) { m["status"] = "active" })
			}
		})
	}},
	{"REQ-LIFE-002", "a forbidden transition answers 400", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("pauseSession", "resumeSession", "endSession", "handoffSession"), func(r *http.Request, a *answer) {
			if problemCode(a) == gen.ProblemCodeInvalidTransition {
				a.problem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}
		})
	}},
	{"REQ-LIFE-003", "a turn ended by a restart has no final error event", respJSON(isOp("getTurn"), func(_ *http.Request, m map[string]any) {
		if events, ok := m["events"].([]any); ok && m["stop_reason"] == "error" && len(events) > 0 {
			m["events"] = events[:len(events)-1]
		}
	})},
	{"REQ-LIFE-004", "pausing cancels the running turn", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("pauseSession")(r) {
				internal(h, http.MethodPost, sessionOf(r)+"/cancel", r.Header.Get("Authorization"), nil, nil)
			}
		})
	}},
	{"REQ-LIFE-005", "endSession drops the summary", dropMember(isOp("endSession"), "summary")},
	{"REQ-LIFE-006", "endSession cancels the running turn as a cancel request", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("endSession")(r) {
				internal(h, http.MethodPost, sessionOf(r)+"/cancel", r.Header.Get("Authorization"), nil, nil)
			}
		})
	}},
	{"REQ-LIFE-007", "a continuing session does not inherit the handoff notes", respJSON(isOp("continueSession"), func(_ *http.Request, m map[string]any) { delete(m, "handoff") })},
	{"REQ-LIFE-008", "continueSession touches the original's context", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("continueSession"), func(r *http.Request, a *answer) {
			if a.status == http.StatusCreated {
				internal(h, http.MethodPatch, sessionOf(r)+"/context", r.Header.Get("Authorization"), map[string]any{"continued": true}, nil)
			}
		})
	}},
	{"REQ-LIFE-009", "continueSession ignores meta", dropMember(isOp("continueSession"), "meta")},
	{"REQ-LIFE-010", "handoffSession drops the blockers", dropMember(isOp("handoffSession"), "blockers")},
	{"REQ-LIFE-011", "getHandoffContext lists the recent actions oldest first", respJSON(isOp("getHandoffContext"), func(_ *http.Request, m map[string]any) {
		if items, ok := m["recent_actions"].([]any); ok {
			slices.Reverse(items)
		}
	})},
	{"REQ-LIFE-012", "getHandoffContext holds one artifact more than 100", respJSON(isOp("getHandoffContext"), func(_ *http.Request, m map[string]any) {
		if items, ok := m["artifacts"].([]any); ok && len(items) == 100 {
			m["artifacts"] = append(items, items[99])
		}
	})},
	{"REQ-LIFE-013", "addLogEntry drops data", dropMember(isOp("addLogEntry"), "data")},
	{"REQ-LIFE-014", "an ended session takes work-log entries", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isOp("addLogEntry")(r) {
				h.ServeHTTP(w, r)
				return
			}
			body := readBody(r)
			a := record(h, r)
			if problemCode(a) == gen.ProblemCodeSessionEnded {
				var e map[string]any
				_ = json.Unmarshal(body, &e)
				e["id"], e["session_id"], e["created_at"] = "log_defect", strings.TrimPrefix(sessionOf(r), "/v1/sessions/"), time.Now().UTC().Format(time.RFC3339Nano)
				if _, ok := e["data"]; !ok {
					e["data"] = map[string]any{}
				}
				a.status, a.body = http.StatusCreated, mustJSON(e)
				a.header.Set("Content-Type", "application/json")
			}
			a.send(w)
		})
	}},
	{"REQ-LIFE-015", "listLogEntries ignores type", reqQuery(isOp("listLogEntries"), func(q url.Values) { q.Del("type") })},
	{"REQ-LIFE-016", "addArtifact drops metadata", dropMember(isOp("addArtifact"), "metadata")},
	{"REQ-LIFE-017", "listArtifacts ignores action", reqQuery(isOp("listArtifacts"), func(q url.Values) { q.Del("action") })},
	{"REQ-LIFE-018", "updateContext replaces instead of merging", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isOp("updateContext")(r) {
				h.ServeHTTP(w, r)
				return
			}
			// Clear the summary first, so the patch replaces it whole.
			var s gen.Session
			a := r.Header.Get("Authorization")
			internal(h, http.MethodGet, sessionOf(r), a, nil, &s)
			clear := map[string]any{}
			for k := range s.ContextSummary {
				clear[k] = nil
			}
			internal(h, http.MethodPatch, r.URL.Path, a, clear, nil)
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-LIFE-019", "getReplayContext swaps decisions and errors", respJSON(isOp("getReplayContext"), func(_ *http.Request, m map[string]any) {
		m["decisions"], m["errors"] = m["errors"], m["decisions"]
	})},
	{"REQ-LIFE-020", "a replayed session's context has no replay member", respJSON(isOp("replaySession"), func(_ *http.Request, m map[string]any) {
		if c, ok := m["context_summary"].(map[string]any); ok {
			delete(c, "replay")
		}
	})},
	{"REQ-LIFE-021", "replaySession ignores meta", dropMember(isOp("replaySession"), "meta")},
	{"REQ-LIFE-022", "handoff notes are dated when the session was created", respJSON(isOp("handoffSession"), func(_ *http.Request, m map[string]any) {
		if h, ok := m["handoff"].(map[string]any); ok {
			h["created_at"] = m["created_at"]
		}
	})},
	{"REQ-LIFE-023", "every work-log entry is answered with the same id", respJSON(isOp("addLogEntry"), func(_ *http.Request, m map[string]any) { m["id"] = "log_always_the_same" })},
	{"REQ-LIFE-024", "getReplayContext leaves the plan out", respJSON(isOp("getReplayContext"), func(_ *http.Request, m map[string]any) { delete(m, "plan_slug") })},

	// --- children
	{"REQ-CHLD-001", "closing a parent ends its children as failed", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if !isOp("closeSession")(r) {
				return
			}
			var kids gen.SessionList
			a := r.Header.Get("Authorization")
			internal(h, http.MethodGet, r.URL.Path+"/children?status=active", a, nil, &kids)
			for _, k := range kids.Items {
				internal(h, http.MethodPost, "/v1/sessions/"+k.SessionID+"/end", a, map[string]any{"status": "failed"}, nil)
			}
		})
	}},
	{"REQ-CHLD-002", "spawnChild ignores context", dropMember(isOp("spawnChild"), "context")},
	{"REQ-CHLD-003", "a paused parent refuses children as ended", recode(isOp("spawnChild"), gen.ProblemCodeSessionPaused, http.StatusConflict, gen.ProblemCodeSessionEnded)},
	{"REQ-CHLD-004", "listChildren ignores status", reqQuery(isOp("listChildren"), func(q url.Values) { q.Del("status") })},
	{"REQ-CHLD-005", "the children cap is not enforced", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isOp("spawnChild")(r) {
				h.ServeHTTP(w, r)
				return
			}
			body := readBody(r)
			a := record(h, r)
			var p gen.Problem
			if a.status == http.StatusConflict && json.Unmarshal(a.body, &p) == nil && p.Code == gen.ProblemCodeSpawnLimitExceeded && strings.Contains(p.Detail, "children") {
				// Over the cap: make an ordinary session instead.
				req := httptest.NewRequest(http.MethodPost, "/v1/sessions", bytes.NewReader(body))
				req.Header = r.Header.Clone()
				a = record(h, req)
			}
			a.send(w)
		})
	}},
	{"REQ-CHLD-006", "max_depth is declared one above the real cap", capsField(func(m map[string]any) {
		if l, ok := m["limits"].(map[string]any); ok {
			l["max_depth"] = num(l["max_depth"]) + 1
		}
	})},

	// --- idempotency
	{"REQ-IDEM-001", "an idempotent replay executes again", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) { r.Header.Del("Idempotency-Key") })
	}},
	{"REQ-IDEM-002", "a replay answers the session as it is now", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("createSession", "pauseSession", "updateContext"), func(r *http.Request, a *answer) {
			if a.header.Get("Idempotent-Replayed") != "true" {
				return
			}
			var id struct {
				SessionID string `json:"session_id"`
			}
			_ = json.Unmarshal(a.body, &id)
			req := httptest.NewRequest(http.MethodGet, "/v1/sessions/"+id.SessionID, nil)
			req.Header.Set("Authorization", r.Header.Get("Authorization"))
			if now := record(h, req); now.status == http.StatusOK {
				a.body = now.body
			}
		})
	}},
	{"REQ-IDEM-003", "replays lack Idempotent-Replayed", dropHeader("Idempotent-Replayed", func(*http.Request, int) bool { return true })},
	{"REQ-IDEM-004", "idempotency records ignore the path", func(h http.Handler, tg *target) http.Handler {
		var mu sync.Mutex
		seen := map[string]*answer{} // by key and body only
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" || !isOp("addLogEntry")(r) {
				h.ServeHTTP(w, r)
				return
			}
			id := r.Header.Get("Authorization") + "|" + key + "|" + string(readBody(r))
			mu.Lock()
			a := seen[id]
			mu.Unlock()
			if a == nil {
				a = record(h, r)
				mu.Lock()
				seen[id] = a
				mu.Unlock()
			}
			a.send(w)
		})
	}},
	{"REQ-IDEM-005", "a key used on one operation is refused on another", func(h http.Handler, tg *target) http.Handler {
		var ops keyedOnce
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" || (r.Method != http.MethodPost && r.Method != http.MethodPatch) {
				h.ServeHTTP(w, r)
				return
			}
			route := r.Method + " " + strings.TrimPrefix(r.URL.Path, sessionOf(r))
			if isOp("createSession")(r) {
				route = "createSession"
			}
			ops.put(r.Header.Get("Authorization")+key, route)
			if first, _ := ops.get(r.Header.Get("Authorization") + key); first != route {
				problemAnswer(r, http.StatusUnprocessableEntity, gen.ProblemCodeIdempotencyKeyReused).send(w)
				return
			}
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-IDEM-006", "a request with a key still in progress answers 409 without Retry-After", func(h http.Handler, tg *target) http.Handler {
		var mu sync.Mutex
		inFlight := map[string]bool{}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" || !isOp("createSession")(r) {
				h.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			busy := inFlight[key]
			inFlight[key] = true
			mu.Unlock()
			if busy {
				problemAnswer(r, http.StatusConflict, gen.ProblemCodeIdempotencyInProgress).send(w)
				return
			}
			time.Sleep(100 * time.Millisecond) // a slow store keeps the key in progress
			h.ServeHTTP(w, r)
			mu.Lock()
			delete(inFlight, key)
			mu.Unlock()
		})
	}},
	{"REQ-IDEM-007", "idempotency keys are forgotten by a restart", func(h http.Handler, tg *target) http.Handler {
		var seen keyedOnce
		return editRequest(h, func(r *http.Request) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" {
				return
			}
			epoch := strconv.FormatInt(tg.Restarts.Load(), 10)
			seen.put(key, epoch)
			if first, _ := seen.get(key); first != epoch {
				r.Header.Del("Idempotency-Key")
			}
		})
	}},
	{"REQ-IDEM-008", "a reordered body counts as another request", func(h http.Handler, tg *target) http.Handler {
		var first keyedOnce
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" || !isOp("createSession")(r) {
				h.ServeHTTP(w, r)
				return
			}
			body := string(readBody(r))
			first.put(key, body)
			if b, _ := first.get(key); b != body {
				problemAnswer(r, http.StatusUnprocessableEntity, gen.ProblemCodeIdempotencyKeyReused).send(w)
				return
			}
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-IDEM-010", "a key of 255 characters is refused", refuse(func(r *http.Request) bool {
		return len(r.Header.Get("Idempotency-Key")) == 255
	}, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)},

	// --- pagination
	{"REQ-PAGE-001", "lists drop next_cursor", respJSON(isOp("listSessions", "listTurns", "listEvents", "listLogEntries", "listArtifacts", "listChildren"),
		func(_ *http.Request, m map[string]any) { delete(m, "next_cursor") })},
	{"REQ-PAGE-002", "pages hold one item less than limit", reqQuery(isOp("listSessions", "listTurns", "listEvents", "listLogEntries", "listArtifacts", "listChildren"), func(q url.Values) {
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 1 && n <= 100 {
			q.Set("limit", strconv.Itoa(n-1))
		}
	})},
	{"REQ-PAGE-003", "lists are newest first", respJSON(isOp("listSessions", "listTurns", "listEvents", "listLogEntries", "listArtifacts", "listChildren"),
		func(_ *http.Request, m map[string]any) {
			if items, ok := m["items"].([]any); ok {
				slices.Reverse(items)
			}
		})},
	{"REQ-PAGE-004", "limit=0 is taken as no limit", reqQuery(always, func(q url.Values) {
		if q.Get("limit") == "0" {
			q.Del("limit")
		}
	})},
	{"REQ-PAGE-005", "cursors are padded to 600 characters", func(h http.Handler, tg *target) http.Handler {
		pad := strings.Repeat("_", 600)
		in := editRequest(h, func(r *http.Request) {
			q := r.URL.Query()
			if c := q.Get("cursor"); strings.HasSuffix(c, pad) {
				q.Set("cursor", strings.TrimSuffix(c, pad))
				r.URL.RawQuery = q.Encode()
			}
		})
		return respJSON(always, func(_ *http.Request, m map[string]any) {
			if c, ok := m["next_cursor"].(string); ok {
				m["next_cursor"] = c + pad
			}
		})(in, tg)
	}},

	// --- files
	{"REQ-FILE-001", "sha256 is the digest of the filename", respJSON(isOp("uploadFile"), func(_ *http.Request, m map[string]any) {
		m["sha256"] = fmt.Sprintf("%064x", len(fmt.Sprint(m["filename"])))
	})},
	{"REQ-FILE-002", "an upload without a file part is accepted", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("uploadFile"), func(r *http.Request, a *answer) {
			if a.status == http.StatusBadRequest {
				a.status, a.body = http.StatusCreated, []byte(`{"file_token":"file_defect","filename":"none","content_type":"text/plain","size_bytes":0,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","created_at":"`+time.Now().UTC().Format(time.RFC3339Nano)+`"}`)
				a.header.Set("Content-Type", "application/json")
			}
		})
	}},
	{"REQ-FILE-003", "getFile answers another content type", respJSON(isOp("getFile"), func(_ *http.Request, m map[string]any) { m["content_type"] = "application/octet-stream" })},
	{"REQ-FILE-004", "a turn drops its files", dropMember(isOp("sendTurn"), "files")},
	{"REQ-FILE-005", "files are dated a day early", respJSON(isOp("uploadFile", "getFile"), func(_ *http.Request, m map[string]any) { shift(m, "created_at", "-24h") })},

	// --- test agents
	{"REQ-AGT-001", "the echo agent's text is not the prompt", resultField(func(m map[string]any) {
		events, _ := m["events"].([]any)
		for _, e := range events {
			if ev, ok := e.(map[string]any); ok && ev["type"] == "text" {
				ev["content"] = strings.ToUpper(fmt.Sprint(ev["content"]))
			}
		}
	})},
	{"REQ-AGT-002", "a script's usage is not reported", resultField(func(m map[string]any) { delete(m, "usage") })},
	{"REQ-AGT-003", "an invalid script ends the turn end_turn", resultField(func(m map[string]any) {
		if m["stop_reason"] == "error" {
			m["stop_reason"] = "end_turn"
		}
	})},
	{"REQ-AGT-004", "a cancel is acknowledged but the turn runs on through its delay", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isOp("cancelTurn")(r) {
				h.ServeHTTP(w, r)
				return
			}
			var tr gen.TurnList
			internal(h, http.MethodGet, sessionOf(r)+"/turns?limit=100", r.Header.Get("Authorization"), nil, &tr)
			for _, t := range tr.Items {
				if t.Status == gen.TurnStatusRunning {
					a := &answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {requestIDFor(r)}},
						body: mustJSON(gen.CancelTurnResult{SessionID: t.SessionID, Cancelled: true, TurnIndex: t.TurnIndex})}
					a.send(w)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-AGT-005", "the fixed agent's script in getCapabilities is not the one it plays", capsField(func(m map[string]any) {
		agents, _ := m["agents"].([]any)
		for _, a := range agents {
			if ag, ok := a.(map[string]any); ok && ag["name"] == "fixed" {
				ag["script"] = map[string]any{"steps": []any{map[string]any{"event": map[string]any{"type": "text", "content": "advertised, never played"}}}}
			}
		}
	})},
	{"REQ-AGT-006", "tool calls lose their args", resultField(func(m map[string]any) {
		events, _ := m["events"].([]any)
		for _, e := range events {
			if ev, ok := e.(map[string]any); ok {
				delete(ev, "args")
			}
		}
	})},

	// --- rate limits
	{"REQ-RATE-002", "the first createSession answers 429 without Retry-After", func(h http.Handler, tg *target) http.Handler {
		var once sync.Once
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limited := false
			if isOp("createSession")(r) {
				once.Do(func() { limited = true })
			}
			if limited {
				problemAnswer(r, http.StatusTooManyRequests, gen.ProblemCodeRateLimited).send(w)
				return
			}
			h.ServeHTTP(w, r)
		})
	}},
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// runSummary is the part of a Result the self-test asserts on.
type runSummary struct {
	outcomes   map[string]string // check ID → outcome (with its message when not pass)
	caught     []string          // checks that did not pass at their level
	errors     []string          // checks the suite could not run
	reqOutcome string            // the requirement's outcome
	advertised []string          // the features flagged as false advertising
	took       time.Duration
}

// runDefect starts a broken server and runs the checks of its requirement.
func runDefect(ctx context.Context, d defect, checks []string) (runSummary, error) {
	tg, err := startTarget(d.inject, false)
	if err != nil {
		return runSummary{}, err
	}
	defer tg.Close()
	cfg := tg.config()
	cfg.Include = checks
	start := time.Now()
	res, err := conformance.Run(ctx, cfg)
	if err != nil {
		return runSummary{}, err
	}
	s := runSummary{outcomes: map[string]string{}, took: time.Since(start)}
	for _, c := range res.Checks {
		s.outcomes[c.ID] = string(c.Outcome)
		if c.Outcome != "pass" {
			s.outcomes[c.ID] += ": " + c.Message
		}
		want := "fail"
		if c.Level != "MUST" {
			want = "warn"
		}
		if string(c.Outcome) == want {
			s.caught = append(s.caught, c.ID)
		}
		if c.Outcome == "error" {
			s.errors = append(s.errors, c.ID+": "+c.Message)
		}
	}
	for _, r := range res.Requirements {
		if r.ID == d.req {
			s.reqOutcome = string(r.Outcome)
		}
	}
	for _, fa := range res.Compliance.FalseAdvertising {
		s.advertised = append(s.advertised, fa.Feature)
	}
	return s, nil
}
