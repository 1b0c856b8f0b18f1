package refserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
)

func (a api) UploadFile(ctx context.Context, req genserver.UploadFileRequestObject) (genserver.UploadFileResponseObject, error) {
	tenant := info(ctx).tenant
	var (
		data        []byte
		filename    string
		contentType string
		found       bool
	)
	for {
		part, err := req.Body.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalidField("body", "malformed multipart body: "+err.Error())
		}
		if part.FormName() != "file" || found {
			_ = part.Close()
			continue
		}
		found = true
		filename = part.FileName()
		contentType = part.Header.Get("Content-Type")
		if data, err = io.ReadAll(io.LimitReader(part, a.cfg.MaxFileBytes+1)); err != nil {
			return nil, invalidField("body.file", "the file could not be read: "+err.Error())
		}
		if int64(len(data)) > a.cfg.MaxFileBytes {
			return nil, newError(http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge,
				"The file is over the limit of %d bytes.", a.cfg.MaxFileBytes)
		}
	}
	if !found {
		return nil, invalidField("body.file", "a multipart part named \"file\" is required")
	}
	if filename == "" {
		filename = "file"
	}
	if mt, params, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mime.FormatMediaType(mt, params)
	} else {
		contentType = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	// The multipart boundary is random per request, so the request digest
	// covers what the upload means: name, media type and bytes.
	var k *idem
	if key := req.Params.IdempotencyKey; key != nil {
		k = &idem{tenant: tenant, op: "uploadFile", key: *key, hash: requestHash("uploadFile", nil, filename, contentType, digest)}
	}
	return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		f := gen.File{FileToken: newID("file_"), Filename: filename, ContentType: contentType,
			SizeBytes: int64(len(data)), SHA256: digest, CreatedAt: a.now()}
		if err := tx.CreateFile(tenant, f, data); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, f, nil
	})
}

func (a api) GetFile(ctx context.Context, req genserver.GetFileRequestObject) (genserver.GetFileResponseObject, error) {
	tenant := info(ctx).tenant
	var f *gen.File
	err := a.store.View(ctx, func(tx store.Tx) (err error) {
		f, err = tx.GetFile(tenant, req.FileToken)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No file %s.", req.FileToken)
	}
	if err != nil {
		return nil, err
	}
	return genserver.GetFile200JSONResponse{Body: *f}, nil
}
