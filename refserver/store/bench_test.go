package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// benchStores runs fn against each implementation.
func benchStores(b *testing.B, fn func(b *testing.B, s store.Store)) {
	b.Run("memory", func(b *testing.B) {
		s := store.NewMemory()
		defer s.Close()
		fn(b, s)
	})
	b.Run("sqlite", func(b *testing.B) {
		s, err := store.OpenSQLite(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
}

func benchSession(b *testing.B, s store.Store) *store.Session {
	b.Helper()
	now := time.Now()
	sess := &store.Session{Tenant: "tenant", ID: "sess_bench", Agent: "echo", Status: gen.SessionStatusActive,
		Meta: map[string]any{"team": "bench"}, CreatedAt: now, UpdatedAt: now}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateSession(sess) }); err != nil {
		b.Fatal(err)
	}
	return sess
}

// BenchmarkAppendEvent: one Update that appends one text event.
func BenchmarkAppendEvent(b *testing.B) {
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		benchSession(b, s)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			ev := gen.Event{Seq: int64(i + 1), TurnIndex: 1, Type: gen.EventTypeText, Content: "Hello, world", CreatedAt: time.Now()}
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.AppendEvent("tenant", "sess_bench", ev) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTurnCycle is what an echo turn costs the store, in the three
// transactions a turn runner makes: accept (create the turn, count it on
// the session), persist its one event (and the session's last seq), finish
// (end the turn, touch the session).
func BenchmarkTurnCycle(b *testing.B) {
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		benchSession(b, s)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			index := i + 1
			prompt := "echo this"
			err := s.Update(ctx, func(tx store.Tx) error {
				sess, err := tx.GetSession("tenant", "sess_bench")
				if err != nil {
					return err
				}
				now := time.Now()
				if err := tx.CreateTurn(&store.Turn{Tenant: "tenant", SessionID: sess.ID, Index: index, Prompt: prompt,
					BusyPolicy: gen.BusyPolicyReject, Status: gen.TurnStatusRunning, CreatedAt: now, StartedAt: now}); err != nil {
					return err
				}
				sess.TurnCount++
				sess.LastTurnAt, sess.UpdatedAt = now, now
				return tx.UpdateSession(sess)
			})
			if err != nil {
				b.Fatal(err)
			}
			err = s.Update(ctx, func(tx store.Tx) error {
				sess, err := tx.GetSession("tenant", "sess_bench")
				if err != nil {
					return err
				}
				sess.LastEventSeq++
				ev := gen.Event{Seq: sess.LastEventSeq, TurnIndex: int32(index), Type: gen.EventTypeText, Content: prompt, CreatedAt: time.Now()}
				if err := tx.AppendEvent("tenant", sess.ID, ev); err != nil {
					return err
				}
				return tx.UpdateSession(sess)
			})
			if err != nil {
				b.Fatal(err)
			}
			err = s.Update(ctx, func(tx store.Tx) error {
				tr, err := tx.GetTurn("tenant", "sess_bench", index)
				if err != nil {
					return err
				}
				sess, err := tx.GetSession("tenant", "sess_bench")
				if err != nil {
					return err
				}
				now := time.Now()
				tr.Status, tr.StopReason, tr.EndedAt = gen.TurnStatusCompleted, gen.StopReasonEndTurn, now
				tr.EventCount, tr.FirstSeq, tr.LastSeq = 1, sess.LastEventSeq, sess.LastEventSeq
				if err := tx.UpdateTurn(tr); err != nil {
					return err
				}
				sess.UpdatedAt = now
				return tx.UpdateSession(sess)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
