package selftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// The defects of contract 1.2's requirements: permission requests, queue
// control, steering, the session-wide stream and lifecycle events, turn
// meta, end reasons, agent options and hardening.

func init() { defects = append(defects, defects12...) }

// isSessionStream matches streamSession requests.
func isSessionStream(r *http.Request) bool { return isOp("streamSession")(r) }

// isTurnStream matches the requests answered with a turn's event stream.
func isTurnStream(r *http.Request) bool { return isStream(r) }

// frameEditor rewrites one frame of a live stream into the frames to send
// instead; stop ends what the client gets there.
type frameEditor func(f sse.Frame) (out []sse.Frame, stop bool)

// liveFrames edits the frames of the event streams match selects as they
// are sent, so the streams stay live (streamFrames buffers a stream until
// it ends, which a session's stream or a waiting turn's never does on its
// own). Comment lines pass through when keepComments says so, just before
// the next frame.
func liveFrames(match func(*http.Request) bool, newEditor func(r *http.Request) frameEditor, keepComments bool) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				h.ServeHTTP(w, r)
				return
			}
			lw := &liveWriter{ResponseWriter: w, edit: newEditor(r), keep: keepComments}
			h.ServeHTTP(lw, r)
			lw.finish()
		})
	}
}

type liveWriter struct {
	http.ResponseWriter
	edit   frameEditor
	keep   bool
	stream bool
	wrote  bool
	pw     *io.PipeWriter
	done   chan struct{}
}

func (w *liveWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code == http.StatusOK && strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		w.stream = true
		pr, pw := io.Pipe()
		w.pw, w.done = pw, make(chan struct{})
		go w.pump(pr)
	}
	w.ResponseWriter.WriteHeader(code)
	if w.stream {
		// The client sees the stream open before its first frame.
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// pump reads what the server writes and sends the edited frames on.
func (w *liveWriter) pump(pr *io.PipeReader) {
	defer close(w.done)
	rd := sse.NewReader(pr)
	flush := http.NewResponseController(w.ResponseWriter).Flush
	comments, stopped := 0, false
	for {
		f, err := rd.Next()
		if err != nil {
			_, _ = io.Copy(io.Discard, pr)
			return
		}
		if stopped {
			continue
		}
		if w.keep && rd.Comments() > comments {
			_ = sse.WriteComment(w.ResponseWriter, "keep-alive")
		}
		comments = rd.Comments()
		out, stop := w.edit(f)
		for _, fr := range out {
			_ = sse.Write(w.ResponseWriter, fr)
		}
		_ = flush()
		stopped = stop
	}
}

func (w *liveWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.stream {
		return w.pw.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *liveWriter) Flush() {
	if !w.stream {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *liveWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *liveWriter) finish() {
	if w.stream {
		_ = w.pw.Close()
		<-w.done
	}
}

// perFrame is a stateless frameEditor.
func perFrame(f func(fr sse.Frame) []sse.Frame) func(*http.Request) frameEditor {
	return func(*http.Request) frameEditor {
		return func(fr sse.Frame) ([]sse.Frame, bool) { return f(fr), false }
	}
}

// editData edits a frame's JSON data.
func editData(fr sse.Frame, f func(m map[string]any)) sse.Frame {
	fr.Data = string(editJSON([]byte(fr.Data), f))
	return fr
}

// sessionAgent is the agent of the session a request addresses.
func sessionAgent(h http.Handler, r *http.Request) gen.Session {
	var s gen.Session
	internal(h, http.MethodGet, sessionOf(r), r.Header.Get("Authorization"), nil, &s)
	return s
}

// permissionOf is the state of the permission request a request addresses.
func permissionOf(h http.Handler, r *http.Request) (gen.PermissionRequest, bool) {
	var list gen.PermissionRequestList
	internal(h, http.MethodGet, sessionOf(r)+"/permissions?limit=100", r.Header.Get("Authorization"), nil, &list)
	id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	for _, p := range list.Items {
		if p.RequestID == id {
			return p, true
		}
	}
	return gen.PermissionRequest{}, false
}

// jsonAnswer is a 200 JSON answer made without the server.
func jsonAnswer(r *http.Request, v any) *answer {
	b, _ := json.Marshal(v)
	return &answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {requestIDFor(r)}}, body: b}
}

// editScript edits the AgentScript in a sendTurn's prompt.
func editScript(f func(step map[string]any)) injector {
	return reqJSON(isOp("sendTurn"), func(m map[string]any) {
		p, ok := m["prompt"].(string)
		if !ok {
			return
		}
		m["prompt"] = string(editJSON([]byte(p), func(s map[string]any) {
			steps, _ := s["steps"].([]any)
			for _, st := range steps {
				if step, ok := st.(map[string]any); ok {
					f(step)
				}
			}
		}))
	})
}

// listItems edits every item of a list answer.
func listItems(match func(*http.Request) bool, f func(r *http.Request, item map[string]any) bool) injector {
	return respJSON(match, func(r *http.Request, m map[string]any) {
		items, _ := m["items"].([]any)
		kept := []any{}
		for _, it := range items {
			if item, ok := it.(map[string]any); !ok || f(r, item) {
				kept = append(kept, it)
			}
		}
		m["items"] = kept
	})
}

var surrogateEscape = regexp.MustCompile(`\\u[dD][89abAB][0-9a-fA-F]{2}|\\u[dD][c-fC-F][0-9a-fA-F]{2}`)

var defects12 = []defect{
	// --- hardening
	{"REQ-AUTH-003", "the body is read before the token is checked", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if a := r.Header.Get("Authorization"); a != auth(0) && a != auth(1) {
				readBody(r)
			}
		})
	}},
	{"REQ-ERR-022", "invalid UTF-8 in a JSON body becomes U+FFFD", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				return
			}
			b := readBody(r)
			if !utf8.Valid(b) || surrogateEscape.Match(b) {
				setBody(r, surrogateEscape.ReplaceAll(bytes.ToValidUTF8(b, []byte("\uFFFD")), []byte(`\ufffd`)))
			}
		})
	}},
	{"REQ-ERR-023", "a createSession body that does not arrive is waited for without bound", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("createSession")(r) && r.Header.Get("Authorization") == auth(0) {
				readBody(r)
			}
		})
	}},

	// --- sessions and turns
	{"REQ-SESS-025", "agent_options the agent does not declare are ignored", reqJSON(isOp("createSession", "spawnChild", "continueSession", "replaySession"), func(m map[string]any) {
		if o, ok := m["agent_options"].(map[string]any); ok {
			for k := range o {
				if strings.HasPrefix(k, "cf_") {
					delete(o, k)
				}
			}
		}
	})},
	{"REQ-SESS-026", "queued_turns is always 0", sessionField(func(s map[string]any) { s["queued_turns"] = 0 })},
	{"REQ-SESS-027", "a closed session's end_reason says ended", sessionField(func(s map[string]any) {
		if s["end_reason"] == "closed" {
			s["end_reason"] = "ended"
		}
	})},
	{"REQ-SESS-028", "duration_ms is a second too long", sessionField(func(s map[string]any) {
		if d, ok := s["duration_ms"].(float64); ok {
			s["duration_ms"] = d + 1000
		}
	})},
	{"REQ-SESS-029", "agent_options drops what was given", sessionField(func(s map[string]any) { delete(s, "agent_options") })},
	{"REQ-TURN-021", "listTurns ignores status", reqQuery(isOp("listTurns"), func(q url.Values) { q.Del("status") })},
	{"REQ-TURN-022", "getTurn and listTurns drop the turn's meta", turnField(func(t map[string]any) { delete(t, "meta") })},
	{"REQ-LIFE-025", "listLogEntries ignores order", reqQuery(isOp("listLogEntries"), func(q url.Values) { q.Del("order") })},

	// --- lifecycle events and the session's stream
	{"REQ-EVT-006", "listLifecycleEvents ignores after", reqQuery(isOp("listLifecycleEvents"), func(q url.Values) { q.Del("after") })},
	{"REQ-EVT-007", "turn_ended lifecycle events lack stop_reason", listItems(isOp("listLifecycleEvents"), func(_ *http.Request, e map[string]any) bool {
		if e["type"] == "turn_ended" {
			delete(e, "stop_reason")
		}
		return true
	})},
	{"REQ-EVT-008", "after_seq is one past the newest turn event", listItems(isOp("listLifecycleEvents"), func(_ *http.Request, e map[string]any) bool {
		e["after_seq"] = num(e["after_seq"]) + 1
		return true
	})},
	{"REQ-STRM-013", "session stream ids carry the seq alone, with lifecycle_seq 0", liveFrames(isSessionStream, perFrame(func(fr sse.Frame) []sse.Frame {
		if seq, _, ok := strings.Cut(fr.ID, "."); ok && fr.HasID {
			fr.ID = seq + ".0"
		}
		return []sse.Frame{fr}
	}), true)},
	{"REQ-STRM-014", "turn_started frames come after the turn's first event", liveFrames(isSessionStream, func(*http.Request) frameEditor {
		var held []sse.Frame
		return func(fr sse.Frame) ([]sse.Frame, bool) {
			switch {
			case fr.Event == "session.lifecycle" && strings.Contains(fr.Data, `"type":"turn_started"`):
				held = append(held, fr)
				return nil, false
			case fr.Event == "":
				out := append([]sse.Frame{fr}, held...)
				held = nil
				return out, false
			}
			out := append(held, fr)
			held = nil
			return out, false
		}
	}, true)},
	{"REQ-STRM-015", "a resumed session stream ignores the lifecycle part of the position", func(h http.Handler, tg *target) http.Handler {
		cut := func(v string) string {
			if seq, _, ok := strings.Cut(v, "."); ok {
				return seq + ".0"
			}
			return v
		}
		return editRequest(h, func(r *http.Request) {
			if !isSessionStream(r) {
				return
			}
			if v := r.Header.Get("Last-Event-ID"); v != "" {
				r.Header.Set("Last-Event-ID", cut(v))
			}
			if q := r.URL.Query(); q.Get("after") != "" {
				q.Set("after", cut(q.Get("after")))
				r.URL.RawQuery = q.Encode()
			}
		})
	}},
	{"REQ-STRM-016", "the session stream ends without session.ended", liveFrames(isSessionStream, perFrame(func(fr sse.Frame) []sse.Frame {
		if fr.Event == "session.ended" {
			return nil
		}
		return []sse.Frame{fr}
	}), true)},
	{"REQ-STRM-017", "the session stream sends no keep-alive comments", liveFrames(isSessionStream, perFrame(func(fr sse.Frame) []sse.Frame { return []sse.Frame{fr} }), false)},
	{"REQ-STRM-018", "16-digit stream positions are cut to 15 digits and accepted", func(h http.Handler, tg *target) http.Handler {
		long := regexp.MustCompile(`[0-9]{16,}`)
		return editRequest(h, func(r *http.Request) {
			if !isSessionStream(r) {
				return
			}
			if v := r.Header.Get("Last-Event-ID"); long.MatchString(v) {
				r.Header.Set("Last-Event-ID", long.ReplaceAllStringFunc(v, func(s string) string { return s[:15] }))
			}
		})
	}},

	// --- queue control and steering
	{"REQ-BUSY-009", "a steer prompt is queued as a new turn", reqJSON(isOp("sendTurn"), func(m map[string]any) {
		if m["busy_policy"] == "steer" {
			m["busy_policy"] = "enqueue"
		}
	})},
	{"REQ-BUSY-010", "a steer prompt while no turn runs answers 409", func(h http.Handler, tg *target) http.Handler {
		return refuse(func(r *http.Request) bool {
			var b struct {
				BusyPolicy string `json:"busy_policy"`
			}
			return isOp("sendTurn")(r) && json.Unmarshal(readBody(r), &b) == nil && b.BusyPolicy == "steer" &&
				sessionAgent(h, r).Activity == gen.ActivityIdle
		}, http.StatusConflict, gen.ProblemCodeTurnInProgress)(h, tg)
	}},
	{"REQ-BUSY-011", "a steer prompt to the echo agent runs as a plain turn", func(h http.Handler, tg *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if isOp("sendTurn")(r) && sessionAgent(h, r).Agent == "echo" {
				setBody(r, editJSON(readBody(r), func(m map[string]any) {
					if m["busy_policy"] == "steer" {
						delete(m, "busy_policy")
					}
				}))
			}
		})
	}},
	{"REQ-BUSY-012", "cancelTurnAt on a queued turn answers 200 and leaves it queued", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isOp("cancelTurnAt")(r) {
				var tr gen.Turn
				internal(h, http.MethodGet, strings.TrimSuffix(r.URL.Path, "/cancel"), r.Header.Get("Authorization"), nil, &tr)
				if tr.Status == gen.TurnStatusQueued {
					jsonAnswer(r, tr).send(w)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-BUSY-013", "cancelTurnAt says a running turn was cancelled by an interrupt", respJSON(isOp("cancelTurnAt"), func(_ *http.Request, m map[string]any) {
		if m["cancelled_by"] == "cancel_request" && num(m["event_count"]) > 0 {
			m["cancelled_by"] = "interrupt"
		}
	})},
	{"REQ-BUSY-014", "cancelTurnAt on an ended turn answers 200 with it", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("cancelTurnAt"), func(r *http.Request, a *answer) {
			if problemCode(a) == gen.ProblemCodeTurnEnded {
				var tr gen.Turn
				internal(h, http.MethodGet, strings.TrimSuffix(r.URL.Path, "/cancel"), r.Header.Get("Authorization"), nil, &tr)
				*a = *jsonAnswer(r, tr)
			}
		})
	}},
	{"REQ-BUSY-015", "turn.accepted of a queued turn lacks queue_position", liveFrames(isTurnStream, perFrame(func(fr sse.Frame) []sse.Frame {
		if fr.Event == "turn.accepted" {
			fr = editData(fr, func(m map[string]any) { delete(m, "queue_position") })
		}
		return []sse.Frame{fr}
	}), true)},
	{"REQ-BUSY-016", "getTurn and listTurns show no queue_position", turnField(func(t map[string]any) { delete(t, "queue_position") })},

	// --- permission requests
	{"REQ-PERM-001", "a waiting session says activity running", sessionField(func(s map[string]any) {
		if s["activity"] == "waiting_for_input" {
			s["activity"] = "running"
		}
	})},
	{"REQ-PERM-002", "a cancelled turn's permission_response events are not recorded", func(h http.Handler, tg *target) http.Handler {
		return listItems(isOp("listEvents"), func(r *http.Request, e map[string]any) bool {
			if e["type"] != "permission_response" || e["outcome"] != "cancelled" {
				return true
			}
			var tr gen.Turn
			internal(h, http.MethodGet, fmt.Sprintf("%s/turns/%d", sessionOf(r), int(num(e["turn_index"]))), r.Header.Get("Authorization"), nil, &tr)
			return tr.StopReason != gen.StopReasonCancelled
		})(h, tg)
	}},
	{"REQ-PERM-003", "a streamed turn's stream ends at its permission_request", liveFrames(isTurnStream, func(*http.Request) frameEditor {
		return func(fr sse.Frame) ([]sse.Frame, bool) {
			return []sse.Frame{fr}, fr.Event == "" && strings.Contains(fr.Data, `"type":"permission_request"`)
		}
	}, true)},
	{"REQ-PERM-004", "a waiting JSON turn answers 200", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isJSONTurn, func(_ *http.Request, a *answer) {
			if a.status == http.StatusAccepted {
				a.status = http.StatusOK
			}
		})
	}},
	{"REQ-PERM-005", "a waiting sendTurn repeated with its key answers 409 idempotency_in_progress", func(h http.Handler, tg *target) http.Handler {
		var seen keyedOnce
		return rewrite(h, isJSONTurn, func(r *http.Request, a *answer) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" || a.status != http.StatusAccepted {
				return
			}
			if _, again := seen.get(key); again {
				a.problem(http.StatusConflict, gen.ProblemCodeIdempotencyInProgress)
				a.header.Set("Retry-After", "1")
				return
			}
			seen.put(key, "waiting")
		})
	}},
	{"REQ-PERM-006", "listPermissions ignores status", reqQuery(isOp("listPermissions"), func(q url.Values) { q.Del("status") })},
	{"REQ-PERM-007", "answerPermission answers the request as still pending", respJSON(isOp("answerPermission"), func(_ *http.Request, m map[string]any) {
		m["status"] = "pending"
		delete(m, "outcome")
		delete(m, "option_id")
		delete(m, "answered_at")
	})},
	{"REQ-PERM-008", "the same answer again answers 409", func(h http.Handler, tg *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isOp("answerPermission")(r) && r.Header.Get("Idempotency-Key") == "" {
				var b gen.PermissionAnswer
				_ = json.Unmarshal(readBody(r), &b)
				if p, ok := permissionOf(h, r); ok && p.Status == gen.PermissionStatusAnswered && p.OptionID == b.OptionID {
					problemAnswer(r, http.StatusConflict, gen.ProblemCodePermissionResolved).send(w)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}},
	{"REQ-PERM-009", "another answer to a resolved request answers 200 with it", func(h http.Handler, tg *target) http.Handler {
		return rewrite(h, isOp("answerPermission"), func(r *http.Request, a *answer) {
			if problemCode(a) == gen.ProblemCodePermissionResolved {
				if p, ok := permissionOf(h, r); ok {
					*a = *jsonAnswer(r, p)
				}
			}
		})
	}},
	{"REQ-PERM-010", "an option the request does not offer answers 400", recode(isOp("answerPermission"), gen.ProblemCodeUnknownOption, http.StatusBadRequest, gen.ProblemCodeInvalidRequest)},
	{"REQ-PERM-011", "an unknown request id answers 409 permission_resolved", recode(isOp("answerPermission"), gen.ProblemCodeNotFound, http.StatusConflict, gen.ProblemCodePermissionResolved)},
	{"REQ-PERM-012", "the echo agent echoes an asking script with a permission_request", resultField(func(m map[string]any) {
		events, _ := m["events"].([]any)
		if len(events) != 1 || !strings.Contains(fmt.Sprint(events[0]), `"ask"`) {
			return
		}
		first, _ := events[0].(map[string]any)
		req := map[string]any{"seq": first["seq"], "turn_index": first["turn_index"], "type": "permission_request", "created_at": first["created_at"],
			"request_id": "perm_defect", "title": "?", "options": []any{map[string]any{"option_id": "allow", "name": "Allow", "kind": "allow_once"}}}
		m["events"] = []any{req}
	})},
	{"REQ-PERM-013", "permission_response events lack request_id", listItems(isOp("listEvents"), func(_ *http.Request, e map[string]any) bool {
		if e["type"] == "permission_response" {
			delete(e, "request_id")
		}
		return true
	})},
	{"REQ-PERM-014", "listPermissions shows resolved requests without answered_at", listItems(isOp("listPermissions"), func(_ *http.Request, p map[string]any) bool {
		if p["status"] != "pending" {
			delete(p, "answered_at")
		}
		return true
	})},

	// --- the scripted agent
	{"REQ-AGT-007", "the scripted agent ignores an ask's branches", editScript(func(step map[string]any) {
		if ask, ok := step["ask"].(map[string]any); ok {
			delete(ask, "branches")
		}
	})},
	{"REQ-AGT-008", "the scripted agent ignores an ask's timeout_ms", editScript(func(step map[string]any) {
		if ask, ok := step["ask"].(map[string]any); ok {
			delete(ask, "timeout_ms")
		}
	})},
	{"REQ-AGT-009", "guidance is recorded one step late", resultField(func(m map[string]any) {
		events, _ := m["events"].([]any)
		for i := 0; i+1 < len(events); i++ {
			g, _ := events[i].(map[string]any)
			n, _ := events[i+1].(map[string]any)
			if g != nil && n != nil && g["type"] == "guidance" {
				for _, k := range []string{"type", "content"} {
					g[k], n[k] = n[k], g[k]
				}
				return
			}
		}
	})},
}
