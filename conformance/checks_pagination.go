package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/agentsession/agentsession/gen"
)

// page reads one page of a list.
type page[V any] struct {
	Items      []V     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func getPage[V any](ctx context.Context, t *tester, p string, q url.Values) (page[V], *response, error) {
	resp, err := t.get(ctx, p, q)
	if err != nil {
		return page[V]{}, nil, err
	}
	pg, err := expectJSON[page[V]](resp, http.StatusOK)
	return pg, resp, err
}

// walkExpect walks a list with limit and fails unless it yields want (ids in
// order) with full pages before the last and next_cursor exactly when more
// items follow.
func walkExpect[V any](ctx context.Context, t *tester, what, p string, q url.Values, limit int, want []string, id func(V) string) error {
	q = cloneValues(q)
	q.Set("limit", strconv.Itoa(limit))
	var got []string
	for pages := 1; ; pages++ {
		pg, resp, err := getPage[V](ctx, t, p, q)
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			got = append(got, id(it))
		}
		if pg.NextCursor != nil && len(*pg.NextCursor) > maxCursorLength {
			return resp.Failf("%s: a next_cursor of %d characters; the cursor parameter takes at most %d", what, len(*pg.NextCursor), maxCursorLength)
		}
		more := len(got) < len(want)
		switch {
		case len(pg.Items) > limit:
			return resp.Failf("%s: %d items on a page with limit=%d", what, len(pg.Items), limit)
		case more && len(pg.Items) < limit:
			return resp.Failf("%s: page %d holds %d items with limit=%d although more follow", what, pages, len(pg.Items), limit)
		case more && (pg.NextCursor == nil || *pg.NextCursor == ""):
			return resp.Failf("%s: no next_cursor on page %d although %d of %d items were seen", what, pages, len(got), len(want))
		case !more && pg.NextCursor != nil:
			return resp.Failf("%s: the last page (%d of %d items seen) has a next_cursor: it is absent exactly when no more items follow", what, len(got), len(want))
		}
		if !more || pages > len(want)+2 {
			break
		}
		q.Set("cursor", *pg.NextCursor)
	}
	if d := jsonDiff(got, want); d != "" {
		return Failf("%s walked with limit=%d: %s (every item once, oldest first)", what, limit, d)
	}
	return nil
}

func paginationChecks() []*check {
	return []*check{
		def("PAGE-001", Must, "listSessions",
			"listSessions honours limit: full pages, next_cursor while items remain, none on the last page",
			func(ctx context.Context, t *tester) error {
				var want []string
				for i := 0; i < 5; i++ {
					s, err := t.echoSession(ctx)
					if err != nil {
						return err
					}
					want = append(want, s.SessionID)
				}
				q := url.Values{"plan_slug": {t.plan()}}
				for _, limit := range []int{2, 5} {
					if err := walkExpect(ctx, t, "listSessions", "/v1/sessions", q, limit, want, func(s gen.Session) string { return s.SessionID }); err != nil {
						return err
					}
				}
				return nil
			}).traces("REQ-PAGE-001", "REQ-PAGE-002", "REQ-PAGE-005"),
		def("PAGE-002", Must, "listSessions",
			"a cursor walk with limit=1 sees every session exactly once, oldest first",
			func(ctx context.Context, t *tester) error {
				var want []string
				for i := 0; i < 4; i++ {
					s, err := t.echoSession(ctx)
					if err != nil {
						return err
					}
					want = append(want, s.SessionID)
				}
				return walkExpect(ctx, t, "listSessions", "/v1/sessions", url.Values{"plan_slug": {t.plan()}}, 1, want, func(s gen.Session) string { return s.SessionID })
			}).traces("REQ-PAGE-003", "REQ-PAGE-001"),
		def("PAGE-003", Must, "listLogEntries",
			"without limit a list returns limits.default_page_size items and a next_cursor when more exist",
			func(ctx context.Context, t *tester) error {
				size := int(t.env.caps.Limits.DefaultPageSize)
				if size < 1 || size > 50 {
					return Skipf("default_page_size is %d: the check fills lists of up to 51 items", size)
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for i := 0; i <= size; i++ {
					if _, err := t.logEntry(ctx, s.SessionID, "info", fmt.Sprintf("entry %d", i)); err != nil {
						return err
					}
				}
				pg, resp, err := getPage[gen.LogEntry](ctx, t, path("/v1/sessions/%s/log", s.SessionID), nil)
				if err != nil {
					return err
				}
				if len(pg.Items) != size || pg.NextCursor == nil {
					return resp.Failf("%d items and next_cursor %v without limit, want %d items and a cursor", len(pg.Items), pg.NextCursor != nil, size)
				}
				return nil
			}, NeedLifecycle).traces("REQ-CAP-008"),
		def("PAGE-004", Must, "listSessions listEvents",
			"a limit below 1, above 100 or not a number answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, p := range []string{"/v1/sessions", path("/v1/sessions/%s/events", s.SessionID)} {
					for _, limit := range []string{"0", "-1", "101", "abc", "1.5"} {
						resp, err := t.get(ctx, p, url.Values{"limit": {limit}})
						if err != nil {
							return err
						}
						if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
							return err
						}
					}
				}
				return nil
			}).traces("REQ-PAGE-004"),
		def("PAGE-005", Must, "listSessions listTurns",
			"a cursor the server never issued answers 400 invalid_cursor",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, p := range []string{"/v1/sessions", path("/v1/sessions/%s/turns", s.SessionID)} {
					for _, cursor := range []string{"not-a-cursor", "eyJ4IjoxfQ", "%%%"} {
						resp, err := t.get(ctx, p, url.Values{"cursor": {cursor}})
						if err != nil {
							return err
						}
						if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidCursor); err != nil {
							return err
						}
					}
				}
				return nil
			}).traces("REQ-ERR-010"),
		def("PAGE-006", Must, "listTurns listEvents",
			"listTurns and listEvents walked with limit=1 and limit=2 see every turn and event exactly once, in order",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var turns, events []string
				for i := 0; i < 3; i++ {
					r, err := t.turn(ctx, s.SessionID, fmt.Sprintf("turn %d", i))
					if err != nil {
						return err
					}
					turns = append(turns, strconv.Itoa(int(r.TurnIndex)))
					for _, e := range r.Events {
						events = append(events, strconv.FormatInt(e.Seq, 10))
					}
				}
				for _, limit := range []int{1, 2} {
					if err := walkExpect(ctx, t, "listTurns", path("/v1/sessions/%s/turns", s.SessionID), nil, limit, turns,
						func(tr gen.Turn) string { return strconv.Itoa(int(tr.TurnIndex)) }); err != nil {
						return err
					}
					if err := walkExpect(ctx, t, "listEvents", path("/v1/sessions/%s/events", s.SessionID), nil, limit, events,
						func(e gen.Event) string { return strconv.FormatInt(e.Seq, 10) }); err != nil {
						return err
					}
				}
				return nil
			}).traces("REQ-PAGE-003"),
		def("PAGE-007", Must, "listLogEntries listArtifacts",
			"listLogEntries and listArtifacts walked with limit=2 see every item exactly once, oldest first",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var entries, arts []string
				for i := 0; i < 5; i++ {
					e, err := t.logEntry(ctx, s.SessionID, "info", fmt.Sprintf("e%d", i))
					if err != nil {
						return err
					}
					entries = append(entries, e.ID)
					a, err := t.artifact(ctx, s.SessionID, fmt.Sprintf("f%d.txt", i), "created")
					if err != nil {
						return err
					}
					arts = append(arts, a.ID)
				}
				if err := walkExpect(ctx, t, "listLogEntries", path("/v1/sessions/%s/log", s.SessionID), nil, 2, entries, func(e gen.LogEntry) string { return e.ID }); err != nil {
					return err
				}
				return walkExpect(ctx, t, "listArtifacts", path("/v1/sessions/%s/artifacts", s.SessionID), nil, 2, arts, func(a gen.Artifact) string { return a.ID })
			}, NeedLifecycle).traces("REQ-PAGE-003"),
		def("PAGE-008", Must, "listChildren",
			"listChildren walked with limit=1 sees every child exactly once, oldest first",
			func(ctx context.Context, t *tester) error {
				n := min(3, int(t.env.caps.Limits.MaxChildren))
				if n < 2 {
					return Skipf("max_children is %d: the check needs 2", n)
				}
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var want []string
				for i := 0; i < n; i++ {
					c, err := t.child(ctx, parent.SessionID)
					if err != nil {
						return err
					}
					want = append(want, c.SessionID)
				}
				return walkExpect(ctx, t, "listChildren", path("/v1/sessions/%s/children", parent.SessionID), nil, 1, want, func(s gen.Session) string { return s.SessionID })
			}, NeedChildren).traces("REQ-PAGE-003", "REQ-CHLD-004"),
		def("PAGE-009", Must, "listSessions listEvents",
			"a cursor issued for one list answers 400 invalid_cursor on another",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for i := 0; i < 2; i++ {
					if _, err := t.turn(ctx, s.SessionID, "x"); err != nil {
						return err
					}
				}
				pg, resp, err := getPage[gen.Event](ctx, t, path("/v1/sessions/%s/events", s.SessionID), url.Values{"limit": {"1"}})
				if err != nil {
					return err
				}
				if pg.NextCursor == nil {
					return resp.Failf("no next_cursor on the first of two pages")
				}
				resp, err = t.get(ctx, "/v1/sessions", url.Values{"cursor": {*pg.NextCursor}})
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidCursor)
			}).traces("REQ-ERR-010"),
		def("PAGE-010", Must, "listSessions listEvents",
			"limit=1 and limit=limits.max_page_size (100 on most servers) are accepted and bound the page; a limit above max_page_size answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				var want []string
				for i := 0; i < 3; i++ {
					s, err := t.echoSession(ctx)
					if err != nil {
						return err
					}
					want = append(want, s.SessionID)
				}
				maxSize := int(t.env.caps.Limits.MaxPageSize)
				limits := []int{1, maxSize}
				q := url.Values{"plan_slug": {t.plan()}}
				for _, limit := range limits {
					q.Set("limit", strconv.Itoa(limit))
					pg, resp, err := getPage[gen.Session](ctx, t, "/v1/sessions", q)
					if err != nil {
						return err
					}
					if wantN := min(limit, len(want)); len(pg.Items) != wantN {
						return resp.Failf("limit=%d: %d items of %d, want %d", limit, len(pg.Items), len(want), wantN)
					}
					pe, resp, err := getPage[gen.Event](ctx, t, path("/v1/sessions/%s/events", want[0]), url.Values{"limit": {strconv.Itoa(limit)}})
					if err != nil {
						return err
					}
					if len(pe.Items) != 0 {
						return resp.Failf("limit=%d on a session without events: %d items", limit, len(pe.Items))
					}
				}
				if maxSize < 100 {
					resp, err := t.get(ctx, "/v1/sessions", url.Values{"limit": {strconv.Itoa(maxSize + 1)}})
					if err != nil {
						return err
					}
					return resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest)
				}
				return nil
			}).traces("REQ-PAGE-004", "REQ-CAP-009"),
	}
}

// maxCursorLength is the cursor parameter's maxLength.
const maxCursorLength = 512
