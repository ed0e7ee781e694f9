package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

func TestIsModule(t *testing.T) {
	tests := []struct {
		gomod string
		want  bool
	}{
		{"module github.com/agentgate/agentgate\n\ngo 1.26\n", true},
		{"// x\nmodule github.com/agentgate/agentgate\n", true},
		{"module github.com/other/thing\n", false},
		{"go 1.26\n", false},
	}
	for _, tt := range tests {
		if got := isModule([]byte(tt.gomod)); got != tt.want {
			t.Errorf("isModule(%q) = %v", tt.gomod, got)
		}
	}
}

func TestLockFileSerialises(t *testing.T) {
	ctx := context.Background()
	name := "agentgate-testagent-locktest.lock"
	unlock, err := LockFile(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var second atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := LockFile(ctx, name)
		if err != nil {
			t.Error(err)
			return
		}
		second.Store(true)
		u()
	}()
	time.Sleep(200 * time.Millisecond)
	if second.Load() {
		t.Fatal("second lock taken while the first was held")
	}
	unlock()
	<-done
	if !second.Load() {
		t.Fatal("second lock never taken")
	}

	held, err := LockFile(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer held()
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := LockFile(cctx, name); err == nil {
		t.Fatal("lock taken while held, despite the context ending")
	}
}

// testSpec is the test agent's image, as internal/testagent declares it
// (that package imports this one, so the spec is repeated here).
var testSpec = Spec{
	Name: "testagent", Image: "agentgate/testagent:dev", Dockerfile: "deploy/images/testagent/Dockerfile",
	Package: "./internal/testagent/cmd/testagent", Binary: "usr/local/bin/testagent", Busybox: true, TmpDir: true,
}

func TestBuildContextDeterministic(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	a, err := BuildContext(context.Background(), root, testSpec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildContext(context.Background(), root, testSpec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the context differ: the image would be rebuilt every time")
	}
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	want := []string{"Dockerfile", "rootfs/usr/", "rootfs/usr/local/", "rootfs/usr/local/bin/", "rootfs/usr/local/bin/testagent", "rootfs/tmp/"}
	if _, err := os.Stat(busyboxBin); err == nil {
		want = append(want, "rootfs/bin/busybox", "rootfs/bin/sh")
	}
	for _, n := range want {
		if !names[n] {
			t.Errorf("context lacks %s", n)
		}
	}
}
