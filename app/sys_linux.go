package app

import "syscall"

const (
	syscallNoFollow = syscall.O_NOFOLLOW
	syscallNonBlock = syscall.O_NONBLOCK
)

// unmountStale detaches a mount left at dir by a crashed attempt; errors
// (nothing mounted, no privilege) are ignored because RemoveAll follows.
func unmountStale(dir string) {
	for i := 0; i < 4; i++ {
		if syscall.Unmount(dir, syscall.MNT_DETACH) != nil {
			return
		}
	}
}
