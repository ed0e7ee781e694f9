package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestPrebuiltContext builds a context without the source tree, from a
// prebuilt static binary and the Dockerfile's embedded text: the binary
// goes into the image byte for byte; a dynamically linked binary, a
// missing one and a spec without a prebuilt binary are refused.
func TestPrebuiltContext(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	static := filepath.Join(dir, "relay")
	cmd := exec.Command("go", "build", "-o", static, "./cmd/agentgate-relay")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	want, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := []byte("FROM scratch\nCOPY rootfs/ /\n")
	spec := Spec{Name: "prebuilt", Image: "agentgate/prebuilt:test", Binary: "usr/local/bin/relay",
		DockerfileText: dockerfile, Prebuilt: func() (string, error) { return static, nil }}
	a, err := BuildContext(context.Background(), "", spec)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	if !bytes.Equal(files["Dockerfile"], dockerfile) || !bytes.Equal(files["rootfs/usr/local/bin/relay"], want) {
		t.Errorf("context's Dockerfile %q and binary (%d bytes, want %d) are not the prebuilt ones", files["Dockerfile"], len(files["rootfs/usr/local/bin/relay"]), len(want))
	}

	// A dynamically linked binary cannot run FROM scratch.
	dynamic := ""
	for _, p := range []string{"/usr/bin/env", "/bin/ls", "/usr/bin/git"} {
		if f, err := elf.Open(p); err == nil {
			for _, prog := range f.Progs {
				if prog.Type == elf.PT_INTERP && dynamic == "" {
					dynamic = p
				}
			}
			f.Close()
		}
	}
	type refusal struct {
		name string
		spec Spec
		want string
	}
	refused := []refusal{
		{"missing", Spec{Name: "x", DockerfileText: dockerfile, Prebuilt: func() (string, error) { return filepath.Join(dir, "none"), nil }}, "not a Linux executable"},
		{"no prebuilt", Spec{Name: "x", DockerfileText: dockerfile}, "no source tree"},
		{"no dockerfile text", Spec{Name: "x", Prebuilt: spec.Prebuilt}, "no source tree"},
	}
	if dynamic != "" {
		refused = append(refused, refusal{"dynamic", Spec{Name: "x", DockerfileText: dockerfile, Prebuilt: func() (string, error) { return dynamic, nil }}, "CGO_ENABLED=0"})
	} else {
		t.Log("no dynamically linked binary on this host to refuse")
	}
	for _, tt := range refused {
		if _, err := BuildContext(context.Background(), "", tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: BuildContext = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}
