package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/keyedlock"
	"github.com/agentsession/agentsession/internal/paging"
)

// Service creates, finds and lists sessions, and uploads files. It is safe
// for concurrent use; make one per Client and share it: the handles it
// returns serialize turns per session id through it.
type Service struct {
	c     *agentsession.Client
	turns keyedlock.Locks // one lock per session id: turns run one at a time
}

// New returns the sessions service of c.
func New(c *agentsession.Client) *Service { return &Service{c: c} }

// Client returns the client the service calls through.
func (s *Service) Client() *agentsession.Client { return s.c }

// Session returns a handle for the session id without calling the server;
// its Info is nil until Refresh.
func (s *Service) Session(id string) *Session { return &Session{svc: s, id: id} }

func (s *Service) handle(info *Info) *Session {
	h := &Session{svc: s, id: info.SessionID}
	h.info.Store(info)
	return h
}

// NewSession creates an active session with p.Agent and returns its handle.
func (s *Service) NewSession(ctx context.Context, p CreateParams, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewCreateSessionRequest(s.c.BaseURL(), nil, p.body())
	if err != nil {
		return nil, err
	}
	var info Info
	if _, err := s.c.Do(ctx, req, &info, opts...); err != nil {
		return nil, err
	}
	return s.handle(&info), nil
}

// Get fetches the session id and returns its handle.
func (s *Service) Get(ctx context.Context, id string, opts ...agentsession.CallOption) (*Session, error) {
	h := s.Session(id)
	if _, err := h.Refresh(ctx, opts...); err != nil {
		return nil, err
	}
	return h, nil
}

// List yields the tenant's sessions matching o, oldest first, fetching pages
// as the loop consumes them. An error ends the sequence.
func (s *Service) List(ctx context.Context, o ListOptions, opts ...agentsession.CallOption) iter.Seq2[*Session, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Session, string, error) {
		req, err := gen.NewListSessionsRequest(s.c.BaseURL(), &gen.ListSessionsParams{
			Status:   paging.Ptr(o.Status),
			Agent:    paging.Ptr(o.Agent),
			PlanSlug: paging.Ptr(o.PlanSlug),
			Limit:    paging.Ptr(o.PageSize),
			Cursor:   paging.Ptr(cursor),
		})
		if err != nil {
			return nil, "", err
		}
		return s.listPage(ctx, req, opts)
	})
}

func (s *Service) listPage(ctx context.Context, req *http.Request, opts []agentsession.CallOption) ([]*Session, string, error) {
	var page gen.SessionList
	if _, err := s.c.Do(ctx, req, &page, opts...); err != nil {
		return nil, "", err
	}
	hs := make([]*Session, len(page.Items))
	for i := range page.Items {
		hs[i] = s.handle(&page.Items[i])
	}
	return hs, page.NextCursor, nil
}

// Upload stores the content of r as a file named filename and returns its
// metadata; pass its FileToken to a turn with WithFiles. The content is read
// into memory first so that a retry can send it again. The part's media type
// comes from the file name's extension, else from the content.
func (s *Service) Upload(ctx context.Context, filename string, r io.Reader, opts ...agentsession.CallOption) (*File, error) {
	name := filepath.Base(filename)
	if filename == "" || name == "." || name == string(filepath.Separator) {
		return nil, errors.New("sessions: Upload: empty file name")
	}
	if r == nil {
		return nil, errors.New("sessions: Upload: nil reader")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("sessions: Upload: reading %s: %w", name, err)
	}
	ctype := mime.TypeByExtension(filepath.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
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
	if err != nil {
		return nil, err
	}
	var f File
	if _, err := s.c.Do(ctx, req, &f, opts...); err != nil {
		return nil, err
	}
	return &f, nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// UploadFile uploads the file at path under its base name.
func (s *Service) UploadFile(ctx context.Context, path string, opts ...agentsession.CallOption) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sessions: UploadFile: %w", err)
	}
	defer f.Close()
	return s.Upload(ctx, filepath.Base(path), f, opts...)
}

// File returns the metadata of an uploaded file.
func (s *Service) File(ctx context.Context, token string, opts ...agentsession.CallOption) (*File, error) {
	req, err := gen.NewGetFileRequest(s.c.BaseURL(), token)
	if err != nil {
		return nil, err
	}
	var f File
	if _, err := s.c.Do(ctx, req, &f, opts...); err != nil {
		return nil, err
	}
	return &f, nil
}
