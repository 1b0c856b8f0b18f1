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
	if len(scs) < 13 {
		t.Fatalf("got %d scenarios, want at least 13", len(scs))
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
