package refserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
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

func encodeCursor(list, scope string, pos int64) *string {
	if pos <= 0 {
		return nil
	}
	c := base64.RawURLEncoding.EncodeToString([]byte("v1|" + list + "|" + scope + "|" + strconv.FormatInt(pos, 10)))
	return &c
}

// decodeCursor returns the position a cursor holds (0 without a cursor).
func decodeCursor(cursor *string, list, scope string) (int64, error) {
	if cursor == nil {
		return 0, nil
	}
	bad := newError(http.StatusBadRequest, codeInvalidCursor,
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
