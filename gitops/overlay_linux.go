package gitops

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// canOverlay reports whether this process may mount overlays: on Linux,
// as root (CAP_SYS_ADMIN in the host's mount namespace, where the Docker
// engine looks for bind sources).
func canOverlay() bool { return os.Geteuid() == 0 }

// mountOverlay mounts at merged an overlay of lower (read-only, never
// written through the mount) under upper, with workdir as overlayfs's
// scratch directory; upper and workdir must be on one filesystem. The
// mount is nosuid and nodev. Directory renames work (redirect_dir=on):
// without it they fail with EXDEV, which `git mv` does not retry.
//
// An error wrapping errNoOverlay means this kernel or process cannot
// overlay at all, and the caller should write the files instead.
func mountOverlay(lower, upper, workdir, merged string) error {
	for _, p := range []string{lower, upper, workdir} {
		// The option string separates with commas and lowerdir layers
		// with colons; a path holding either cannot be said.
		if strings.ContainsAny(p, ",:\\") {
			return fmt.Errorf("%w: path %q holds a character overlayfs options cannot carry", errNoOverlay, p)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + workdir
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
	err := unix.Mount("overlay", merged, "overlay", flags, opts+",redirect_dir=on")
	if errors.Is(err, unix.EINVAL) {
		// Kernels without redirect_dir support refuse the option.
		err = unix.Mount("overlay", merged, "overlay", flags, opts)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.ENODEV), errors.Is(err, unix.EINVAL):
		return fmt.Errorf("%w: mount overlay at %s: %w", errNoOverlay, merged, err)
	}
	return fmt.Errorf("mount overlay at %s: %w", merged, err)
}

// unmountOverlay detaches the overlay at merged. Detaching lazily lets it
// succeed even while a leftover process still has a file open there.
func unmountOverlay(merged string) error {
	if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount overlay %s: %w", merged, err)
	}
	return nil
}
