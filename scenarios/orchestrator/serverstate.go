package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The server's side of the story, read through the API with plain HTTP
// (never through an SDK under test): every session a run made, found by
// meta.run in both tenants, with its turns (listTurns), events
// (listEvents), lifecycle events (listLifecycleEvents) and permission
// requests (listPermissions).

type serverSession struct {
	ID, Tenant, Scenario, Alias, Status string
	Created                             string // created_at, for a stable order
	Turns                               []serverTurn
	// Events are all the session's events in seq order (each also in its
	// turn's Events); Lifecycle its lifecycle events in lifecycle_seq
	// order; Permissions its permission requests, oldest first.
	Events      []map[string]any
	Lifecycle   []map[string]any
	Permissions []map[string]any
}

type serverTurn struct {
	Index                                   int
	Prompt, Status, StopReason, CancelledBy string
	// Meta is the turn's meta as canonical JSON ("" for none), the run's
	// id replaced by ${run}.
	Meta string
	// Events are the turn's events as the server sent them, in seq order.
	Events []map[string]any
}

// apiReader reads the server with one tenant's token.
type apiReader struct {
	base  string
	token string
	hc    *http.Client
}

func (r apiReader) get(ctx context.Context, path string, q url.Values, out any) error {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, out)
}

// all follows every page of a list.
func (r apiReader) all(ctx context.Context, path string) ([]map[string]any, error) {
	var items []map[string]any
	q := url.Values{"limit": {"100"}}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			return nil, fmt.Errorf("GET %s: the cursor never ends", path)
		}
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := r.get(ctx, path, q, &page); err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
		if page.NextCursor == "" {
			return items, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// readServer returns, per run id, the sessions whose meta.run is one of
// runs, from every tenant.
func readServer(ctx context.Context, base string, tokens map[string]string, runs []string) (map[string][]*serverSession, error) {
	want := map[string]bool{}
	for _, r := range runs {
		want[r] = true
	}
	out := map[string][]*serverSession{}
	hc := &http.Client{Timeout: 30 * time.Second}
	for _, tenant := range sortedKeys(tokens) {
		r := apiReader{base: strings.TrimSuffix(base, "/"), token: tokens[tenant], hc: hc}
		list, err := r.all(ctx, "/v1/sessions")
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tenant, err)
		}
		for _, s := range list {
			meta, _ := s["meta"].(map[string]any)
			run, _ := meta["run"].(string)
			if !want[run] {
				continue
			}
			ss := &serverSession{ID: str(s["session_id"]), Tenant: tenant, Scenario: str(meta["scenario"]),
				Alias: str(meta["alias"]), Status: str(s["status"]), Created: str(s["created_at"])}
			if err := ss.read(ctx, r, run); err != nil {
				return nil, fmt.Errorf("tenant %s: %w", tenant, err)
			}
			out[run] = append(out[run], ss)
		}
	}
	for _, ss := range out {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].Created < ss[j].Created })
	}
	return out, nil
}

func (s *serverSession) read(ctx context.Context, r apiReader, run string) error {
	base := "/v1/sessions/" + url.PathEscape(s.ID)
	turns, err := r.all(ctx, base+"/turns")
	if err != nil {
		return err
	}
	if s.Events, err = r.all(ctx, base+"/events"); err != nil {
		return err
	}
	if s.Lifecycle, err = r.all(ctx, base+"/lifecycle"); err != nil {
		return err
	}
	if s.Permissions, err = r.all(ctx, base+"/permissions"); err != nil {
		return err
	}
	byTurn := map[int][]map[string]any{}
	for _, e := range s.Events {
		n := num(e["turn_index"])
		byTurn[n] = append(byTurn[n], e)
	}
	for _, t := range turns {
		n := num(t["turn_index"])
		meta := ""
		if m, ok := t["meta"].(map[string]any); ok && len(m) > 0 {
			meta = canonical(m)
			if run != "" {
				meta = strings.ReplaceAll(meta, run, "${run}")
			}
		}
		s.Turns = append(s.Turns, serverTurn{Index: n, Prompt: str(t["prompt"]), Status: str(t["status"]),
			StopReason: str(t["stop_reason"]), CancelledBy: str(t["cancelled_by"]), Meta: meta, Events: byTurn[n]})
	}
	sort.Slice(s.Turns, func(i, j int) bool { return s.Turns[i].Index < s.Turns[j].Index })
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// key names a session across runs: its scenario and alias (sessions a
// step made without `as` by their order).
func keyed(sessions []*serverSession) (map[string][]*serverSession, []string) {
	out := map[string][]*serverSession{}
	var order []string
	unnamed := map[string]int{}
	for _, s := range sessions {
		k := s.Scenario + "/" + s.Alias
		if s.Alias == "" {
			unnamed[s.Scenario]++
			k = fmt.Sprintf("%s/(no alias #%d)", s.Scenario, unnamed[s.Scenario])
		}
		if _, ok := out[k]; !ok {
			order = append(order, k)
		}
		out[k] = append(out[k], s)
	}
	return out, order
}

// turnSummary is what must be the same on the server whatever the faults:
// the prompt (canonical when it is a script), status, stop reason, and each
// event's type and text.
func turnSummary(t serverTurn) string {
	var b strings.Builder
	p := t.Prompt
	if c, ok := canonicalJSONObject(p); ok {
		p = c
	}
	if len(p) > 80 {
		p = fmt.Sprintf("%s… (%d bytes)", p[:80], len(t.Prompt))
	}
	fmt.Fprintf(&b, "turn %d %q %s/%s", t.Index, p, t.Status, t.StopReason)
	if t.CancelledBy != "" {
		fmt.Fprintf(&b, " by %s", t.CancelledBy)
	}
	if t.Meta != "" {
		fmt.Fprintf(&b, " meta %s", t.Meta)
	}
	b.WriteString(" events:")
	for _, e := range t.Events {
		fmt.Fprintf(&b, " %s", str(e["type"]))
		if c := str(e["content"]); c != "" {
			fmt.Fprintf(&b, "%q", c)
		}
	}
	return b.String()
}

// lifecycleSummary is what must be the same of a session's lifecycle
// events whatever the faults: each one's type and what it says, in
// lifecycle_seq order. after_seq is left out: where a lifecycle event falls
// among a running turn's events depends on timing (a turn queued while
// another is between two events), and the session_stream check holds every
// stream to the server's own after_seq. child names a child session by its
// scenario and alias.
func lifecycleSummary(events []map[string]any, child func(id string) string) string {
	if len(events) == 0 {
		return "(none)"
	}
	parts := make([]string, len(events))
	for i, e := range events {
		var b strings.Builder
		b.WriteString(str(e["type"]))
		if n := num(e["turn_index"]); n > 0 {
			fmt.Fprintf(&b, " %d", n)
		}
		for _, k := range []string{"stop_reason", "status"} {
			if v := str(e[k]); v != "" {
				fmt.Fprintf(&b, " %s", v)
			}
		}
		if q := num(e["queue_position"]); q > 0 {
			fmt.Fprintf(&b, " @%d", q)
		}
		if id := str(e["child_session_id"]); id != "" {
			fmt.Fprintf(&b, " %s", child(id))
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, ", ")
}

// permissionSummary: each permission request's id (when the script named
// it), turn, status and answer, oldest first.
func permissionSummary(reqs []map[string]any) string {
	if len(reqs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(reqs))
	for i, r := range reqs {
		id := str(r["request_id"])
		if serverPermissionID.MatchString(id) {
			id = phRequestID
		}
		parts[i] = fmt.Sprintf("%s turn %d %s", id, num(r["turn_index"]), str(r["status"]))
		if o := str(r["option_id"]); o != "" {
			parts[i] += " " + o
		} else if o := str(r["outcome"]); o != "" {
			parts[i] += " " + o
		}
	}
	return strings.Join(parts, ", ")
}

// stateDiff is how a run's server state differs from the direct run's.
type stateDiff struct {
	// lines says what differs, by scenario.
	lines             map[string][]string
	duplicateTurns    int // turns the run has beyond the direct run's
	lostTurns         int // turns of the direct run it lacks
	duplicateSessions int // sessions beyond one per scenario and alias
}

// compareState compares a run's sessions with the direct run's of the same
// SDK, session by session and turn by turn.
func compareState(direct, got []*serverSession) stateDiff {
	d := stateDiff{lines: map[string][]string{}}
	dk, order := keyed(direct)
	gk, gorder := keyed(got)
	for _, k := range gorder {
		if _, ok := dk[k]; !ok {
			order = append(order, k)
		}
	}
	childNames := func(keys map[string][]*serverSession) func(string) string {
		names := map[string]string{}
		for k, ss := range keys {
			for _, s := range ss {
				names[s.ID] = k
			}
		}
		return func(id string) string {
			if n, ok := names[id]; ok {
				return "child " + n
			}
			return "a child the run did not make"
		}
	}
	directChild, gotChild := childNames(dk), childNames(gk)
	for _, k := range order {
		ds, gs := dk[k], gk[k]
		scenario, _, _ := strings.Cut(k, "/")
		add := func(line string) { d.lines[scenario] = append(d.lines[scenario], line) }
		switch {
		case len(gs) == 0:
			add(fmt.Sprintf("session %s: missing (the direct run has it)", k))
			d.lostTurns += len(ds[0].Turns)
			continue
		case len(ds) == 0:
			add(fmt.Sprintf("session %s: extra (the direct run has none), %d turns", k, len(gs[0].Turns)))
			d.duplicateSessions += len(gs)
			for _, s := range gs {
				d.duplicateTurns += len(s.Turns)
			}
			continue
		}
		if len(gs) > len(ds) {
			add(fmt.Sprintf("session %s: %d sessions, the direct run %d", k, len(gs), len(ds)))
			d.duplicateSessions += len(gs) - len(ds)
			for _, s := range gs[len(ds):] {
				d.duplicateTurns += len(s.Turns)
			}
		}
		a, b := ds[0], gs[0]
		if a.Status != b.Status {
			add(fmt.Sprintf("session %s: status %s, the direct run %s", k, b.Status, a.Status))
		}
		if la, lb := lifecycleSummary(a.Lifecycle, directChild), lifecycleSummary(b.Lifecycle, gotChild); la != lb {
			add(fmt.Sprintf("session %s: lifecycle events differ\n      direct: %s\n      this:   %s", k, la, lb))
		}
		if pa, pb := permissionSummary(a.Permissions), permissionSummary(b.Permissions); pa != pb {
			add(fmt.Sprintf("session %s: permission requests differ\n      direct: %s\n      this:   %s", k, pa, pb))
		}
		for i := 0; i < max(len(a.Turns), len(b.Turns)); i++ {
			switch {
			case i >= len(b.Turns):
				d.lostTurns++
				add(fmt.Sprintf("session %s: lost   %s", k, turnSummary(a.Turns[i])))
			case i >= len(a.Turns):
				d.duplicateTurns++
				add(fmt.Sprintf("session %s: extra  %s", k, turnSummary(b.Turns[i])))
			default:
				if ta, tb := turnSummary(a.Turns[i]), turnSummary(b.Turns[i]); ta != tb {
					add(fmt.Sprintf("session %s:\n      direct: %s\n      this:   %s", k, ta, tb))
				}
			}
		}
	}
	return d
}
