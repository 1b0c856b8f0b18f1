package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// EventQuery.ThroughSeq bounds the read, alone and with a turn, and pages
// within the bound; both stores agree.
func TestEventQueryThroughSeq(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) store.Store{
		"memory": func(*testing.T) store.Store { return store.NewMemory() },
		"sqlite": func(t *testing.T) store.Store { return openSQLite(t, filepath.Join(t.TempDir(), "s.db")) },
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			turnOf := []int32{0, 1, 1, 2, 1, 2, 2, 3} // seq -> turn (seq 0 unused)
			mustUpdate(t, s, func(tx store.Tx) error {
				if err := tx.CreateSession(testSession("t1", "s1")); err != nil {
					return err
				}
				for seq := 1; seq < len(turnOf); seq++ {
					ev := gen.Event{Seq: int64(seq), TurnIndex: turnOf[seq], Type: gen.EventTypeText, CreatedAt: time.Unix(int64(seq), 0)}
					if err := tx.AppendEvent("t1", "s1", ev); err != nil {
						return err
					}
				}
				return nil
			})
			for _, tc := range []struct {
				q        store.EventQuery
				want     []int64
				wantNext int64
			}{
				{store.EventQuery{ThroughSeq: 3}, []int64{1, 2, 3}, 0},
				{store.EventQuery{AfterSeq: 2, ThroughSeq: 5}, []int64{3, 4, 5}, 0},
				{store.EventQuery{TurnIndex: 2, ThroughSeq: 5}, []int64{3, 5}, 0},
				{store.EventQuery{TurnIndex: 2, ThroughSeq: 6}, []int64{3, 5, 6}, 0},
				{store.EventQuery{TurnIndex: 2, ThroughSeq: 6, Limit: 2}, []int64{3, 5}, 5},
				{store.EventQuery{TurnIndex: 1, AfterSeq: 1, ThroughSeq: 4, Limit: 2}, []int64{2, 4}, 0},
				{store.EventQuery{TurnIndex: 3, ThroughSeq: 6}, nil, 0},
			} {
				var got []int64
				var next int64
				view(t, s, func(tx store.Tx) error {
					evs, n, err := tx.ListEvents("t1", "s1", tc.q)
					for _, ev := range evs {
						got = append(got, ev.Seq)
					}
					next = n
					return err
				})
				if !equalSeqs(got, tc.want) || next != tc.wantNext {
					t.Errorf("%+v: seqs %v next %d, want %v next %d", tc.q, got, next, tc.want, tc.wantNext)
				}
			}
		})
	}
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
