package main

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/testagent"
)

// cmdImages builds the images this machine needs and cannot pull: the test
// agent. The README, the demo and CI all build it through this one path.
func cmdImages(ctx context.Context, _ []string, stdout io.Writer) error {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	img, err := testagent.EnsureImage(ctx, cli)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %s\n", img)
	return nil
}
