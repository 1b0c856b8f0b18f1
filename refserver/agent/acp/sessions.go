package acp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// SessionStore remembers which ACP session each server session uses, so a
// new agent process (after a crash, an eviction or a server restart) can
// session/load it when the agent supports session/load. Implementations
// must be safe for concurrent use.
type SessionStore interface {
	// Load returns the ACP session id of sessionID, if one was saved.
	Load(sessionID string) (acpSessionID string, ok bool, err error)
	Save(sessionID, acpSessionID string) error
	// Delete forgets sessionID (its session ended).
	Delete(sessionID string) error
}

// MemorySessionStore keeps the ids in memory: loads after a crash or an
// eviction, not after a restart. It is the default.
func MemorySessionStore() SessionStore { return &memoryStore{m: map[string]string{}} }

type memoryStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memoryStore) Load(id string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	return v, ok, nil
}

func (s *memoryStore) Save(id, acpID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = acpID
	return nil
}

func (s *memoryStore) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// DirSessionStore keeps one small file per session in dir (made when
// missing), so the ids survive a restart. Config.StateDir selects it.
func DirSessionStore(dir string) (SessionStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	return dirStore{dir: dir}, nil
}

type dirStore struct{ dir string }

// validSessionID is what a server session id must look like to name a
// file or a directory.
var validSessionID = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

func (s dirStore) path(id string) (string, error) {
	if !validSessionID.MatchString(id) {
		return "", fmt.Errorf("session id %q cannot name a file", id)
	}
	return filepath.Join(s.dir, id+".acp-session"), nil
}

func (s dirStore) Load(id string) (string, bool, error) {
	p, err := s.path(id)
	if err != nil {
		return "", false, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	v := strings.TrimSpace(string(data))
	return v, v != "", nil
}

func (s dirStore) Save(id, acpID string) error {
	p, err := s.path(id)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(acpID+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (s dirStore) Delete(id string) error {
	p, err := s.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
