package paging

import (
	"context"
	"errors"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/google/go-cmp/cmp"
)

func TestSeq(t *testing.T) {
	pages := map[string]struct {
		items []int
		next  string
	}{"": {[]int{1, 2}, "c1"}, "c1": {[]int{3}, "c2"}, "c2": {nil, "c3"}, "c3": {[]int{4, 5}, ""}}
	var cursors []string
	fetch := func(_ context.Context, c string) ([]int, string, error) {
		cursors = append(cursors, c)
		p := pages[c]
		return p.items, p.next, nil
	}
	var got []int
	for v, err := range Seq(context.Background(), fetch) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "c1", "c2", "c3"}, cursors); diff != "" {
		t.Errorf("cursors (-want +got):\n%s", diff)
	}

	// Breaking early fetches no further page.
	cursors = nil
	for v := range Seq(context.Background(), fetch) {
		if v == 2 {
			break
		}
	}
	if len(cursors) != 1 {
		t.Errorf("fetched %d pages after an early break, want 1", len(cursors))
	}
}

func TestSeqErrors(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	for v, err := range Seq(context.Background(), func(context.Context, string) ([]int, string, error) {
		if n++; n == 2 {
			return nil, "", boom
		}
		return []int{n}, "next", nil
	}) {
		if err != nil {
			if !errors.Is(err, boom) {
				t.Errorf("err = %v", err)
			}
			break
		}
		if v != 1 {
			t.Errorf("v = %d", v)
		}
	}
	// The same cursor twice would loop forever.
	var last error
	for _, err := range Seq(context.Background(), func(_ context.Context, c string) ([]int, string, error) {
		return []int{1}, "same", nil
	}) {
		last = err
	}
	if !errors.Is(last, agentsession.ErrCursorLoop) {
		t.Errorf("err = %v, want ErrCursorLoop", last)
	}
}
