package record

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/agentsession/agentsession/internal/keyedlock"
)

// Turn is one line of a session's record: a turn as the client saw it.
type Turn struct {
	SessionID string `json:"session_id"`
	// TurnIndex is the server's turn number, 0 when the turn never got one
	// (it was rejected, or the call failed before the server answered).
	TurnIndex int32    `json:"turn_index,omitempty"`
	Prompt    string   `json:"prompt"`
	Files     []string `json:"files,omitempty"`
	// Stream is true for a streamed turn (TurnStream).
	Stream bool `json:"stream,omitempty"`
	// IdempotencyKey is the key the turn was sent with.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// RequestID is the X-Request-Id of the answer that started the turn.
	RequestID string `json:"request_id,omitempty"`
	// StartedAt is when the client sent the turn.
	StartedAt time.Time `json:"started_at"`
	// DurationMs is how long the call took on the client, in milliseconds.
	DurationMs float64 `json:"duration_ms"`
	// StopReason is why the turn ended, "" when the client never learned.
	StopReason string `json:"stop_reason,omitempty"`
	// Events are the turn's events exactly as the server sent them
	// (unknown event types included), in seq order.
	Events []json.RawMessage `json:"events"`
	// Attempts are the HTTP attempts of the turn's calls, in order: the
	// send, then any stream resumes.
	Attempts []Attempt `json:"attempts"`
	// Resumes counts the times a dropped stream was resumed.
	Resumes int `json:"resumes,omitempty"`
	// Error is the call's error, "" when the turn ended normally.
	Error string `json:"error,omitempty"`
}

// Attempt is one HTTP attempt of a turn's calls.
type Attempt struct {
	Number int    `json:"number"` // 1-based, per call
	Method string `json:"method"`
	URL    string `json:"url"` // no query, no userinfo
	// Status is the HTTP status, 0 when no response arrived (see Error).
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// DurationMs is how long the attempt took, up to the response headers.
	DurationMs float64 `json:"duration_ms"`
	// WaitMs is the delay before the next attempt, 0 for the last one.
	WaitMs float64 `json:"wait_ms,omitempty"`
}

// Ms converts a duration to the milliseconds stored in a record.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fromMs(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Duration is how long the turn's call took on the client (DurationMs).
func (t *Turn) Duration() time.Duration { return fromMs(t.DurationMs) }

// Duration is how long the attempt took (DurationMs).
func (a *Attempt) Duration() time.Duration { return fromMs(a.DurationMs) }

// Wait is the delay before the next attempt (WaitMs).
func (a *Attempt) Wait() time.Duration { return fromMs(a.WaitMs) }

// validID is the contract's session id pattern; it also keeps file names
// inside the directory.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ErrInvalidSessionID is returned for a session id that cannot name a file.
var ErrInvalidSessionID = errors.New("record: invalid session id")

// Path returns the file that holds a session's record in dir.
func Path(dir, sessionID string) (string, error) {
	if !validID.MatchString(sessionID) {
		return "", fmt.Errorf("%w %q", ErrInvalidSessionID, sessionID)
	}
	return filepath.Join(dir, sessionID+".jsonl"), nil
}

// Recorder appends turns to one JSONL file per session in a directory. It is
// safe for concurrent use: appends to one file are serialized, appends to
// different files run in parallel.
type Recorder struct {
	dir   string
	locks keyedlock.Locks
}

// New returns a Recorder writing into dir, which it creates if needed.
func New(dir string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Recorder{dir: dir}, nil
}

// Dir returns the recorder's directory.
func (r *Recorder) Dir() string { return r.dir }

// Append writes t as one line at the end of its session's file, creating
// the file if needed. The line is written with a single write; a line left
// torn by an earlier crash is terminated first, so it cannot swallow this one.
func (r *Recorder) Append(t *Turn) error {
	path, err := Path(r.dir, t.SessionID)
	if err != nil {
		return err
	}
	if t.Events == nil {
		t.Events = []json.RawMessage{}
	}
	if t.Attempts == nil {
		t.Attempts = []Attempt{}
	}
	line, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	line = append(line, '\n')

	held, err := r.locks.Lock(context.Background(), t.SessionID)
	if err != nil {
		return err
	}
	defer held.Unlock()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if torn, err := endsTorn(f); err != nil {
		f.Close()
		return fmt.Errorf("record: %w", err)
	} else if torn {
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("record: %w", err)
	}
	return f.Close()
}

// endsTorn reports whether f is non-empty and does not end with a newline.
func endsTorn(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return false, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], fi.Size()-1); err != nil {
		return false, err
	}
	return b[0] != '\n', nil
}

// ErrTornLine is matched (errors.Is) by the *LineError of a last line that
// has no newline: the writer stopped in the middle of it (a crash).
var ErrTornLine = errors.New("record: torn last line")

// LineError reports a line that could not be read back.
type LineError struct {
	Path   string
	Line   int   // 1-based
	Offset int64 // byte offset of the line's start
	// Torn is true for a last line without its newline.
	Torn bool
	Err  error
}

func (e *LineError) Error() string {
	if e.Torn {
		return fmt.Sprintf("record: %s:%d: torn last line (%v)", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("record: %s:%d: %v", e.Path, e.Line, e.Err)
}

// Unwrap lets errors.Is match ErrTornLine for a torn line.
func (e *LineError) Unwrap() []error {
	if e.Torn {
		return []error{ErrTornLine, e.Err}
	}
	return []error{e.Err}
}

// Read returns the turns recorded for a session in dir, oldest first. Lines
// of any length are read. Lines that cannot be decoded do not stop the
// reading: Read returns every good turn together with an error joining one
// *LineError per bad line (errors.Is(err, ErrTornLine) when the last line
// was torn by a crash). A session without a record gives no turns and an
// error matching fs.ErrNotExist.
func Read(dir, sessionID string) ([]Turn, error) {
	path, err := Path(dir, sessionID)
	if err != nil {
		return nil, err
	}
	return ReadFile(path)
}

// ReadFile is Read for a record file given by its path.
func ReadFile(path string) ([]Turn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	turns := []Turn{}
	var bad []error
	br := bufio.NewReaderSize(f, 64<<10)
	var offset int64
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 {
			start := offset
			offset += int64(len(line))
			if err == io.EOF { // no newline: the writer stopped mid-line
				bad = append(bad, &LineError{Path: path, Line: n, Offset: start, Torn: true,
					Err: fmt.Errorf("%d bytes without a newline", len(line))})
				break
			}
			var t Turn
			if body := bytes.TrimSpace(line); len(body) == 0 {
				continue
			} else if derr := json.Unmarshal(body, &t); derr != nil {
				bad = append(bad, &LineError{Path: path, Line: n, Offset: start, Err: derr})
				continue
			}
			turns = append(turns, t)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return turns, fmt.Errorf("record: %s: %w", path, err)
		}
	}
	return turns, errors.Join(bad...)
}

// readLine returns the next line including its newline, however long; at the
// end of the input it returns what is left with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return bytes.Clone(line), err
	}
	buf := bytes.Clone(line)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		buf = append(buf, line...)
	}
	return buf, err
}
