package faultproxy

import (
	"strings"
	"testing"
)

// cutOffset feeds stream to a fresh cutter in the given pieces and returns
// how many bytes it lets through before the cut, or -1 for none.
func cutOffset(c *sseCutter, stream string, pieces []int) int {
	sent, at := 0, 0
	for _, n := range pieces {
		k, stop := c.cut([]byte(stream[at : at+n]))
		sent += k
		if stop {
			return sent
		}
		at += n
	}
	return -1
}

// TestSSECutterAnyChunking: the cut lands on the same byte however the
// stream is split, for every line ending the event-stream grammar allows.
func TestSSECutterAnyChunking(t *testing.T) {
	const frames = ": hello\n\n" + // a comment frame never counts
		"event: turn.accepted\ndata: {}\n\n" + // a frame without an id
		"id: 1\ndata: a\n\n" +
		"data: b\nid\n\n" + // a bare "id" field line counts
		"id: 3\r\ndata: d\r\n\r\n" +
		"id: 4\rdata: e\r\r" +
		": keep-alive\n\n" +
		"idle: x\ndata: c\n\n" + // "idle" is not "id"
		"id: 5\ndata: f\n\n"
	tests := []struct {
		name  string
		c     sseCutter
		after string // the stream is cut right after this prefix
	}{
		{"first", sseCutter{want: 1}, ": hello\n\nevent: turn.accepted\ndata: {}\n\nid: 1\ndata: a\n\n"},
		{"bare id", sseCutter{want: 2}, "data: b\nid\n\n"},
		{"CRLF", sseCutter{want: 3}, "id: 3\r\ndata: d\r\n\r\n"},
		{"CR", sseCutter{want: 4}, "id: 4\rdata: e\r\r"},
		{"last", sseCutter{want: 5}, frames},
		{"mid-frame inside a CRLF frame", sseCutter{want: 2, midFrame: true}, "id: 3\r\ndata: d\r\n"},
		{"mid-frame inside a CR frame", sseCutter{want: 3, midFrame: true}, "id: 4\rdata: e\r"},
		{"mid-frame skips a comment, cuts a frame without an id", sseCutter{want: 4, midFrame: true}, ": keep-alive\n\nidle: x\ndata: c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.Index(frames, tt.after)
			if want < 0 {
				t.Fatalf("bad test: %q not in the stream", tt.after)
			}
			want += len(tt.after)
			splits := [][]int{{len(frames)}}
			for i := 1; i < len(frames); i++ {
				splits = append(splits, []int{i, len(frames) - i})
			}
			bytewise := make([]int, len(frames))
			for i := range bytewise {
				bytewise[i] = 1
			}
			splits = append(splits, bytewise)
			for _, pieces := range splits {
				c := tt.c
				if got := cutOffset(&c, frames, pieces); got != want {
					t.Fatalf("pieces %v: cut after %d bytes, want %d", pieces[:min(len(pieces), 3)], got, want)
				}
			}
		})
	}
}

func TestSSECutterNoCut(t *testing.T) {
	c := sseCutter{want: 2}
	if got := cutOffset(&c, "id: 1\ndata: x\n\n: keep-alive\n\nid: 2\ndata: y\n", []int{39}); got != -1 || c.cutAtEOF() {
		t.Errorf("cut at %d (eof %v) before the 2nd frame was dispatched", got, c.cutAtEOF())
	}
	c = sseCutter{want: 1, midFrame: true}
	if got := cutOffset(&c, "id: 1\ndata: x\n\n: keep-alive\n\n", []int{29}); got != -1 || !c.cutAtEOF() {
		t.Errorf("mid-frame: cut at %d (eof %v); want no cut yet, but a cut at the end", got, c.cutAtEOF())
	}
}
