package gen_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// stringRule is what a string value must satisfy.
type stringRule struct {
	pattern           string
	minLength, maxLen int
}

func ruleOf(s any) stringRule {
	r := stringRule{}
	r.pattern, _ = dig(s, "pattern").(string)
	if v, ok := dig(s, "minLength").(int); ok {
		r.minLength = v
	}
	if v, ok := dig(s, "maxLength").(int); ok {
		r.maxLen = v
	}
	return r
}

func (r rawSpec) parameter(name string) any {
	return dig(r.doc, "components", "parameters", name, "schema")
}

// A returned identifier must be usable where the API takes it back: it carries exactly
// the pattern and length of the parameter that accepts it.
func TestReturnedIDsMatchTheirParameters(t *testing.T) {
	r := loadRaw(t)
	sessionParam := ruleOf(r.parameter("SessionId"))
	if sessionParam.pattern == "" || sessionParam.maxLen == 0 {
		t.Fatalf("the session_id parameter has no pattern or maxLength: %+v", sessionParam)
	}
	fileParam := ruleOf(dig(r.doc, "paths", "/v1/files/{file_token}", "parameters").([]any)[0].(map[string]any)["schema"])
	requestID := ruleOf(dig(r.doc, "components", "headers", "XRequestId", "schema"))
	permissionParam := ruleOf(r.parameter("RequestId"))
	want := map[string]stringRule{
		"session_id":        sessionParam,
		"parent_session_id": sessionParam,
		"continued_from":    sessionParam,
		"child_session_id":  sessionParam,
		"file_token":        fileParam,
		"request_id":        permissionParam,
	}
	// A problem's request_id is the X-Request-Id header's; every other request_id is a
	// permission request's, which answerPermission takes back.
	byProp := map[string]map[string]stringRule{"request_id": {"Problem": requestID}}
	if requestID.pattern == "" || requestID.maxLen != 128 {
		t.Errorf("X-Request-Id: %+v, want the 128 characters of A-Z a-z 0-9 . _ - the guide documents", requestID)
	}
	if permissionParam.pattern != sessionParam.pattern || permissionParam.maxLen != sessionParam.maxLen {
		t.Errorf("the request_id parameter %+v, want the pattern and length of session ids %+v", permissionParam, sessionParam)
	}
	seen := map[string]int{}
	for _, name := range sortedKeys(r.schemas) {
		props, _ := dig(r.schemas[name], "properties").(map[string]any)
		for prop, ps := range props {
			w, ok := want[prop]
			if !ok {
				continue
			}
			if special, ok := byProp[prop][name]; ok {
				w = special
			}
			seen[prop]++
			if got := ruleOf(ps); got != w {
				t.Errorf("%s.%s: %+v, want %+v (the parameter that takes it back)", name, prop, got, w)
			}
		}
	}
	for prop := range want {
		if seen[prop] == 0 {
			t.Errorf("no schema has %s: the walk is broken", prop)
		}
	}
}

// Last-Event-ID and after accept the same resume points, all exactly representable in
// every language's number type (below 2^53), so a schema-valid value never fails later.
func TestResumeBounds(t *testing.T) {
	r := loadRaw(t)
	lastID := ruleOf(r.parameter("LastEventId"))
	after := r.parameter("After")
	max, _ := dig(after, "maximum").(int)
	if max <= 0 || max >= 1<<53 {
		t.Fatalf("after maximum = %v, want a bound below 2^53", dig(after, "maximum"))
	}
	digits := len(strconv.Itoa(max))
	if want := fmt.Sprintf("^[0-9]{1,%d}$", digits); lastID.pattern != want {
		t.Errorf("Last-Event-ID pattern %s, want %s (as many digits as after's maximum %d)", lastID.pattern, want, max)
	}
	re := regexp.MustCompile(lastID.pattern)
	for _, ok := range []string{"0", "41", fmt.Sprint(max), "000000000000001"} {
		if !re.MatchString(ok) {
			t.Errorf("Last-Event-ID pattern %s refuses %q", lastID.pattern, ok)
		}
	}
	for _, bad := range []string{"", "-1", "1e3", fmt.Sprint(max) + "0", "9223372036854775808"} {
		if re.MatchString(bad) {
			t.Errorf("Last-Event-ID pattern %s accepts %q", lastID.pattern, bad)
		}
	}
	if max != 999999999999999 {
		t.Errorf("after maximum %d: every 15-digit Last-Event-ID must also be a valid after", max)
	}
}
