package acp

// PID is the process id of sessionID's agent process, or 0.
func (b *Bridge) PID(sessionID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.procs[sessionID]; p != nil && p.cmd.Process != nil {
		return p.cmd.Process.Pid
	}
	return 0
}
