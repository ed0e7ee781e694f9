//go:build !unix

package gitops

// On systems without these flags the Lstat-then-SameFile check stands alone.
const (
	oNonblock = 0
	oNofollow = 0
)
