package main

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner/agentimage"
	"github.com/agentgate/agentgate/runner/relayimage"
)

// cmdImages builds the images this machine needs and cannot pull: the test
// agent and the relay. The README, the demo and CI all build it through this one path.
func cmdImages(ctx context.Context, _ []string, stdout io.Writer) error {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	for _, ensure := range []func(context.Context, client.APIClient) (string, error){testagent.EnsureImage, relayimage.EnsureImage, agentimage.EnsureImage} {
		img, err := ensure(ctx, cli)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "built %s\n", img)
	}
	return nil
}
