package testagent

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/dockertest"
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
	unlock, err := lockFile(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var second atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := lockFile(ctx, name)
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

	held, err := lockFile(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer held()
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := lockFile(cctx, name); err == nil {
		t.Fatal("lock taken while held, despite the context ending")
	}
}

func TestBuildContextDeterministic(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildContext(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildContext(context.Background(), root)
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
	want := []string{"Dockerfile", "rootfs/usr/local/bin/testagent"}
	if _, err := os.Stat(busyboxBin); err == nil {
		want = append(want, "rootfs/bin/busybox", "rootfs/bin/sh")
	}
	for _, n := range want {
		if !names[n] {
			t.Errorf("context lacks %s", n)
		}
	}
}

func TestEnsureImage(t *testing.T) {
	cli := dockertest.Client(t)
	ctx := context.Background()
	tag, err := EnsureImage(ctx, cli)
	if err != nil || tag != Image {
		t.Fatalf("EnsureImage = %q, %v", tag, err)
	}
	first, err := cli.ImageInspect(ctx, Image)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	second, err := cli.ImageInspect(ctx, Image)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != second.ID {
		t.Errorf("unchanged sources rebuilt the image: %s then %s", first.ID, second.ID)
	}
	if second.Config == nil || second.Config.User != "65532:65532" || len(second.Config.Entrypoint) != 1 || second.Config.Entrypoint[0] != "/usr/local/bin/testagent" {
		t.Errorf("image config %+v", second.Config)
	}
}
