package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func readAll(t *testing.T, r *Reader) ([]Frame, error) {
	t.Helper()
	var out []Frame
	for {
		f, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, f)
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []Frame
		comments int
		err      error
	}{
		{
			name: "server frames",
			in: "event: turn.accepted\ndata: {\"turn_index\":1}\n\n" +
				"id: 1\ndata: {\"seq\":1}\n\n: keep-alive\n\n" +
				"event: turn.completed\ndata: {}\n\n",
			want: []Frame{
				{Event: "turn.accepted", Data: `{"turn_index":1}`, Retry: -1},
				{ID: "1", HasID: true, Data: `{"seq":1}`, Retry: -1},
				{Event: "turn.completed", Data: "{}", Retry: -1},
			},
			comments: 1,
		},
		{
			name: "multi-line data, CRLF and lone CR, no space after colon",
			in:   "data:a\r\ndata: b\rid:7\r\n\r\n",
			want: []Frame{{ID: "7", HasID: true, Data: "a\nb", Retry: -1}},
		},
		{
			name: "BOM, retry, unknown field ignored",
			in:   "\uFEFFretry: 1500\nfoo: bar\ndata: x\n\n",
			want: []Frame{{Data: "x", Retry: 1500}},
		},
		{
			name: "id-only frame is returned for its id",
			in:   "id: 9\n\n",
			want: []Frame{{ID: "9", HasID: true, Retry: -1}},
		},
		{
			name: "stream cut inside a frame",
			in:   "id: 1\ndata: {}\n\nid: 2\ndata: {\"se",
			want: []Frame{{ID: "1", HasID: true, Data: "{}", Retry: -1}},
			err:  io.ErrUnexpectedEOF,
		},
		{
			name: "empty stream",
			in:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time exercises the CR-at-buffer-end path.
			r := NewReader(iotest.OneByteReader(strings.NewReader(tt.in)))
			got, err := readAll(t, r)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
			if r.Comments() != tt.comments {
				t.Errorf("comments = %d, want %d", r.Comments(), tt.comments)
			}
		})
	}
}

func TestWriteRoundTrip(t *testing.T) {
	frames := []Frame{
		{Event: "turn.accepted", Data: `{"a":1}`},
		{ID: "42", HasID: true, Data: "line1\nline2"},
		{ID: "", HasID: true, Data: "reset"},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		if err := Write(&buf, f); err != nil {
			t.Fatal(err)
		}
		if err := WriteComment(&buf, "keep-alive"); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&buf)
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		frames[i].Retry = -1
	}
	if diff := cmp.Diff(frames, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if r.Comments() != 3 {
		t.Errorf("comments = %d, want 3", r.Comments())
	}
}

func TestWriteRejectsInjection(t *testing.T) {
	for _, f := range []Frame{{Event: "a\nb"}, {ID: "1\n2"}} {
		if err := Write(io.Discard, f); err == nil {
			t.Errorf("Write(%+v) = nil, want an error", f)
		}
	}
	if err := WriteComment(io.Discard, "x\ny"); err == nil {
		t.Error("WriteComment with a newline = nil, want an error")
	}
}

func TestLineTooLong(t *testing.T) {
	in := "data: " + strings.Repeat("x", MaxLineBytes+1) + "\n\n"
	_, err := NewReader(strings.NewReader(in)).Next()
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err = %v, want ErrLineTooLong", err)
	}
}

// Every line break in data, a lone "\r" included, becomes a data line: the
// reader, which ends lines at "\r" too, loses nothing.
func TestWriteEncodesEveryLineBreak(t *testing.T) {
	for data, want := range map[string]string{
		"a\rb":        "a\nb",
		"a\r\nb\nc\r": "a\nb\nc\n",
		"\r":          "\n",
		"x\r\r\ny":    "x\n\ny",
	} {
		var buf bytes.Buffer
		if err := Write(&buf, Frame{ID: "1", Data: data}); err != nil {
			t.Fatal(err)
		}
		frames, err := readAll(t, NewReader(&buf))
		if err != nil || len(frames) != 1 || frames[0].Data != want || frames[0].ID != "1" {
			t.Errorf("Write(%q) read back as %+v, %v; want data %q", data, frames, err, want)
		}
	}
}
