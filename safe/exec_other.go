//go:build !unix

package safe

import "os/exec"

// setProcessGroup is a no-op outside Unix: cancellation kills the process
// only (exec.CommandContext's default).
func setProcessGroup(*exec.Cmd) {}
