package refserver

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/gen/spec"
)

func TestMergePatch(t *testing.T) {
	tests := []struct {
		name          string
		target, patch map[string]any
		want          map[string]any
	}{
		{"add", map[string]any{"a": 1.0}, map[string]any{"b": 2.0}, map[string]any{"a": 1.0, "b": 2.0}},
		{"replace", map[string]any{"a": 1.0}, map[string]any{"a": "x"}, map[string]any{"a": "x"}},
		{"delete", map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": nil}, map[string]any{"b": 2.0}},
		{"delete missing", map[string]any{"a": 1.0}, map[string]any{"z": nil}, map[string]any{"a": 1.0}},
		{"nested merge", map[string]any{"o": map[string]any{"x": 1.0, "y": 2.0}}, map[string]any{"o": map[string]any{"y": nil, "z": 3.0}},
			map[string]any{"o": map[string]any{"x": 1.0, "z": 3.0}}},
		{"object over scalar", map[string]any{"o": 5.0}, map[string]any{"o": map[string]any{"k": nil, "v": 1.0}}, map[string]any{"o": map[string]any{"v": 1.0}}},
		{"array replaces", map[string]any{"l": []any{1.0, 2.0}}, map[string]any{"l": []any{3.0}}, map[string]any{"l": []any{3.0}}},
		{"nil target", nil, map[string]any{"a": 1.0}, map[string]any{"a": 1.0}},
		{"empty patch", map[string]any{"a": 1.0}, map[string]any{}, map[string]any{"a": 1.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mergePatch(tt.target, tt.patch)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCursor(t *testing.T) {
	c := encodeCursor("events", "scope1", 42)
	if pos, err := decodeCursor(&c, "events", "scope1"); err != nil || pos != 42 {
		t.Fatalf("round trip: %d, %v", pos, err)
	}
	if encodeCursor("events", "s", 0) != "" {
		t.Error("position 0 has a cursor")
	}
	for _, bad := range []string{"", "!!", encodeCursor("turns", "scope1", 42), encodeCursor("events", "scope2", 42),
		"djF8ZXZlbnRzfHNjb3BlMXwtNQ" /* v1|events|scope1|-5 */, "djF8ZXZlbnRzfHNjb3BlMXx4" /* ...|x */, "eDF8ZXZlbnRzfHNjb3BlMXw0Mg" /* x1|... */} {
		if _, err := decodeCursor(&bad, "events", "scope1"); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
	if pos, err := decodeCursor(nil, "events", "s"); pos != 0 || err != nil {
		t.Errorf("no cursor: %d, %v", pos, err)
	}
}

func TestWantsEventStream(t *testing.T) {
	tests := map[string]bool{
		"":                                    false,
		"*/*":                                 false,
		"application/json":                    false,
		"text/event-stream":                   true,
		"text/event-stream; charset=utf-8":    true,
		"application/json, text/event-stream": true,
		"application/json, text/event-stream;q=0.9": false,
		"text/event-stream, application/json":       true,
		"application/json;q=0.5, text/event-stream": true,
		"text/event-stream;q=0":                     false,
		"garbage;;;":                                false,
	}
	for accept, want := range tests {
		if got := wantsEventStream(accept); got != want {
			t.Errorf("%q: %v, want %v", accept, got, want)
		}
	}
}

func TestCanonicalPathAndRequestID(t *testing.T) {
	for p, want := range map[string]bool{"/v1/sessions": true, "/v1/sessions/": true, "/": true, "/v1//x": false,
		"/v1/./x": false, "/v1/a/../b": false, "/v1/..%2F": true, "": false, "v1": false} {
		if canonicalPath(p) != want {
			t.Errorf("canonicalPath(%q) = %v", p, !want)
		}
	}
	for id, want := range map[string]bool{"abc-1.2_3": true, "": false, "a b": false, "é": false} {
		if validRequestID(id) != want {
			t.Errorf("validRequestID(%q) = %v", id, !want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(2, 3)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.allow("t", now); !ok {
			t.Fatalf("burst request %d refused", i+1)
		}
	}
	ok, wait := l.allow("t", now)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over the burst: ok %v, wait %v", ok, wait)
	}
	if ok, _ := l.allow("other", now); !ok {
		t.Error("buckets are shared between tenants")
	}
	if ok, _ := l.allow("t", now.Add(500*time.Millisecond)); !ok {
		t.Error("no refill after 0.5 s at 2/s")
	}
}

func TestResumeAfter(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int64) *int64 { return &n }
	tests := []struct {
		name        string
		lastEventID *string
		after       *int64
		want        int64
	}{
		{"neither", nil, nil, 0},
		{"after", nil, num(999999999999999), 999999999999999},
		{"15 digits", str("999999999999999"), nil, 999999999999999},
		{"leading zeros", str("000000000000042"), nil, 42},
		{"header wins", str("3"), num(7), 3},
	}
	for _, tt := range tests {
		if got, err := resumeAfter(tt.lastEventID, tt.after); err != nil || got != tt.want {
			t.Errorf("%s: %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
	if _, err := resumeAfter(str("x1"), nil); err == nil {
		t.Error("a Last-Event-ID that is not a number was accepted")
	}
}

// TestProblemTitles: the server has a title for every problem code of the
// contract, and none for a code the contract does not list.
func TestProblemTitles(t *testing.T) {
	doc, err := spec.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas["ProblemCode"]
	if ref == nil || len(ref.Value.Enum) == 0 {
		t.Fatal("the contract has no ProblemCode enum")
	}
	var listed []gen.ProblemCode
	for _, v := range ref.Value.Enum {
		code := gen.ProblemCode(v.(string))
		listed = append(listed, code)
		if !code.Valid() {
			t.Errorf("the contract's code %q has no generated constant", code)
		}
		if problemTitles[code] == "" {
			t.Errorf("no title for the contract's code %q", code)
		}
	}
	for code := range problemTitles {
		if !slices.Contains(listed, code) {
			t.Errorf("a title for %q, which the contract does not list", code)
		}
	}
}
