package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// MountWorkspace mounts a tmpfs bounded to maxBytes and maxInodes at dir
// (created if missing) and returns its unmount function. It needs
// CAP_SYS_ADMIN; the error says so when it is missing.
//
// The mount lives in the caller's mount namespace, so the Docker engine
// must share it (a worker on the engine's host, not in another container).
// Its content is memory and disappears on unmount: harvest before.
func MountWorkspace(dir string, maxBytes, maxInodes int64) (unmount func() error, err error) {
	if maxBytes <= 0 || maxInodes <= 0 {
		return nil, fmt.Errorf("mount workspace: bounds must be positive (bytes %d, inodes %d)", maxBytes, maxInodes)
	}
	if err := checkHostPath("workspace", dir); err != nil {
		return nil, fmt.Errorf("mount workspace: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mount workspace: %w", err)
	}
	opts := fmt.Sprintf("size=%d,nr_inodes=%d,mode=0755", maxBytes, maxInodes)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		if errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("mount workspace: bounded workspaces need CAP_SYS_ADMIN (run the worker as root or grant the capability): %w", err)
		}
		return nil, fmt.Errorf("mount workspace %s: %w", dir, err)
	}
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				uerr = fmt.Errorf("unmount workspace %s: %w", dir, err)
			}
		})
		return uerr
	}, nil
}

// PrepareOwnership makes dir (recursively, without following symlinks)
// owned by the sandbox user, so the non-root agent can write it.
//
// Only root can give files away: when the worker is not root this is a
// no-op, and the caller must run the container as the worker's own uid
// (Spec.User = DefaultUser()).
func PrepareOwnership(dir, user string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := parseUser(user)
	if err != nil {
		return fmt.Errorf("prepare ownership: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("prepare ownership: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("prepare ownership: %s is not a directory", dir)
	}
	// WalkDir reports symlinks without following them; Lchown changes the
	// link itself. An entry already owned is left alone: on an overlay
	// work tree a chown would copy the whole file up from the cached
	// checkout beneath.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == gid {
				return nil
			}
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("prepare ownership: %w", err)
	}
	return nil
}

// DefaultUser is the uid:gid the sandbox should run as: DefaultUserID when
// the worker is root (PrepareOwnership hands the work tree to it), else the
// worker's own uid:gid, which already owns the work tree.
func DefaultUser() string {
	if os.Geteuid() == 0 {
		return DefaultUserID
	}
	return fmt.Sprintf("%d:%d", os.Geteuid(), os.Getegid())
}

// UserIDs is the numeric uid and gid of a Spec.User value ("uid" or
// "uid:gid"; "" is DefaultUserID).
func UserIDs(user string) (uid, gid int, err error) { return parseUser(user) }

// parseUser parses "uid" or "uid:gid" (gid defaults to uid); "" is the
// default user.
func parseUser(u string) (int, int, error) {
	if u == "" {
		u = DefaultUserID
	}
	us, gs, ok := strings.Cut(u, ":")
	if !ok {
		gs = us
	}
	uid, err := strconv.ParseUint(us, 10, 31)
	if err != nil {
		return 0, 0, fmt.Errorf("user %q is not numeric uid[:gid]", u)
	}
	gid, err := strconv.ParseUint(gs, 10, 31)
	if err != nil {
		return 0, 0, fmt.Errorf("user %q is not numeric uid[:gid]", u)
	}
	return int(uid), int(gid), nil
}
