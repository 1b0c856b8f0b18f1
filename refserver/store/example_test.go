package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// Update is all-or-nothing: the session and its first turn are written
// together, and a failed transaction leaves nothing behind.
func Example() {
	ctx := context.Background()
	s := store.NewMemory() // or store.OpenSQLite(path)
	defer s.Close()

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	err := s.Update(ctx, func(tx store.Tx) error {
		sess := &store.Session{Tenant: "tenant-a", ID: "sess_1", Agent: "echo", Status: gen.SessionStatusActive,
			TurnCount: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		return tx.CreateTurn(&store.Turn{Tenant: "tenant-a", SessionID: "sess_1", Index: 1, Prompt: "hi",
			Status: gen.TurnStatusQueued, CreatedAt: now})
	})
	if err != nil {
		log.Fatal(err)
	}

	// A failing transaction keeps none of its writes.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateSession(&store.Session{Tenant: "tenant-a", ID: "sess_2", Agent: "echo"}); err != nil {
			return err
		}
		return errors.New("something went wrong")
	})
	fmt.Println("second update:", err)

	_ = s.View(ctx, func(tx store.Tx) error {
		n, _ := tx.CountSessions("tenant-a", store.SessionQuery{})
		fmt.Println("sessions of tenant-a:", n)
		_, err := tx.GetSession("tenant-b", "sess_1")
		fmt.Println("tenant-b sees sess_1:", !errors.Is(err, store.ErrNotFound))
		return nil
	})
	// Output:
	// second update: something went wrong
	// sessions of tenant-a: 1
	// tenant-b sees sess_1: false
}

// Lists return one page and the position of the next one (0 at the end).
func ExampleTx_ListSessions() {
	ctx := context.Background()
	s := store.NewMemory()
	defer s.Close()
	_ = s.Update(ctx, func(tx store.Tx) error {
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			if err := tx.CreateSession(&store.Session{Tenant: "t", ID: id, Agent: "echo", Status: gen.SessionStatusActive}); err != nil {
				return err
			}
		}
		return nil
	})
	_ = s.View(ctx, func(tx store.Tx) error {
		q := store.SessionQuery{Page: store.Page{Limit: 2}}
		for {
			page, next, err := tx.ListSessions("t", q)
			if err != nil {
				return err
			}
			for _, sess := range page {
				fmt.Print(sess.ID, " ")
			}
			fmt.Println("| next page:", next != 0)
			if next == 0 {
				return nil
			}
			q.AfterOrd = next
		}
	})
	// Output:
	// a b | next page: true
	// c d | next page: true
	// e | next page: false
}

// OpenSQLite keeps everything in one file, across restarts.
func ExampleOpenSQLite() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "agentsession.db")
	ctx := context.Background()

	s, err := store.OpenSQLite(path)
	if err != nil {
		log.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateSession(&store.Session{Tenant: "t", ID: "sess_1", Agent: "echo", Status: gen.SessionStatusActive})
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()

	s, err = store.OpenSQLite(path) // a restart
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	_ = s.View(ctx, func(tx store.Tx) error {
		sess, err := tx.GetSession("t", "sess_1")
		if err != nil {
			return err
		}
		fmt.Println(sess.ID, sess.Agent, sess.Status)
		return nil
	})
	// Output: sess_1 echo active
}
