package refserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// abandonedAfter is how old an in-progress record must be before a retry
// may take the key over: longer than any request that writes one runs.
const abandonedAfter = time.Minute

// idem is the Idempotency-Key of one request (nil when it has none) with
// the digest of what makes two requests the same.
type idem struct {
	tenant, op, key, hash string
}

// idemFor returns the idempotency guard of a request to operation op with
// the given Idempotency-Key header (nil: no guard). The digest covers op,
// the path parameters in parts and the canonical form of the request body,
// so key order and whitespace do not make two requests differ.
func idemFor(ctx context.Context, op string, key *string, parts ...string) *idem {
	if key == nil {
		return nil
	}
	ri := info(ctx)
	return &idem{tenant: ri.tenant, op: op, key: *key, hash: requestHash(op, canonicalJSON(ri.body), parts...)}
}

func requestHash(op string, body []byte, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(op))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON decodes and re-encodes a JSON body (sorted keys, no
// insignificant whitespace, numbers as written). A body that is not JSON is
// returned as is.
func canonicalJSON(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

// lookup finds the key's record: a stored answer to replay (rec != nil),
// an error for a key reused with another request or still in progress, or
// nothing (go ahead). A nil guard finds nothing.
func (k *idem) lookup(tx store.Tx) (*store.Idempotency, error) {
	if k == nil {
		return nil, nil
	}
	rec, err := tx.GetIdempotency(k.tenant, k.op, k.key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.RequestHash != k.hash {
		return nil, newError(http.StatusUnprocessableEntity, gen.ProblemCodeIdempotencyKeyReused,
			"This Idempotency-Key was used for a different %s request; use a new key for a new request.", k.op)
	}
	if rec.StatusCode == 0 && time.Since(rec.CreatedAt) > abandonedAfter {
		return nil, nil // its request died midway (a crash): start again
	}
	if rec.StatusCode == 0 {
		e := conflict(gen.ProblemCodeIdempotencyInProgress, "A %s request with this Idempotency-Key is still being processed.", k.op)
		e.retryAfter = 1
		return nil, e
	}
	return rec, nil
}

// record is the record that stores an answer under the key.
func (k *idem) record(status int, body []byte, at time.Time) *store.Idempotency {
	return &store.Idempotency{
		Tenant: k.tenant, Operation: k.op, Key: k.key, RequestHash: k.hash,
		StatusCode: status, Body: body, CreatedAt: at,
	}
}

// idempotent runs fn in one Update transaction guarded by k: a stored
// answer is replayed without running fn; otherwise fn's answer is encoded,
// stored under k in the same transaction, and returned. An error from fn
// stores nothing, so a retry runs again.
func (s *Server) idempotent(ctx context.Context, k *idem, fn func(tx store.Tx) (int, any, error)) (rawResponse, error) {
	var resp rawResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		rec, err := k.lookup(tx)
		if err != nil {
			return err
		}
		if rec != nil {
			resp = rawResponse{status: rec.StatusCode, body: rec.Body, replayed: true}
			return nil
		}
		status, v, err := fn(tx)
		if err != nil {
			return err
		}
		body, err := encodeJSON(v)
		if err != nil {
			return err
		}
		resp = rawResponse{status: status, body: body}
		if k == nil {
			return nil
		}
		return tx.PutIdempotency(k.record(status, body, s.now()))
	})
	return resp, err
}
