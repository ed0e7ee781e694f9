package sandbox

import (
	"path/filepath"
	"syscall"
)

const (
	syscallNoFollow = syscall.O_NOFOLLOW
	syscallNonBlock = syscall.O_NONBLOCK
)

// unmountStale detaches the mounts a crashed attempt left at dir: the work
// tree's overlay (dir/work) and the bounded tmpfs (dir). Errors (nothing
// mounted, no privilege) are ignored because RemoveAll follows.
func unmountStale(dir string) {
	for _, d := range []string{filepath.Join(dir, "work"), dir} {
		for i := 0; i < 4; i++ {
			if syscall.Unmount(d, syscall.MNT_DETACH) != nil {
				break
			}
		}
	}
}
