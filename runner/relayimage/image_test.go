package relayimage

import (
	"context"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/dockertest"
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
