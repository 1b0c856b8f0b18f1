package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

// testFile is a small upload.
func testFile(name string) *filePart {
	return &filePart{Field: "file", Filename: name, ContentType: "text/plain", Data: []byte("conformance test file " + name + "\n")}
}

// upload sends uploadFile and expects 201.
func (t *tester) upload(ctx context.Context, f *filePart, as tenant) (gen.File, *response, error) {
	resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/files", File: f, As: as})
	if err != nil {
		return gen.File{}, nil, err
	}
	file, err := expectJSON[gen.File](resp, http.StatusCreated)
	return file, resp, err
}

func fileChecks() []*check {
	return []*check{
		def("FILE-001", Must, "uploadFile",
			"uploadFile answers 201 with a file_token and the part's filename, content type, size and SHA-256",
			func(ctx context.Context, t *tester) error {
				f := testFile("notes.txt")
				before, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				got, resp, err := t.upload(ctx, f, asPrimary)
				if err != nil {
					return err
				}
				after, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				if err := expectBetween("uploadFile: created_at", got.CreatedAt, before, after); err != nil {
					return err
				}
				sum := sha256.Sum256(f.Data)
				// Hex is hex in either case.
				got.SHA256 = strings.ToLower(got.SHA256)
				want := gen.File{FileToken: got.FileToken, Filename: f.Filename, ContentType: f.ContentType, SizeBytes: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:]), CreatedAt: got.CreatedAt}
				if got.FileToken == "" {
					return resp.Failf("empty file_token")
				}
				if d := jsonDiff(got, want); d != "" {
					return resp.Failf("file metadata: %s", d)
				}
				return nil
			}, NeedFiles).traces("REQ-FILE-001", "REQ-FILE-005"),
		def("FILE-002", Must, "getFile",
			"getFile returns the uploaded file's metadata",
			func(ctx context.Context, t *tester) error {
				up, _, err := t.upload(ctx, testFile("read-me.txt"), asPrimary)
				if err != nil {
					return err
				}
				resp, err := t.get(ctx, path("/v1/files/%s", up.FileToken), nil)
				if err != nil {
					return err
				}
				got, err := expectJSON[gen.File](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if d := jsonDiff(got, up); d != "" {
					return resp.Failf("getFile differs from the upload's answer: %s", d)
				}
				return nil
			}, NeedFiles).traces("REQ-FILE-003"),
		def("FILE-003", Must, "sendTurn getTurn",
			"a turn accepts an uploaded file's token in files, and the turn lists it",
			func(ctx context.Context, t *tester) error {
				up, _, err := t.upload(ctx, testFile("input.txt"), asPrimary)
				if err != nil {
					return err
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "read the file", "files": []string{up.FileToken}}, nil)
				if err != nil {
					return err
				}
				if _, err := expectJSON[gen.TurnResult](resp, http.StatusOK); err != nil {
					return err
				}
				tr, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if d := jsonDiff(tr.Files, []string{up.FileToken}); d != "" {
					return Failf("getTurn files: %s", d)
				}
				return nil
			}, NeedFiles).traces("REQ-FILE-004"),
		def("FILE-004", Must, "sendTurn",
			"a turn naming a file token the tenant never uploaded answers 422 unknown_file",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "read", "files": []string{"file_conformance_unknown"}}, nil)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownFile)
			}, NeedFiles).traces("REQ-FILE-004"),
		def("FILE-005", Must, "getFile",
			"getFile for a token that does not exist answers 404 not_found",
			func(ctx context.Context, t *tester) error {
				resp, err := t.get(ctx, path("/v1/files/%s", "file_conformance_unknown"), nil)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound)
			}, NeedFiles).traces("REQ-ERR-011"),
		def("FILE-006", Must, "uploadFile",
			"an upload without a part named file answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				f := testFile("wrong-field.txt")
				f.Field = "attachment"
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/files", File: f})
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
			}, NeedFiles).traces("REQ-FILE-002"),
		def("FILE-007", Must, "uploadFile",
			"an upload of exactly limits.max_file_bytes is accepted; one byte more answers 413 payload_too_large",
			func(ctx context.Context, t *tester) error {
				limit := t.env.caps.Limits.MaxFileBytes
				if limit < 1 || limit > 32<<20 {
					return Skipf("max_file_bytes is %d: the check sends at most 32 MiB", limit)
				}
				data := bytes.Repeat([]byte{'x'}, int(limit)+1)
				at := &filePart{Field: "file", Filename: "exactly-the-limit.bin", ContentType: "application/octet-stream", Data: data[:limit]}
				got, resp, err := t.upload(ctx, at, asPrimary)
				if err != nil {
					return err
				}
				if got.SizeBytes != limit {
					return resp.Failf("size_bytes %d for an upload of exactly max_file_bytes (%d)", got.SizeBytes, limit)
				}
				over := &filePart{Field: "file", Filename: "one-byte-over.bin", ContentType: "application/octet-stream", Data: data}
				if resp, err = t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/files", File: over}); err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge)
			}, NeedFiles).traces("REQ-CAP-007"),
	}
}
