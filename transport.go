package agentsession

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/agentsession/agentsession/retry"
)

// The client's HTTP stack, outermost first:
//
//	headerTransport   auth, User-Agent, Accept, Idempotency-Key (once per call);
//	                  only for Gen and HTTPClient: Client.Do sets the headers itself
//	retry.Transport   retries per the policy, the per-attempt timeout, each
//	                  attempt counted and reported (the one owner of that state)
//	base              the caller's Doer or a pooled http.Transport

// headerTransport adds the SDK's headers to requests of the generated client
// and of HTTPClient, then sends them through the retry layer like Client.Do
// does (a 2xx body read within its attempt unless the request asks for a
// stream).
type headerTransport struct {
	c *Client
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.c.needsHeaders(req) {
		req = req.Clone(req.Context()) // a RoundTripper must not modify its request
		t.c.setHeaders(req, "")
	}
	stream := strings.Contains(req.Header.Get("Accept"), "text/event-stream")
	res, err := t.c.retry.Do(req, retry.Call{AttemptTimeout: t.c.attemptTimeout, Stream: stream})
	if err != nil {
		return nil, err
	}
	resp := res.Response
	if !stream {
		resp.Body = io.NopCloser(bytes.NewReader(res.Body))
	}
	return resp, nil
}

// stateChanging reports whether the method needs an Idempotency-Key to be
// retried safely.
func stateChanging(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch
}

func (c *Client) needsHeaders(req *http.Request) bool {
	h := req.Header
	return h.Get("User-Agent") != c.userAgent ||
		(c.token != "" && h.Get("Authorization") == "") ||
		h.Get("Accept") == "" ||
		(stateChanging(req.Method) && h.Get("Idempotency-Key") == "")
}

// setHeaders sets the SDK's headers on req (which the caller owns) and returns
// the Idempotency-Key it carries: key when given, else the one it already
// has, else a fresh one for POST and PATCH.
func (c *Client) setHeaders(req *http.Request, key string) string {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	// The value slices are built once per client and shared by every request
	// (header values are read, never written in place).
	h := req.Header
	h["User-Agent"] = c.hdrUserAgent
	if c.token != "" && h.Get("Authorization") == "" {
		h["Authorization"] = c.hdrAuthorization
	}
	if h.Get("Accept") == "" {
		h["Accept"] = hdrAcceptJSON
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
		return key
	}
	if key = h.Get("Idempotency-Key"); key == "" && stateChanging(req.Method) {
		key = NewIdempotencyKey()
		h.Set("Idempotency-Key", key)
	}
	return key
}

var hdrAcceptJSON = []string{"application/json"}

// doerTransport lets any Doer (such as an *http.Client) be the base of the
// stack.
type doerTransport struct{ d Doer }

func (t doerTransport) RoundTrip(req *http.Request) (*http.Response, error) { return t.d.Do(req) }

var (
	sharedTransportOnce sync.Once
	sharedTransport     *http.Transport
)

// defaultTransport is a pooled transport shared by clients without a Doer;
// it keeps more idle connections per host than http.DefaultTransport, since
// an SDK client usually talks to one host from many goroutines.
func defaultTransport() *http.Transport {
	sharedTransportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		sharedTransport = t
	})
	return sharedTransport
}
