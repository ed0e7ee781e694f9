package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestMountWorkspace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("MountWorkspace needs CAP_SYS_ADMIN; run as root to test it")
	}
	tests := []struct {
		name  string
		write func(dir string) error
	}{
		{"bytes", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "big"), make([]byte, 2<<20), 0o644)
		}},
		{"inodes", func(dir string) error {
			for i := 0; i < 200; i++ {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), nil, 0o644); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ws")
			unmount, err := MountWorkspace(dir, 1<<20, 100)
			if err != nil {
				t.Fatalf("MountWorkspace: %v", err)
			}
			err = tt.write(dir)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("overfilling the workspace gave %v, want ENOSPC", err)
			}
			if !workTreeFull(dir) {
				t.Error("workTreeFull = false on a full workspace")
			}
			if err := unmount(); err != nil {
				t.Fatalf("unmount: %v", err)
			}
			if err := unmount(); err != nil {
				t.Fatalf("second unmount: %v", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("content left after unmount: %d entries", len(entries))
			}
		})
	}
}

func TestMountWorkspaceRejects(t *testing.T) {
	for _, tc := range []struct {
		dir          string
		bytes, nodes int64
		want         string
	}{
		{"/tmp/x", 0, 10, "positive"},
		{"/tmp/x", 10, -1, "positive"},
		{"rel", 10, 10, "not absolute"},
	} {
		if _, err := MountWorkspace(tc.dir, tc.bytes, tc.nodes); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("MountWorkspace(%q, %d, %d) = %v, want %q", tc.dir, tc.bytes, tc.nodes, err, tc.want)
		}
	}
}

func TestPrepareOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		if err := PrepareOwnership(t.TempDir(), "65532:65532"); err != nil {
			t.Fatalf("non-root PrepareOwnership: %v", err)
		}
		if DefaultUser() == DefaultUserID {
			t.Errorf("DefaultUser() = %q for a non-root worker", DefaultUser())
		}
		t.Skip("ownership changes need root")
	}
	if DefaultUser() != DefaultUserID {
		t.Errorf("DefaultUser() = %q, want %q", DefaultUser(), DefaultUserID)
	}
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	must(t, os.WriteFile(outside, nil, 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "a", "b", "f"), nil, 0o644))
	must(t, os.Symlink(outside, filepath.Join(dir, "link")))
	if err := PrepareOwnership(dir, "1234:5678"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "a"), filepath.Join(dir, "a", "b", "f"), filepath.Join(dir, "link")} {
		fi, err := os.Lstat(p)
		must(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 1234 || st.Gid != 5678 {
			t.Errorf("%s owned by %d:%d", p, st.Uid, st.Gid)
		}
	}
	fi, err := os.Stat(outside)
	must(t, err)
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 {
		t.Errorf("symlink target outside the tree was chowned to %d", st.Uid)
	}
	if err := PrepareOwnership(dir, "nobody"); err == nil {
		t.Error("PrepareOwnership accepted a non-numeric user")
	}
	if err := PrepareOwnership(filepath.Join(dir, "link"), "1:1"); err == nil {
		t.Error("PrepareOwnership accepted a symlink as its root")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
