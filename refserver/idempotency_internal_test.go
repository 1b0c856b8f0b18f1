package refserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

func TestIdempotencyLookup(t *testing.T) {
	st := store.NewMemory()
	k := &idem{tenant: "tn", op: "cancelTurn", key: "k", hash: "h"}
	put := func(status int, hash string, at time.Time) {
		t.Helper()
		r := k.record(status, []byte("{}\n"), at)
		r.RequestHash = hash
		if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.PutIdempotency(r) }); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func() (*store.Idempotency, error) {
		var rec *store.Idempotency
		err := st.View(context.Background(), func(tx store.Tx) (err error) {
			rec, err = k.lookup(tx)
			return err
		})
		return rec, err
	}
	code := func(err error) gen.ProblemCode {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae.code
		}
		return ""
	}
	now := time.Now().UTC()
	tests := []struct {
		name     string
		status   int
		hash     string
		at       time.Time
		wantCode gen.ProblemCode
		wantRec  bool
	}{
		{"finished", 200, "h", now, "", true},
		{"another request", 200, "other", now, gen.ProblemCodeIdempotencyKeyReused, false},
		{"in progress", 0, "h", now, gen.ProblemCodeIdempotencyInProgress, false},
		{"abandoned in progress", 0, "h", now.Add(-2 * abandonedAfter), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(tt.status, tt.hash, tt.at)
			rec, err := lookup()
			if code(err) != tt.wantCode || (rec != nil) != tt.wantRec || (tt.wantCode == "" && err != nil) {
				t.Errorf("rec %v, err %v; want code %q, record %v", rec, err, tt.wantCode, tt.wantRec)
			}
		})
	}
	var none *idem
	if rec, err := func() (*store.Idempotency, error) {
		var rec *store.Idempotency
		err := st.View(context.Background(), func(tx store.Tx) (err error) { rec, err = none.lookup(tx); return err })
		return rec, err
	}(); rec != nil || err != nil {
		t.Errorf("a request without a key found %v, %v", rec, err)
	}
}

func TestCanonicalJSON(t *testing.T) {
	a := canonicalJSON([]byte(` {"b": [1, 2.50], "a": {"y": null, "x": "s"}} `))
	b := canonicalJSON([]byte(`{"a":{"x":"s","y":null},"b":[1,2.50]}`))
	if string(a) != string(b) {
		t.Errorf("%s != %s", a, b)
	}
	if string(canonicalJSON(nil)) != "" || string(canonicalJSON([]byte("not json"))) != "not json" {
		t.Error("non-JSON bodies must pass through")
	}
}
