//go:build unix

package gitops

import "syscall"

// Open flags for reading what the sandbox wrote: never block on a FIFO,
// never follow a final symlink.
const (
	oNonblock = syscall.O_NONBLOCK
	oNofollow = syscall.O_NOFOLLOW
)
