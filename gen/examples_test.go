package gen_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// mediaExample is one example of a request or response body in the contract.
type mediaExample struct {
	where, mediaType string
	schema           *openapi3.SchemaRef
	value            any
}

func allExamples(doc *openapi3.T) []mediaExample {
	var out []mediaExample
	addContent := func(where string, content openapi3.Content) {
		for mt, m := range content {
			if m.Example != nil {
				out = append(out, mediaExample{where, mt, m.Schema, m.Example})
			}
			for name, ex := range m.Examples {
				out = append(out, mediaExample{where + " example " + name, mt, m.Schema, ex.Value.Value})
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.RequestBody != nil {
				addContent(where+" request", op.RequestBody.Value.Content)
			}
			for code, r := range op.Responses.Map() {
				addContent(where+" "+code, r.Value.Content)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		addContent("components/responses/"+name, r.Value.Content)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where+out[i].mediaType < out[j].where+out[j].mediaType })
	return out
}

// Every JSON example is valid against its schema (openapi3's own example validation is
// off in loadSpec because of the stream examples, which TestStreamExamples checks).
func TestExamplesMatchTheirSchemas(t *testing.T) {
	doc := loadSpec(t)
	n := 0
	for _, ex := range allExamples(doc) {
		if ex.mediaType == "text/event-stream" || ex.mediaType == "multipart/form-data" {
			continue
		}
		n++
		if err := ex.schema.Value.VisitJSON(ex.value); err != nil {
			t.Errorf("%s (%s): the example does not match its schema: %v", ex.where, ex.mediaType, err)
		}
	}
	if n < 40 {
		t.Fatalf("only %d JSON examples found", n)
	}
}

// Every text/event-stream example reads to the end with the project's own SSE reader
// (each frame, the last one included, ends with a blank line), every frame is a valid
// frame of its stream (TurnStreamFrame for a turn's stream, SessionStreamFrame for
// streamSession's) and decodes into its generated type, and the stream ends with its
// last frame (turn.completed, session.ended).
func TestStreamExamples(t *testing.T) {
	doc := loadSpec(t)
	kinds := map[string]struct {
		frame  *openapi3.Schema
		last   string
		decode func(raw []byte) (any, error)
	}{
		"EventStream": {doc.Components.Schemas["TurnStreamFrame"].Value, string(gen.TurnCompletedFrameEventTurnCompleted),
			func(raw []byte) (any, error) {
				var typed gen.TurnStreamFrame
				if err := json.Unmarshal(raw, &typed); err != nil {
					return nil, err
				}
				return typed.ValueByDiscriminator()
			}},
		"SessionStream": {doc.Components.Schemas["SessionStreamFrame"].Value, string(gen.SessionEndedFrameEventSessionEnded),
			func(raw []byte) (any, error) {
				var typed gen.SessionStreamFrame
				if err := json.Unmarshal(raw, &typed); err != nil {
					return nil, err
				}
				return typed.ValueByDiscriminator()
			}},
	}
	n := map[string]int{}
	for _, ex := range allExamples(doc) {
		if ex.mediaType != "text/event-stream" {
			continue
		}
		schemaName := strings.TrimPrefix(ex.schema.Ref, "#/components/schemas/")
		kind, ok := kinds[schemaName]
		if !ok {
			t.Errorf("%s: a stream example whose schema is %q, not EventStream or SessionStream", ex.where, ex.schema.Ref)
			continue
		}
		n[schemaName]++
		text, ok := ex.value.(string)
		if !ok {
			t.Errorf("%s: a stream example must be the stream's text", ex.where)
			continue
		}
		r := sse.NewReader(strings.NewReader(text))
		var last string
		frames := 0
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: frame %d: %v (is the frame ended by a blank line?)", ex.where, frames+1, err)
				break
			}
			frames++
			obj := map[string]any{"event": "message"}
			if f.Event != "" {
				obj["event"] = f.Event
			}
			if f.HasID {
				obj["id"] = f.ID
			}
			var data any
			if err := json.Unmarshal([]byte(f.Data), &data); err != nil {
				t.Errorf("%s: frame %d: data is not JSON: %v", ex.where, frames, err)
				continue
			}
			obj["data"] = data
			if err := kind.frame.VisitJSON(obj); err != nil {
				t.Errorf("%s: frame %d (%s) does not match its frame schema: %v", ex.where, frames, obj["event"], err)
			}
			raw, _ := json.Marshal(obj)
			v, err := kind.decode(raw)
			if err != nil {
				t.Errorf("%s: frame %d: %v", ex.where, frames, err)
			}
			switch v := v.(type) {
			case gen.EventFrame:
				if v.ID != "" && v.Data.Seq == 0 {
					t.Errorf("%s: frame %d: event frame without seq", ex.where, frames)
				}
			case gen.SessionEventFrame:
				if want := fmt.Sprintf("%d.", v.Data.Seq); !strings.HasPrefix(v.ID, want) {
					t.Errorf("%s: frame %d: id %q, want the event's seq %d before the dot", ex.where, frames, v.ID, v.Data.Seq)
				}
			case gen.SessionLifecycleFrame:
				if want := fmt.Sprintf(".%d", v.Data.LifecycleSeq); !strings.HasSuffix(v.ID, want) {
					t.Errorf("%s: frame %d: id %q, want the lifecycle_seq %d after the dot", ex.where, frames, v.ID, v.Data.LifecycleSeq)
				}
			}
			last = obj["event"].(string)
		}
		if frames == 0 || last != kind.last {
			t.Errorf("%s: %d frames, the last %q; the stream ends with %s", ex.where, frames, last, kind.last)
		}
	}
	if n["EventStream"] != 2 || n["SessionStream"] != 1 {
		t.Fatalf("stream examples %v, want 2 turn streams (sendTurn and streamTurn) and 1 session stream", n)
	}
}
