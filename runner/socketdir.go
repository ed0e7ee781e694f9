package runner

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// Modes of a run's socket directory and of the sockets in it: agentgate
// (the owner) and the sandbox user's group, nobody else.
const (
	SocketDirMode os.FileMode = 0o710 // the group may only pass through
	SocketMode    os.FileMode = 0o660 // connecting takes write permission
)

// MakeSocketDir creates a directory for a run's Unix sockets (a new
// temporary directory in parent, named after pattern as os.MkdirTemp
// does) that only agentgate and the relay can reach: mode 0710 with the
// group of user (a Spec.User value), so the relay, which runs as user,
// may pass through it to a socket it knows the name of, and no other user
// of the host may list it or connect to anything in it. Without root the
// sandbox user is agentgate's own user, whose group it already has.
func MakeSocketDir(parent, pattern, user string) (string, error) {
	_, gid, err := parseUser(user)
	if err != nil {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, pattern) // 0700 until its group is set
	if err != nil {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	if err := os.Chown(dir, -1, gid); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("socket directory: group %d: %w", gid, err)
	}
	if err := os.Chmod(dir, SocketDirMode); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("socket directory: %w", err)
	}
	return dir, nil
}

// ListenSocket listens on the Unix socket dir/name (dir made by
// MakeSocketDir), connectable by its owner and user's group only (0660).
func ListenSocket(dir, name, user string) (net.Listener, error) {
	_, gid, err := parseUser(user)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", name, err)
	}
	if err := os.Chown(path, -1, gid); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("socket %s: group %d: %w", name, gid, err)
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("socket %s: %w", name, err)
	}
	return ln, nil
}
