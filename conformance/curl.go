package conformance

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// The shell variables a curl command uses in place of the tokens.
const (
	TokenVar  = "$AGENTSESSION_TOKEN"
	Token2Var = "$AGENTSESSION_TOKEN2"
)

// curl renders a request as a runnable curl command with the token replaced
// by a shell variable, so a report can be shared without leaking it.
func (c *client) curl(r request, req *http.Request, body []byte) string {
	var b strings.Builder
	b.WriteString("curl -sS -i")
	if r.Stream {
		b.WriteString(" -N")
	}
	if req.Method != http.MethodGet {
		b.WriteString(" -X " + shellQuote(req.Method))
	}
	b.WriteString(" " + shellQuote(c.redact(req.URL.String())))
	switch r.As {
	case asPrimary:
		b.WriteString(` -H "Authorization: Bearer ` + TokenVar + `"`)
	case asSecond:
		b.WriteString(` -H "Authorization: Bearer ` + Token2Var + `"`)
	case asRaw:
		if r.Authorization != "" {
			b.WriteString(" -H " + shellQuote("Authorization: "+c.redact(r.Authorization)))
		}
	}
	var names []string
	for k := range req.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "User-Agent", "Content-Type":
			continue
		case "Accept":
			if !r.Stream && req.Header.Get(k) == "application/json" {
				continue
			}
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if r.NoAccept {
		// curl sends Accept: */* unless told to send none.
		b.WriteString(" -H 'Accept:'")
	}
	for _, k := range names {
		b.WriteString(" -H " + shellQuote(k+": "+c.redact(req.Header.Get(k))))
	}
	switch {
	case r.File != nil:
		// The file's bytes come from stdin, so the command needs no file.
		b.WriteString(" -F " + shellQuote(r.File.Field+"=@-;filename="+r.File.Filename+";type="+r.File.ContentType))
		return bytesPrinter(r.File.Data) + " | " + b.String()
	case r.CurlStdin != "":
		if ct := req.Header.Get("Content-Type"); ct != "" {
			b.WriteString(" -H " + shellQuote("Content-Type: "+ct))
		}
		b.WriteString(" --data-binary @-")
		return r.CurlStdin + " | " + b.String()
	case len(body) > 0:
		if ct := req.Header.Get("Content-Type"); ct != "" {
			b.WriteString(" -H " + shellQuote("Content-Type: "+ct))
		}
		if len(body) > maxRequestShown || !utf8.Valid(body) {
			b.WriteString(" --data-binary @body # the body is too large or not text to show here")
		} else {
			b.WriteString(" --data-binary " + shellQuote(c.redact(string(body))))
		}
	case req.Header.Get("Content-Type") != "":
		b.WriteString(" -H " + shellQuote("Content-Type: "+req.Header.Get("Content-Type")))
	}
	return b.String()
}

// shellQuote single-quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// bytesPrinter is a shell command that prints data: printf for short text,
// head and tr for a long run of one byte (the suite's oversize bodies).
func bytesPrinter(data []byte) string {
	if len(data) <= maxRequestShown && utf8.Valid(data) {
		return "printf '%s' " + shellQuote(string(data))
	}
	if len(data) > 0 && data[0] >= '!' && data[0] <= '~' && data[0] != '\'' && data[0] != '\\' &&
		strings.Count(string(data), string(data[:1])) == len(data) {
		return fmt.Sprintf("head -c %d /dev/zero | tr '\\0' '%c'", len(data), data[0])
	}
	return fmt.Sprintf("cat body.bin # the %d-byte body is not shown", len(data))
}
