// Package sse reads and writes text/event-stream bodies (server-sent events,
// as the WHATWG HTML standard defines them). It is shared by the SDK, the
// reference server and the conformance suite so that all three agree on the
// framing.
//
// A Reader yields one Frame per dispatched event; comment lines (such as the
// server's ": keep-alive") are counted, not returned.
//
//	r := sse.NewReader(resp.Body)
//	for {
//		f, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err
//		}
//		fmt.Println(f.ID, f.Event, f.Data)
//	}
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Frame is one dispatched event.
type Frame struct {
	// ID is the frame's "id" field; HasID tells an empty id from none.
	ID    string
	HasID bool
	// Event is the "event" field; empty means the default type "message".
	Event string
	// Data is the "data" fields joined with "\n".
	Data string
	// Retry is the "retry" field in milliseconds, or -1 when absent.
	Retry int
}

// MaxLineBytes bounds one line of a stream; a longer line is an error rather
// than unbounded memory.
const MaxLineBytes = 8 << 20

// ErrLineTooLong is returned when a line exceeds MaxLineBytes.
var ErrLineTooLong = errors.New("sse: line too long")

// Reader decodes a text/event-stream.
type Reader struct {
	s        *bufio.Scanner
	comments int
	started  bool
}

// NewReader returns a Reader that decodes r.
func NewReader(r io.Reader) *Reader {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64*1024), MaxLineBytes)
	s.Split(scanLines)
	return &Reader{s: s}
}

// Comments reports how many comment lines (": ...") were read so far.
func (r *Reader) Comments() int { return r.comments }

// Next returns the next frame. It returns io.EOF when the stream ends
// cleanly and io.ErrUnexpectedEOF when it ends inside a frame (the
// connection dropped before the blank line that dispatches it).
func (r *Reader) Next() (Frame, error) {
	f := Frame{Retry: -1}
	var data strings.Builder
	hasData, inFrame := false, false
	for r.s.Scan() {
		line := r.s.Text()
		if !r.started {
			r.started = true
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" {
			if !hasData && !inFrame {
				continue
			}
			if !hasData {
				// A frame without data is not dispatched (per the standard),
				// but its id still counts; keep it for the caller.
				if f.HasID {
					return f, nil
				}
				f, inFrame = Frame{Retry: -1}, false
				continue
			}
			f.Data = data.String()
			return f, nil
		}
		if line[0] == ':' {
			r.comments++
			continue
		}
		inFrame = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "event":
			f.Event = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				f.ID, f.HasID = value, true
			}
		case "retry":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 {
				f.Retry = n
			}
		}
	}
	if err := r.s.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Frame{}, ErrLineTooLong
		}
		return Frame{}, err
	}
	if inFrame {
		return Frame{}, io.ErrUnexpectedEOF
	}
	return Frame{}, io.EOF
}

// scanLines splits on "\n", "\r\n" or a lone "\r", as the standard requires.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if !atEOF {
				return 0, nil, nil // need one more byte to know if "\n" follows
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Write writes one frame to w. Data is split into "data" lines at each line
// break the format knows ("\r\n", "\n" or a lone "\r", as the Reader reads
// them), so nothing after a break is lost; a Reader gives the lines back
// joined with "\n". (A "\r" that must survive needs encoding in the data,
// as JSON does.) An empty ID and Event are omitted.
func Write(w io.Writer, f Frame) error {
	var b strings.Builder
	if f.Event != "" {
		if strings.ContainsAny(f.Event, "\r\n") {
			return fmt.Errorf("sse: event name %q contains a newline", f.Event)
		}
		b.WriteString("event: " + f.Event + "\n")
	}
	if f.HasID || f.ID != "" {
		if strings.ContainsAny(f.ID, "\r\n\x00") {
			return fmt.Errorf("sse: id %q contains a newline or NUL", f.ID)
		}
		b.WriteString("id: " + f.ID + "\n")
	}
	if f.Retry >= 0 && f.Retry != 0 {
		b.WriteString("retry: " + strconv.Itoa(f.Retry) + "\n")
	}
	for _, line := range strings.Split(lineBreaks.Replace(f.Data), "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// lineBreaks turns the format's line breaks into "\n".
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// WriteComment writes a comment line, such as a keep-alive.
func WriteComment(w io.Writer, text string) error {
	if strings.ContainsAny(text, "\r\n") {
		return fmt.Errorf("sse: comment %q contains a newline", text)
	}
	_, err := io.WriteString(w, ": "+text+"\n\n")
	return err
}
