package main

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/imagebuild"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner/agentimage"
	"github.com/agentgate/agentgate/runner/relayimage"
)

// cmdImages builds the images this machine needs and cannot pull: the test
// agent, the relay and the built-in agent. The README, the demo and CI all
// build them through this one path. From a source checkout every image is
// built from the source; an installed agentgate (no source tree above the
// working directory) builds the relay image from the agentgate-relay
// installed beside it and the agent image from itself, and skips the test
// agent, whose program is not installed.
func cmdImages(ctx context.Context, _ []string, stdout io.Writer) error {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	_, srcErr := imagebuild.ModuleRoot()
	for _, im := range []struct {
		tag      string
		ensure   func(context.Context, client.APIClient) (string, error)
		needsSrc bool
	}{
		{testagent.Image, testagent.EnsureImage, true},
		{relayimage.Image, relayimage.EnsureImage, false},
		{agentimage.Image, agentimage.EnsureImage, false},
	} {
		if im.needsSrc && srcErr != nil {
			fmt.Fprintf(stdout, "skipped %s (a test image: built from a source checkout only)\n", im.tag)
			continue
		}
		img, err := im.ensure(ctx, cli)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "built %s\n", img)
	}
	return nil
}
