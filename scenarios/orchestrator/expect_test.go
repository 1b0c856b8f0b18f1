package main

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	actual := `{"text": "Hello", "value": {"turn_index": 1, "stop_reason": "end_turn", "usage": {"input_tokens": 3},
		"items": [{"turn_index": 1, "status": "completed", "prompt": "a"}, {"turn_index": 2, "status": "completed", "prompt": "b"}]}}`
	cases := []struct {
		name, expect string
		wantErrs     []string // substrings, one per expected mismatch; none: it matches
	}{
		{"subset", `{"text": "Hello", "value": {"turn_index": 1}}`, nil},
		{"nested subset", `{"value": {"usage": {"input_tokens": 3}}}`, nil},
		{"wrong scalar", `{"value": {"stop_reason": "cancelled"}}`, []string{`value.stop_reason: want "cancelled", got "end_turn"`}},
		{"number vs string", `{"value": {"turn_index": "1"}}`, []string{`value.turn_index: want "1", got 1`}},
		{"missing member", `{"value": {"cancelled_by": "cancel_request"}}`, []string{`value.cancelled_by: want "cancel_request", got nothing`}},
		{"null is absent", `{"value": {"cancelled_by": null}}`, nil},
		{"null but present", `{"value": {"turn_index": null}}`, []string{`value.turn_index: want it absent, got 1`}},
		{"$len", `{"value": {"items": {"$len": 2}}}`, nil},
		{"$len wrong", `{"value": {"items": {"$len": 3}}}`, []string{`value.items: want 3 items, got 2`}},
		{"$len of a non-list", `{"value": {"turn_index": {"$len": 1}}}`, []string{`value.turn_index: want a list of 1, got 1`}},
		{"full list of subsets", `{"value": {"items": [{"turn_index": 1}, {"turn_index": 2, "status": "completed"}]}}`, nil},
		{"list too short", `{"value": {"items": [{"turn_index": 1}]}}`, []string{`value.items: want 1 items`}},
		{"list element differs", `{"value": {"items": [{"turn_index": 1}, {"prompt": "c"}]}}`, []string{`value.items[1].prompt: want "c", got "b"`}},
		{"$contains any order", `{"value": {"items": {"$contains": [{"prompt": "b"}, {"prompt": "a"}]}}}`, nil},
		{"$contains missing", `{"value": {"items": {"$contains": [{"prompt": "z"}]}}}`, []string{`value.items: no item matches $contains[0] {"prompt":"z"}`}},
		{"object expected", `{"text": {"a": 1}}`, []string{`text: want an object, got "Hello"`}},
		{"two mismatches", `{"text": "Bye", "value": {"turn_index": 2}}`, []string{`text: want "Bye"`, `value.turn_index: want 2, got 1`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := match(mustJSON(t, c.expect), mustJSON(t, actual), "")
			if len(got) != len(c.wantErrs) {
				t.Fatalf("match = %q, want %d mismatches %q", got, len(c.wantErrs), c.wantErrs)
			}
			for i, w := range c.wantErrs {
				if !strings.Contains(got[i], w) {
					t.Errorf("mismatch %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := mustJSON(t, `{"value": {"status": "active", "items": [1, 2, 3], "only_a": true}, "text": "x"}`)
	b := mustJSON(t, `{"value": {"status": "paused", "items": [1, 5], "only_b": 1}, "text": "x"}`)
	got := diff(a, b, "", "go/direct", "ts/direct")
	want := []string{
		`value.items: go/direct has 3 items, ts/direct has 2`,
		`value.items[1]: go/direct has 2, ts/direct has 5`,
		`value.items[2]: only go/direct has 3`,
		`value.only_a: go/direct has true, ts/direct has nothing`,
		`value.only_b: go/direct has nothing, ts/direct has 1`,
		`value.status: go/direct has "active", ts/direct has "paused"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := diff(a, a, "", "x", "y"); len(d) != 0 {
		t.Fatalf("diff of equal values = %q", d)
	}
	if d := diff("a", 1.0, "", "x", "y"); len(d) != 1 || !strings.HasPrefix(d[0], "(the whole value): x has \"a\", y has 1") {
		t.Fatalf("diff of scalars = %q", d)
	}
}
