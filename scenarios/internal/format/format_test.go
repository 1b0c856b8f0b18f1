package format

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The repository's scenarios are all valid: ids match file names, every
// client and error kind is known, expect and expect_error never meet.
func TestLoadDirRepositoryScenarios(t *testing.T) {
	scs, err := LoadDir("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 19 {
		t.Fatalf("got %d scenarios, want at least 19", len(scs))
	}
	for _, sc := range scs {
		if err := sc.Validate(); err != nil {
			t.Error(err)
		}
	}
	for i := 1; i < len(scs); i++ {
		if scs[i-1].File >= scs[i].File {
			t.Errorf("not in file-name order: %s before %s", scs[i-1].File, scs[i].File)
		}
	}
	// YAML numbers arrive as JSON numbers (float64), like decoded results.
	for _, sc := range scs {
		if sc.ID != "01-multi-turn-text" {
			continue
		}
		turn := sc.Steps[1]
		want := map[string]any{"text": "Hello", "value": map[string]any{"turn_index": 1.0, "stop_reason": "end_turn",
			"event_count": 1.0, "first_seq": 1.0, "last_seq": 1.0}}
		if !reflect.DeepEqual(turn.Expect, want) {
			t.Errorf("expect = %#v, want %#v", turn.Expect, want)
		}
	}
}

func TestLoadFileRefusesBadScenarios(t *testing.T) {
	cases := map[string]string{
		"unknown key":     "id: x\nsteps: [{do: health, wat: 1}]\n",
		"id not the name": "id: other\nsteps: [{do: health}]\n",
		"bad id":          "id: X_1\nsteps: [{do: health}]\n",
		"no steps":        "id: x\nsteps: []\n",
		"no do":           "id: x\nsteps: [{session: s}]\n",
		"unknown client":  "id: x\nsteps: [{do: health, client: root}]\n",
		"unknown kind":    "id: x\nsteps: [{do: health, expect_error: boom}]\n",
		"both expects":    "id: x\nsteps: [{do: health, expect: {}, expect_error: auth}]\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := "x.yaml"
			if name == "bad id" {
				file = "X_1.yaml"
			}
			path := filepath.Join(dir, file)
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadFile(path); err == nil {
				t.Fatalf("LoadFile accepted %q", body)
			}
		})
	}
}

func TestSubst(t *testing.T) {
	in := map[string]any{"plan_slug": "p-${run}", "meta": map[string]any{"${run}": "${run}${run}"},
		"list": []any{"${run}", 1.0, true}}
	got := Subst(in, "r1")
	want := map[string]any{"plan_slug": "p-r1", "meta": map[string]any{"${run}": "r1r1"},
		"list": []any{"r1", 1.0, true}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Subst = %#v, want %#v", got, want)
	}
	if !strings.Contains(in["plan_slug"].(string), "${run}") {
		t.Fatal("Subst changed its input")
	}
}

// Each unknown or misused piece of the vocabulary is refused by Validate
// (the orchestrator's, before any runner starts), with the file, the step
// and its operation in the message.
func TestLoadFileRefusesBadVocabulary(t *testing.T) {
	const mk = "{do: create_session, as: s, with: {agent: echo}}"
	cases := []struct{ name, steps, want string }{
		{"unknown operation", "[{do: answer_permision, session: s}]", `step 1 (answer_permision): unknown operation "answer_permision"`},
		{"unknown with member", "[" + mk + ", {do: turn, session: s, with: {prompt: x, on_permision: allow}}]", `step 2 (turn): unknown ` + "`with`" + ` member "on_permision"`},
		{"member of another operation", "[" + mk + ", {do: turn_stream, session: s, with: {prompt: x, on_permission: allow}}]", `step 2 (turn_stream): unknown ` + "`with`" + ` member "on_permission"`},
		{"no session", "[{do: permissions}]", "step 1 (permissions): no `session`"},
		{"session alias unknown", "[" + mk + ", {do: history, session: t}]", `step 2 (history): session alias "t" names no session`},
		{"session on health", "[" + mk + ", {do: health, session: s}]", "step 2 (health): `session` given"},
		{"await neither", "[{do: await}]", "step 1 (await): await takes exactly one"},
		{"await both", "[" + mk + ", {do: session_stream, session: s, as: w, with: {background: true}}, {do: await, with: {turn: w, stream: w}}]", "step 3 (await): await takes exactly one"},
		{"await a stream as a turn", "[" + mk + ", {do: session_stream, session: s, as: w, with: {background: true}}, {do: await, with: {turn: w}}]", `step 3 (await): with.turn "w" names no background turn`},
		{"await a turn as a stream", "[" + mk + ", {do: turn, session: s, as: w, with: {prompt: x, background: true}}, {do: await, with: {stream: w}}]", `step 3 (await): with.stream "w" names no background session_stream`},
		{"await before the start", "[{do: await, with: {stream: w}}]", `step 1 (await): with.stream "w"`},
		{"background stream without as", "[" + mk + ", {do: session_stream, session: s, with: {background: true}}]", "step 2 (session_stream): a background session_stream needs `as`"},
		{"as on a foreground stream", "[" + mk + ", {do: session_stream, session: s, as: w}]", "step 2 (session_stream): `as` on a session_stream names a background one"},
		{"expect on a background start", "[" + mk + ", {do: session_stream, session: s, as: w, with: {background: true}, expect: {value: {}}}]", "a background session_stream is observed by its await"},
		{"bad position", "[" + mk + ", {do: session_stream, session: s, with: {after: 3}}]", "step 2 (session_stream): with.after must be a position"},
		{"bad order", "[" + mk + ", {do: log_entries, session: s, with: {order: newest}}]", "step 2 (log_entries): with.order must be"},
		{"bad queued_turns", "[" + mk + ", {do: wait_activity, session: s, with: {queued_turns: -1}}]", "with.queued_turns must be a whole number"},
		{"wait for nothing", "[" + mk + ", {do: wait_activity, session: s, with: {timeout_ms: 10}}]", "wait_activity needs"},
		{"cancel_turn without index", "[" + mk + ", {do: cancel_turn, session: s}]", "cancel_turn needs with.turn_index"},
		{"answer without option", "[" + mk + ", {do: answer_permission, session: s, with: {request_id: p}}]", "answer_permission needs with.option_id"},
		{"empty handler option", "[" + mk + ", {do: turn, session: s, with: {prompt: x, on_permission: ''}}]", "with.on_permission must be an option id"},
		{"agent_options not an object", "[{do: create_session, with: {agent: echo, agent_options: fast}}]", "with.agent_options must be an object"},
		{"alias twice", "[" + mk + ", " + mk + "]", `step 2 (create_session): alias "s" is used twice`},
		{"files naming nothing", "[" + mk + ", {do: turn, session: s, with: {prompt: x, files: [f]}}]", "with.files: f names no upload"},
		{"unknown kind", "[" + mk + ", {do: turn, session: s, with: {prompt: x}, expect_error: permission_denied}]", `step 2: unknown error kind "permission_denied"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.yaml")
			if err := os.WriteFile(path, []byte("id: x\nsteps: "+c.steps+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			sc, err := LoadFile(path)
			if err == nil {
				err = sc.Validate()
			}
			if err == nil {
				t.Fatalf("LoadFile and Validate accepted %s", c.steps)
			}
			if !strings.Contains(err.Error(), "x.yaml: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q\nwant it to start with the file and contain %q", err, c.want)
			}
		})
	}
}

// The 1.2 vocabulary is accepted: the new operations, members and kinds.
func TestLoadFileAcceptsTheNewVocabulary(t *testing.T) {
	body := `id: x
steps:
  - {do: create_session, as: s, with: {agent: scripted, agent_options: {prefix: '> '}}}
  - {do: session_stream, session: s, as: w, with: {background: true, after: '0.0'}}
  - {do: turn, session: s, as: b, with: {prompt: x, background: true, meta: {k: v}}}
  - {do: wait_activity, session: s, with: {queued_turns: 0}}
  - {do: turn, session: s, with: {prompt: y, on_permission: allow}, expect_error: permission_required}
  - {do: turn_stream, session: s, with: {prompt: z, answer: deny, meta: {}}}
  - {do: answer_permission, session: s, with: {request_id: p, option_id: allow}, expect_error: permission_resolved}
  - {do: permissions, session: s, with: {status: pending}}
  - {do: cancel_turn, session: s, with: {turn_index: 2}, expect_error: turn_ended}
  - {do: history, session: s, with: {status: queued}}
  - {do: log_entries, session: s, with: {order: newest_first}}
  - {do: lifecycle_events, session: s, with: {after: 2}}
  - {do: await, with: {turn: b}}
  - {do: close_session, session: s}
  - {do: await, with: {stream: w}}
`
	path := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := LoadFile(path)
	if err == nil {
		err = sc.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Steps[1].IsBackground() || !sc.Steps[2].IsBackground() || sc.Steps[5].IsBackground() {
		t.Fatal("IsBackground")
	}
}
