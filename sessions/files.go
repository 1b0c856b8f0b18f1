package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
)

// UploadParams describes a file to upload.
type UploadParams struct {
	// Filename is the file's name; its base name is sent. Required.
	Filename string
	// Content is read whole, before the first attempt, so that a retry can
	// send it again.
	Content io.Reader
	// ContentType is the file's media type; "" takes it from the file
	// name's extension, else from the content.
	ContentType string
}

// Upload stores a file and returns its metadata; pass its FileToken to a
// turn with WithFiles. Files belong to the tenant: any session's turns may
// use the token. A file over the server's limit fails with
// agentsession.ErrTooLarge.
func (s *Session) Upload(ctx context.Context, p UploadParams, opts ...agentsession.CallOption) (*File, error) {
	name := filepath.Base(p.Filename)
	if p.Filename == "" || name == "." || name == string(filepath.Separator) {
		return nil, errors.New("sessions: Upload: empty file name")
	}
	if p.Content == nil {
		return nil, errors.New("sessions: Upload: no content (nil reader)")
	}
	data, err := io.ReadAll(p.Content)
	if err != nil {
		return nil, fmt.Errorf("sessions: Upload: reading %s: %w", name, err)
	}
	ctype := p.ContentType
	if ctype == "" {
		ctype = mime.TypeByExtension(filepath.Ext(name))
	}
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	if strings.ContainsAny(ctype, "\r\n") {
		return nil, fmt.Errorf("sessions: Upload: content type %q holds a line break", ctype)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(name)))
	h.Set("Content-Type", ctype)
	part, err := mw.CreatePart(h)
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: Upload: %w", err)
	}
	req, err := gen.NewUploadFileRequestWithBody(s.c.BaseURL(), nil, mw.FormDataContentType(), bytes.NewReader(body.Bytes()))
	return do[File](ctx, s.c, req, err, opts)
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// UploadFile uploads the file at path under its base name, its media type
// taken from the name's extension, else from the content.
func (s *Session) UploadFile(ctx context.Context, path string, opts ...agentsession.CallOption) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sessions: UploadFile: %w", err)
	}
	defer f.Close()
	return s.Upload(ctx, UploadParams{Filename: filepath.Base(path), Content: f}, opts...)
}

// File returns the metadata of an uploaded file.
func (s *Session) File(ctx context.Context, token string, opts ...agentsession.CallOption) (*File, error) {
	req, err := gen.NewGetFileRequest(s.c.BaseURL(), token)
	return do[File](ctx, s.c, req, err, opts)
}
