package testagent

import (
	"context"
	"testing"

	"github.com/agentgate/agentgate/internal/dockertest"
)

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
