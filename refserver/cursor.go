package refserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// Cursors are opaque to clients: base64url of "v1|<list>|<scope>|<position>".
// The scope is a digest of the tenant, the parent resource and the filters,
// so a cursor only works for the list that issued it; anything else is
// 400 invalid_cursor.

// listScope digests what identifies one list.
func listScope(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:6])
}

// encodeCursor returns the cursor of position pos ("" at the end of a list).
func encodeCursor(list, scope string, pos int64) string {
	if pos <= 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("v1|" + list + "|" + scope + "|" + strconv.FormatInt(pos, 10)))
}

// decodeCursor returns the position a cursor holds (0 without a cursor).
func decodeCursor(cursor *string, list, scope string) (int64, error) {
	if cursor == nil {
		return 0, nil
	}
	bad := newError(http.StatusBadRequest, gen.ProblemCodeInvalidCursor,
		"The cursor was not issued by this server for this list; start again without a cursor.")
	raw, err := base64.RawURLEncoding.DecodeString(*cursor)
	if err != nil {
		return 0, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] != list || parts[2] != scope {
		return 0, bad
	}
	pos, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || pos <= 0 {
		return 0, bad
	}
	return pos, nil
}

// pageSize applies the default page size; the spec bounds limit to 1..100.
func pageSize(limit *int32) int {
	if limit == nil || *limit <= 0 {
		return DefaultPageSize
	}
	return int(min(*limit, MaxPageSize))
}

// readPage reads one page of a cursor-paged list, the same way for every
// list: it decodes cursor for (list, scope), calls read inside a read
// transaction with the position to start after and the page size, and
// returns the items (never nil) with the cursor of the next page ("" on
// the last page).
func readPage[T any](ctx context.Context, st store.Store, list, scope string, cursor *string, limit *int32,
	read func(tx store.Tx, after int64, limit int) ([]T, int64, error)) ([]T, string, error) {
	after, err := decodeCursor(cursor, list, scope)
	if err != nil {
		return nil, "", err
	}
	var items []T
	var next int64
	err = st.View(ctx, func(tx store.Tx) error {
		var err error
		items, next, err = read(tx, after, pageSize(limit))
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return nonNil(items), encodeCursor(list, scope, next), nil
}
