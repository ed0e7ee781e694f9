package runner

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// dialAs connects to the Unix socket path with the file system identity
// uid:gid (and no capability that overrides permissions), as another
// user of the host would.
func dialAs(t *testing.T, uid, gid int, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		// The thread keeps the changed identity: it is locked and never
		// unlocked, so it goes when this goroutine does.
		runtime.LockOSThread()
		unix.Setfsgid(gid)
		unix.Setfsuid(uid)
		if got, _ := unix.SetfsuidRetUid(-1); got != uid {
			done <- errors.New("setfsuid had no effect")
			return
		}
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	return <-done
}

// TestSocketDirPrivate: the run's socket directory and its sockets are
// reachable by the sandbox user's group (the relay) and by no other user
// of the host: 0710 and 0660, group of the sandbox user. Positive
// control: the sandbox user connects.
func TestSocketDirPrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test connects as other users")
	}
	user := DefaultUser() // 65532:65532 as root
	uid, gid, err := parseUser(user)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := MakeSocketDir("", "agentgate-test-sock-", user) // in /tmp, as the worker's
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := ListenSocket(dir, "egress.sock", user)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sock := filepath.Join(dir, "egress.sock")
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{dir, SocketDirMode | os.ModeDir}, {sock, SocketMode | os.ModeSocket}} {
		fi, err := os.Lstat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != c.mode || int(st.Gid) != gid || st.Uid != 0 {
			t.Errorf("%s: mode %v owner %d:%d, want %v 0:%d", filepath.Base(c.path), fi.Mode(), st.Uid, st.Gid, c.mode, gid)
		}
	}
	// The relay's user connects.
	if err := dialAs(t, uid, gid, sock); err != nil {
		t.Errorf("the sandbox user cannot connect: %v", err)
	}
	// Another user of the host, even in the socket's group by uid only,
	// does not.
	for _, other := range [][2]int{{4242, 4242}, {uid + 1, 4242}} {
		if err := dialAs(t, other[0], other[1], sock); !errors.Is(err, syscall.EACCES) {
			t.Errorf("user %d:%d connects: %v, want permission denied", other[0], other[1], err)
		}
	}
}
