package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// A first smoke test; the shared suite in storetest covers the contract.
func TestMemorySmoke(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	defer s.Close()
	sess := &store.Session{Tenant: "t1", ID: "s1", Agent: "echo", Status: gen.SessionStatusActive, Meta: map[string]any{"a": 1}}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateSession(sess) }); err != nil {
		t.Fatal(err)
	}
	if sess.Ord == 0 {
		t.Fatal("Ord not set")
	}
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateTurn(&store.Turn{Tenant: "t1", SessionID: "s1", Index: 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetTurn("t1", "s1", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rolled-back turn: err = %v", err)
		}
		if _, err := tx.GetSession("t2", "s1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other tenant: err = %v", err)
		}
		got, err := tx.GetSession("t1", "s1")
		if err != nil {
			return err
		}
		if got.Meta["a"] != float64(1) {
			t.Errorf("meta = %v", got.Meta)
		}
		return tx.UpdateSession(got)
	})
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("write in View: err = %v", err)
	}
}
