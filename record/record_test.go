package record_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession/record"
	"github.com/google/go-cmp/cmp"
)

func turn(id string, i int) *record.Turn {
	return &record.Turn{
		SessionID: id, TurnIndex: int32(i), Prompt: fmt.Sprintf("prompt %d", i),
		StartedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		DurationMs: 1.5, StopReason: "end_turn",
		Events: []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"seq":%d,"type":"text","content":"hi","future_field":true}`, i))},
		Attempts: []record.Attempt{
			{Number: 1, Method: "POST", URL: "http://h/v1/sessions/x/turns", Status: 503, DurationMs: 2, WaitMs: 250},
			{Number: 2, Method: "POST", URL: "http://h/v1/sessions/x/turns", Error: "connection reset", DurationMs: 1, WaitMs: 500},
			{Number: 3, Method: "POST", URL: "http://h/v1/sessions/x/turns", Status: 200, DurationMs: 3},
		},
	}
}

func TestAppendAndRead(t *testing.T) {
	dir := t.TempDir()
	r, err := record.New(filepath.Join(dir, "new", "sub"))
	if err != nil {
		t.Fatal(err)
	}
	var want []record.Turn
	for i := 1; i <= 3; i++ {
		if err := r.Append(turn("sess_a", i)); err != nil {
			t.Fatal(err)
		}
		want = append(want, *turn("sess_a", i))
	}
	if err := r.Append(turn("sess_b", 9)); err != nil {
		t.Fatal(err)
	}
	got, err := record.Read(r.Dir(), "sess_a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("turns (-want +got):\n%s", diff)
	}
	// One line per turn.
	b, _ := os.ReadFile(filepath.Join(r.Dir(), "sess_a.jsonl"))
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("%d lines, want 3", n)
	}
}

func TestReadMissingAndInvalidID(t *testing.T) {
	dir := t.TempDir()
	if _, err := record.Read(dir, "sess_none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing record = %v, want fs.ErrNotExist", err)
	}
	r, _ := record.New(dir)
	for _, id := range []string{"", "../etc/passwd", "a/b", "x.jsonl", strings.Repeat("a", 129)} {
		if err := r.Append(&record.Turn{SessionID: id}); !errors.Is(err, record.ErrInvalidSessionID) {
			t.Errorf("Append(%q) = %v, want ErrInvalidSessionID", id, err)
		}
		if _, err := record.Read(dir, id); !errors.Is(err, record.ErrInvalidSessionID) {
			t.Errorf("Read(%q) = %v, want ErrInvalidSessionID", id, err)
		}
	}
}

func TestLinesOverOneMiB(t *testing.T) {
	r, _ := record.New(t.TempDir())
	big := turn("sess_big", 1)
	big.Prompt = strings.Repeat("x", 3<<20) // 3 MiB: beyond bufio.Scanner's default limit
	if err := r.Append(big); err != nil {
		t.Fatal(err)
	}
	if err := r.Append(turn("sess_big", 2)); err != nil {
		t.Fatal(err)
	}
	got, err := record.Read(r.Dir(), "sess_big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Prompt) != 3<<20 || got[1].TurnIndex != 2 {
		t.Fatalf("read %d turns (first prompt %d bytes)", len(got), len(got[0].Prompt))
	}
}

func TestTornLastLine(t *testing.T) {
	r, _ := record.New(t.TempDir())
	for i := 1; i <= 2; i++ {
		if err := r.Append(turn("sess_t", i)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(r.Dir(), "sess_t.jsonl")
	line, _ := json.Marshal(turn("sess_t", 3))
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.Write(line[:len(line)/2]) // a crash in the middle of the third line
	f.Close()

	got, err := record.Read(r.Dir(), "sess_t")
	if len(got) != 2 || got[1].TurnIndex != 2 {
		t.Errorf("kept %d turns, want the 2 complete ones", len(got))
	}
	var le *record.LineError
	if !errors.Is(err, record.ErrTornLine) || !errors.As(err, &le) || le.Line != 3 || !le.Torn {
		t.Fatalf("err = %v, want a torn *LineError on line 3", err)
	}

	// Appending after the crash terminates the torn fragment first: the new
	// turn is intact and the fragment is reported as a bad (not torn) line.
	if err := r.Append(turn("sess_t", 4)); err != nil {
		t.Fatal(err)
	}
	got, err = record.Read(r.Dir(), "sess_t")
	if n := len(got); n != 3 || got[2].TurnIndex != 4 {
		t.Fatalf("after the append: %d turns, want 3 ending with turn 4", n)
	}
	if errors.Is(err, record.ErrTornLine) || !errors.As(err, &le) || le.Line != 3 || le.Torn {
		t.Errorf("err = %v, want a non-torn *LineError on line 3", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	r, _ := record.New(t.TempDir())
	const sessions, turns = 20, 25
	var wg sync.WaitGroup
	for s := range sessions {
		for i := range turns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := turn(fmt.Sprintf("sess_%d", s), i+1)
				tr.Prompt = strings.Repeat("p", 70_000) // over PIPE_BUF: atomicity comes from the lock
				if err := r.Append(tr); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	for s := range sessions {
		got, err := record.Read(r.Dir(), fmt.Sprintf("sess_%d", s))
		if err != nil || len(got) != turns {
			t.Fatalf("session %d: %d turns, %v", s, len(got), err)
		}
		seen := map[int32]bool{}
		for _, tr := range got {
			seen[tr.TurnIndex] = true
		}
		if len(seen) != turns {
			t.Errorf("session %d: %d distinct turns, want %d", s, len(seen), turns)
		}
	}
}
