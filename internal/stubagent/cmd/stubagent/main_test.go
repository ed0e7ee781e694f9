package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMounts(t *testing.T) {
	info := `22 1 0:20 / /workspace rw,nosuid,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 /task.md /agentgate/task.md ro,relatime - tmpfs tmpfs rw,size=10k
24 22 0:22 / /with\040space rw - tmpfs tmpfs rw
bad line
`
	p := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(p, []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := mounts(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ target, fstype, opts string }{
		{"/workspace", "ext4", "rw,nosuid,relatime"},
		{"/agentgate/task.md", "tmpfs", "ro,relatime"},
		{"/with space", "tmpfs", "rw"},
	}
	if len(got) != len(want) {
		t.Fatalf("mounts = %+v", got)
	}
	for i, w := range want {
		if got[i].Target != w.target || got[i].FSType != w.fstype || got[i].Options != w.opts {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], w)
		}
	}
}
