package faultproxy

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"sync"
)

// identity is the digest of one logical request: method, path and the
// Idempotency-Key header, or the body when there is no key. Attempts of the
// same call share it.
type identity [sha256.Size]byte

func requestIdentity(method, path, key string, body []byte) identity {
	h := sha256.New()
	// Lengths first, so no two field splits digest alike.
	var n [8]byte
	for _, part := range [][]byte{[]byte(method), []byte(path)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	if key != "" {
		h.Write([]byte("key\x00"))
		h.Write([]byte(key))
	} else {
		h.Write([]byte("body\x00"))
		h.Write(body)
	}
	var id identity
	h.Sum(id[:0])
	return id
}

// ruleState is the mutable side of one rule.
type ruleState struct {
	rule    *compiledRule
	rng     *rand.Rand
	matched int
	faults  int
	skipped int
	// perID counts the faults this rule injected per logical request.
	perID map[identity]int
}

// state is everything a configuration accumulates while it serves: it is
// replaced whole by Reset and SetConfig, so no counter outlives its rules.
type state struct {
	cfg   Config
	mu    sync.Mutex
	rules []*ruleState
	// perID counts faults per logical request across rules
	// (Config.MaxPerRequest).
	perID          map[identity]int
	requests       int
	forwarded      int
	upstreamErrors int
	byKind         map[Kind]int
}

func newState(cfg Config, rules []*compiledRule) *state {
	st := &state{cfg: cfg, perID: map[identity]int{}, byKind: map[Kind]int{}}
	for _, r := range rules {
		st.rules = append(st.rules, &ruleState{
			rule:  r,
			rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(r.index))),
			perID: map[identity]int{},
		})
	}
	return st
}

// decision is the fault chosen for one request, nil for none.
type decision struct {
	rs *ruleState
	id identity
}

// decide picks the fault for one request: rules are tried in priority
// order, each one that matches counts the request, and the first whose
// schedule fires takes it; the rules after it never see the request. Once
// the request's identity has had Config.MaxPerRequest faults no rule takes
// it (and every matching rule counts it).
func (st *state) decide(r *http.Request, body []byte, id identity) *decision {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests++
	capped := st.cfg.MaxPerRequest > 0 && st.perID[id] >= st.cfg.MaxPerRequest
	for _, rs := range st.rules {
		if !rs.rule.matches(r, body) {
			continue
		}
		rs.matched++
		if rs.fires(id) && !capped {
			rs.perID[id]++
			st.perID[id]++
			return &decision{rs: rs, id: id}
		}
	}
	return nil
}

// fires applies the schedule to the rule's latest matching request.
func (rs *ruleState) fires(id identity) bool {
	s := rs.rule.Schedule
	draw := true
	if s.Probability != nil {
		// Drawn for every request the rule sees, so its sequence depends
		// only on those requests.
		draw = rs.rng.Float64() < *s.Probability
	}
	n := rs.matched - s.Skip
	switch {
	case n <= 0:
		return false
	case s.First > 0 && n > s.First:
		return false
	case s.Every > 0 && n%s.Every != 0:
		return false
	case s.Limit > 0 && rs.faults+rs.skipped >= s.Limit:
		return false
	case s.PerRequest > 0 && rs.perID[id] >= s.PerRequest:
		return false
	}
	return draw
}

// outcome records what a chosen fault did: injected, or skipped because the
// answer ended before the point where it would act.
func (st *state) outcome(d *decision, injected bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if injected {
		d.rs.faults++
		st.byKind[d.rs.rule.Fault.Kind]++
	} else {
		d.rs.skipped++
	}
}

func (st *state) count(field *int) {
	st.mu.Lock()
	*field++
	st.mu.Unlock()
}
