package relayimage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/imagebuild"
)

// TestEnsureImage builds the image and checks what is in it: the
// agentgate-relay binary as entrypoint, a non-root user, and nothing
// pulled. A second call finds the image current and does not rebuild.
func TestEnsureImage(t *testing.T) {
	cli := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := EnsureImage(ctx, cli)
	if err != nil || img != Image {
		t.Fatalf("EnsureImage = %q, %v", img, err)
	}
	inspect, err := cli.ImageInspect(ctx, Image)
	if err != nil {
		t.Fatal(err)
	}
	cfg := inspect.Config
	if cfg == nil || len(cfg.Entrypoint) != 1 || cfg.Entrypoint[0] != "/usr/local/bin/agentgate-relay" || cfg.User != "65532:65532" || cfg.Labels["dev.agentgate.relay.inputs"] == "" {
		t.Fatalf("image config %+v", cfg)
	}
	if len(inspect.RootFS.Layers) != 1 {
		t.Errorf("image has %d layers, want 1 (FROM scratch + one COPY)", len(inspect.RootFS.Layers))
	}
	start := time.Now()
	if _, err := EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	after, err := cli.ImageInspect(ctx, Image)
	if err != nil || after.ID != inspect.ID {
		t.Errorf("second EnsureImage rebuilt the image (%s → %s, %v) in %v", inspect.ID, after.ID, err, time.Since(start))
	}
}

// TestEnsureImageWithoutSourceTree builds the relay image as an installed
// agentgate does, from a working directory outside any source tree: the
// prebuilt static agentgate-relay and the Dockerfile the binary carries.
// The image (its own tag, removed after) runs the relay: it refuses a
// public listen address, as the relay does.
func TestEnsureImageWithoutSourceTree(t *testing.T) {
	cli := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := imagebuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "agentgate-relay")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/agentgate-relay")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Chdir(t.TempDir())
	if _, err := imagebuild.ModuleRoot(); err == nil {
		t.Fatal("the test's directory is inside a source tree")
	}

	spec := Spec
	spec.Name, spec.Image = "relay-prebuilt-test", "agentgate/relay-prebuilt-test:dev"
	spec.Prebuilt = func() (string, error) { return bin, nil }
	tag := spec.Image
	t.Cleanup(func() {
		if _, err := cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Logf("remove %s: %v", tag, err)
		}
	})
	if img, err := imagebuild.Ensure(ctx, cli, spec); err != nil || img != spec.Image {
		t.Fatalf("Ensure without the source tree = %q, %v", img, err)
	}
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", spec.Image,
		"relay", "--listen", "0.0.0.0:3128=/s/egress.sock").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "loopback") {
		t.Errorf("the image's relay accepted a public listen address: %v\n%s", err, out)
	}

	// Without a prebuilt binary, a spec needs the source tree.
	spec.Prebuilt, spec.Image = nil, "agentgate/relay-prebuilt-test:none"
	if _, err := imagebuild.Ensure(ctx, cli, spec); err == nil || !strings.Contains(err.Error(), "source tree") {
		t.Errorf("Ensure without the source tree nor a prebuilt binary = %v", err)
	}
}
