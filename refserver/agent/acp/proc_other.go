//go:build !unix

package acp

import "os/exec"

// Without process groups only the process itself can be stopped.
func setProcessGroup(*exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

func terminateProcessGroup(cmd *exec.Cmd) { killProcessGroup(cmd) }
