package retry

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
)

// isFinalProblem reports whether resp is a problem document whose code is in
// codes. It reads at most maxSnapshotBody bytes of the body, and only of a
// problem document, and puts them back in front of resp.Body, so whoever
// builds the error from the answer reads it whole.
func isFinalProblem(resp *http.Response, codes []string) bool {
	if len(codes) == 0 || resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		return false
	}
	head, readErr := io.ReadAll(io.LimitReader(resp.Body, maxSnapshotBody))
	rest := resp.Body
	if readErr != nil {
		rest = struct {
			io.Reader
			io.Closer
		}{failingReader{readErr}, resp.Body}
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rest), resp.Body}
	if readErr != nil {
		return false // cut short: the answer is unknown, retry as before
	}
	var p struct {
		Code string `json:"code"`
	}
	// A problem larger than the bound does not parse: it is retried as before.
	return json.Unmarshal(head, &p) == nil && slices.Contains(codes, p.Code)
}

// failingReader replays a read error after the bytes already read.
type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }
