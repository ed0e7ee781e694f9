package relayimage

import (
	"context"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/deploy/images"
	"github.com/agentgate/agentgate/internal/imagebuild"
)

// Image is the tag of the relay image.
const Image = "agentgate/relay:dev"

// Spec is what the relay image is made of: the static agentgate-relay
// binary (cmd/agentgate-relay: runner/relay and the standard library, not
// the product binary) and deploy/images/relay/Dockerfile, FROM scratch. The
// binary lives in /usr/local/bin so that /agentgate/sock can be mounted.
var Spec = imagebuild.Spec{
	Name:       "relay",
	Image:      Image,
	Dockerfile: "deploy/images/relay/Dockerfile",
	Package:    "./cmd/agentgate-relay",
	Binary:     "usr/local/bin/agentgate-relay",
	// Without the source tree: the agentgate-relay installed beside
	// agentgate (CGO_ENABLED=0 go install ./cmd/agentgate ./cmd/agentgate-relay).
	DockerfileText: images.RelayDockerfile,
	Prebuilt:       imagebuild.Sibling("agentgate-relay"),
}

// EnsureImage makes sure the relay image exists and matches the current
// sources, building it when needed (see imagebuild.Ensure).
func EnsureImage(ctx context.Context, cli client.APIClient) (string, error) {
	return imagebuild.Ensure(ctx, cli, Spec)
}
