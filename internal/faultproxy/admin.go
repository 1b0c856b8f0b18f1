package faultproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Stats are the counters since the configuration was set or reset.
type Stats struct {
	// Requests counts the requests seen (admin requests excluded).
	Requests int `json:"requests"`
	// Forwarded counts the requests sent to the target.
	Forwarded int `json:"forwarded"`
	// UpstreamErrors counts forwarded requests the target did not answer.
	UpstreamErrors int `json:"upstream_errors"`
	// Faults counts the faults injected, all rules together.
	Faults int `json:"faults"`
	// FaultsByKind splits Faults by kind (every kind is listed).
	FaultsByKind map[Kind]int `json:"faults_by_kind"`
	// Rules, in evaluation order.
	Rules []RuleStats `json:"rules"`
}

// RuleStats are one rule's counters.
type RuleStats struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Matched counts the requests the rule matched.
	Matched int `json:"matched"`
	// Faults counts the faults it injected.
	Faults int `json:"faults"`
	// Skipped counts the requests it chose whose answer gave the fault
	// nothing to act on (an empty body, a stream shorter than the cut
	// point, a client that left first).
	Skipped int `json:"skipped"`
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	st := p.state.Load()
	st.mu.Lock()
	defer st.mu.Unlock()
	s := Stats{Requests: st.requests, Forwarded: st.forwarded, UpstreamErrors: st.upstreamErrors,
		FaultsByKind: map[Kind]int{}, Rules: []RuleStats{}}
	for _, k := range kinds {
		s.FaultsByKind[k] = st.byKind[k]
		s.Faults += st.byKind[k]
	}
	for _, rs := range st.rules {
		s.Rules = append(s.Rules, RuleStats{Name: rs.rule.Name, Kind: rs.rule.Fault.Kind,
			Matched: rs.matched, Faults: rs.faults, Skipped: rs.skipped})
	}
	return s
}

// maxConfigBody bounds a PUT config document.
const maxConfigBody = 1 << 20

// serveAdmin answers the admin endpoints:
//
//	GET  /__faultproxy/stats   Stats as JSON
//	POST /__faultproxy/reset   zero the counters and schedules (204)
//	GET  /__faultproxy/config  the Config in force, as JSON
//	PUT  /__faultproxy/config  replace it (JSON or YAML body); 200 with the new Config
func (p *Proxy) serveAdmin(w http.ResponseWriter, r *http.Request) {
	route := r.URL.Path[len(AdminPrefix):]
	allow := map[string]string{"stats": "GET", "reset": "POST", "config": "GET, PUT"}[route]
	switch {
	case allow == "":
		adminError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %q (stats, reset, config)", r.URL.Path))
	case route == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, p.Stats())
	case route == "reset" && r.Method == http.MethodPost:
		p.Reset()
		w.WriteHeader(http.StatusNoContent)
	case route == "config" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, p.Config())
	case route == "config" && r.Method == http.MethodPut:
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConfigBody))
		if err != nil {
			adminError(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		cfg, err := ParseConfig(data)
		if err == nil {
			err = p.SetConfig(cfg)
		}
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, p.Config())
	default:
		w.Header().Set("Allow", allow)
		adminError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": allowed "+allow)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg, "status": status})
}
