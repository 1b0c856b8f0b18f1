package sessions

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/google/go-cmp/cmp"
)

// The hand-built sendTurn request (the hot path) must stay what the
// generated builder makes.
func TestSendTurnRequestMatchesGen(t *testing.T) {
	type shape struct {
		Method, URL, ContentType, LastEventID, Body string
	}
	get := func(r *http.Request, err error) shape {
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		return shape{r.Method, r.URL.String(), r.Header.Get("Content-Type"), r.Header.Get("Last-Event-ID"), string(b)}
	}
	for _, base := range []string{"http://h:1", "https://h/api/prefix"} {
		c, err := agentsession.NewClient(agentsession.WithBaseURL(base), agentsession.WithoutEnvironment())
		if err != nil {
			t.Fatal(err)
		}
		svc := New(c)
		// Not "." or "..": the contract forbids them, and gen's builder
		// resolves them as dot segments (another path, which the server
		// answers with an error, as it answers the literal one).
		for _, id := range []string{"sess_01hx", "a b", "ü/..", "x%2Fy", "...", "a?b#c"} {
			for _, lastSeq := range []int64{-1, 0, 41} {
				cfg := newTurnConfig([]TurnOption{WithFiles("f1"), WithTimeout(time.Second), WithBusyPolicy(BusyInterrupt)})
				var params *gen.SendTurnParams
				if lastSeq >= 0 {
					v := strconv.FormatInt(lastSeq, 10)
					params = &gen.SendTurnParams{LastEventID: &v}
				}
				want := get(gen.NewSendTurnRequest(c.BaseURL(), id, params, cfg.body("hi")))
				got := get(svc.Session(id).sendTurnRequest("hi", cfg, lastSeq))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("base %s id %q lastSeq %d (-gen +sdk):\n%s", base, id, lastSeq, diff)
				}
			}
		}
	}
}
