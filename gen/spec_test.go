package gen_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/agentsession/agentsession/gen/spec"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	data, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	// Examples are validated by TestExamplesMatchTheirSchemas instead: the
	// text/event-stream examples are text, while their schema (EventStream) describes
	// the frames, which TestStreamExamples checks frame by frame.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

func TestSpecIsValid(t *testing.T) {
	doc := loadSpec(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi version = %q, want 3.0.3", doc.OpenAPI)
	}
}

// The embedded spec must be the same document as openapi.yaml, or the server
// and the conformance suite would validate against a stale contract.
func TestEmbeddedSpecMatchesFile(t *testing.T) {
	file := loadSpec(t)
	embedded, err := spec.GetSwagger()
	if err != nil {
		t.Fatalf("GetSwagger: %v", err)
	}
	got, err := json.Marshal(embedded)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("the spec embedded in gen differs from openapi.yaml: run make generate")
	}
}

// TestOperationsAreDocumented checks the house rules every operation follows.
func TestOperationsAreDocumented(t *testing.T) {
	doc := loadSpec(t)
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/") {
			t.Errorf("%s: every path lives under /v1", path)
		}
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", name)
				continue
			}
			if seen[op.OperationID] {
				t.Errorf("%s: duplicate operationId %s", name, op.OperationID)
			}
			seen[op.OperationID] = true
			if len(op.Tags) != 1 {
				t.Errorf("%s: want exactly one tag, have %v", op.OperationID, op.Tags)
			}
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: summary and description are required", op.OperationID)
			}
			for code, ref := range op.Responses.Map() {
				resp := ref.Value
				if resp.Headers["X-Request-Id"] == nil {
					t.Errorf("%s %s: response does not document X-Request-Id", op.OperationID, code)
				}
				if code[0] == '4' || code[0] == '5' {
					if resp.Content.Get("application/problem+json") == nil {
						t.Errorf("%s %s: error response is not application/problem+json", op.OperationID, code)
					}
				}
			}
			for _, code := range []string{"429", "500"} {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s: does not document %s", op.OperationID, code)
				}
			}
			if op.Security == nil || len(*op.Security) > 0 {
				if op.Responses.Value("401") == nil {
					t.Errorf("%s: authenticated operation does not document 401", op.OperationID)
				}
			}
			if method == "POST" || method == "PATCH" {
				if !hasParam(op, "header", "Idempotency-Key") {
					t.Errorf("%s: state-changing %s does not take Idempotency-Key", op.OperationID, method)
				}
			}
			if strings.HasPrefix(op.OperationID, "list") {
				if !hasParam(op, "query", "limit") || !hasParam(op, "query", "cursor") {
					t.Errorf("%s: list operation must take limit and cursor", op.OperationID)
				}
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	t.Logf("%d operations: %s", len(ids), strings.Join(ids, ", "))
}

func hasParam(op *openapi3.Operation, in, name string) bool {
	for _, p := range op.Parameters {
		if p.Value.In == in && strings.EqualFold(p.Value.Name, name) {
			return true
		}
	}
	return false
}

// TestEnums pins the enum values the design fixes; changing one is a breaking change.
func TestEnums(t *testing.T) {
	doc := loadSpec(t)
	want := map[string][]string{
		"SessionStatus": {"active", "paused", "completed", "failed"},
		"Activity":      {"idle", "running", "stalled", "waiting_for_input"},
		"EventType": {"text", "thinking", "tool_call", "tool_result", "plan", "usage", "error",
			"permission_request", "permission_response", "guidance"},
		"StopReason":     {"end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled", "error"},
		"ToolCallStatus": {"pending", "in_progress", "completed", "failed", "cancelled"},
		"LogEntryType":   {"info", "warning", "error", "success", "checkpoint", "decision"},
		"ArtifactAction": {"created", "modified", "deleted"},
		"BusyPolicy":     {"reject", "enqueue", "interrupt", "steer"},
		"HealthStatus":   {"ok"},
		"ProblemCode": {"invalid_request", "invalid_cursor", "unauthorized", "not_found",
			"method_not_allowed", "invalid_transition", "turn_in_progress", "turn_queue_full",
			"session_paused", "session_ended", "spawn_limit_exceeded", "idempotency_in_progress",
			"payload_too_large", "unsupported_media_type", "unknown_agent", "unknown_file",
			"idempotency_key_reused", "rate_limited", "internal",
			// 1.2
			"request_timeout", "turn_ended", "permission_resolved", "unknown_option",
			"unsupported_busy_policy", "invalid_agent_options", "agent_start_failed"},
		// 1.2
		"PermissionOptionKind": {"allow_once", "allow_always", "reject_once", "reject_always"},
		"PermissionOutcome":    {"selected", "cancelled"},
		"PermissionStatus":     {"pending", "answered", "cancelled"},
		"LifecycleEventType":   {"turn_queued", "turn_started", "turn_ended", "status_changed", "handoff", "child_spawned"},
		"EndReason":            {"ended", "closed", "failed", "parent_closed"},
		"LogOrder":             {"oldest_first", "newest_first"},
		"AgentOptionType":      {"string", "integer", "number", "boolean"},
	}
	for name, values := range want {
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Errorf("schema %s missing", name)
			continue
		}
		var got []string
		for _, v := range s.Value.Enum {
			got = append(got, v.(string))
		}
		if !reflect.DeepEqual(got, values) {
			t.Errorf("%s enum = %v, want %v", name, got, values)
		}
	}
}
