package runner

import "golang.org/x/sys/unix"

// workTreeFull reports whether the filesystem holding dir has no block or
// no inode left for unprivileged users: the run filled its workspace.
func workTreeFull(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Bavail == 0 || (st.Files > 0 && st.Ffree == 0)
}
