package acp

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// meter counts what the agent writes on stdout while a turn runs and calls
// the turn's over function once the turn's limit is passed. When the
// agent's stdout ends it adds one last line of its own, marker (an ACP
// extension notification), before the end: acp-go-sdk handles
// notifications in order on one goroutine, so once the marker is handled
// every update the agent sent has been. Only the SDK's reading goroutine
// calls Read.
type meter struct {
	r      io.Reader
	ready  chan struct{} // closed once reading may begin
	marker []byte
	end    error        // how r ended, once it has
	limit  atomic.Int64 // 0: not metering
	count  atomic.Int64
	over   atomic.Pointer[func()]
}

func (m *meter) Read(p []byte) (int, error) {
	<-m.ready
	if m.end != nil {
		if len(m.marker) > 0 {
			n := copy(p, m.marker)
			m.marker = m.marker[n:]
			return n, nil
		}
		return 0, m.end
	}
	n, err := m.r.Read(p)
	if limit := m.limit.Load(); limit > 0 && n > 0 {
		if m.count.Add(int64(n)) > limit {
			if f := m.over.Swap(nil); f != nil {
				(*f)()
			}
		}
	}
	if err != nil {
		m.end = err
		if n == 0 {
			return m.Read(p)
		}
	}
	return n, nil
}

// start meters a turn: over is called once more than limit bytes came.
func (m *meter) start(limit int64, over func()) {
	m.count.Store(0)
	m.over.Store(&over)
	m.limit.Store(limit)
}

func (m *meter) stop() {
	m.limit.Store(0)
	m.over.Store(nil)
}

// tail keeps the last bytes of the agent's stderr.
type tail struct {
	mu    sync.Mutex
	limit int
	buf   []byte
	total int64
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	if len(p) >= t.limit {
		t.buf = append(t.buf[:0], p[len(p)-t.limit:]...)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// text is the kept tail, starting at a character and a line when it was
// cut, with each secret replaced.
func (t *tail) text(secrets []string) string {
	t.mu.Lock()
	b := append([]byte(nil), t.buf...)
	cut := t.total > int64(len(t.buf))
	t.mu.Unlock()
	if cut {
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
		if i := strings.IndexByte(string(b), '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	s := strings.ToValidUTF8(strings.TrimSpace(string(b)), "\uFFFD")
	return redact(s, secrets)
}

// redact replaces every secret in s. Short values are left alone: they
// are unlikely secrets and replacing them would garble the text.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 6 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// truncatingHandler shortens long string attributes before they reach the
// server's log: acp-go-sdk logs unparsable lines whole, and an agent's line
// may be megabytes (or hold what it was given).
type truncatingHandler struct {
	h       slog.Handler
	max     int
	secrets []string
}

func (h truncatingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.h.Enabled(ctx, l)
}

func (h truncatingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.clip(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h truncatingHandler) attr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.clip(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, h.clip(err.Error()))
		}
	}
	return a
}

func (h truncatingHandler) clip(s string) string {
	s = redact(s, h.secrets)
	if len(s) > h.max {
		cut := h.max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "…"
	}
	return s
}

func (h truncatingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return truncatingHandler{h: h.h.WithAttrs(as), max: h.max, secrets: h.secrets}
}

func (h truncatingHandler) WithGroup(name string) slog.Handler {
	return truncatingHandler{h: h.h.WithGroup(name), max: h.max, secrets: h.secrets}
}
