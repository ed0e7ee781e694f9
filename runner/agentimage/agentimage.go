// Package agentimage builds the built-in agent's image, agentgate/agent:dev,
// on the local Docker engine: FROM scratch with the static agentgate binary
// (entrypoint `agentgate agent`), busybox for the agent's shell tool, and
// an empty /tmp. Nothing is pulled.
package agentimage

import (
	"context"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/deploy/images"
	"github.com/agentgate/agentgate/internal/imagebuild"
)

// Image is the tag of the built-in agent's image.
const Image = "agentgate/agent:dev"

// AgentImage is what the image is made of: deploy/images/agent/Dockerfile,
// FROM scratch, with the agentgate binary at /usr/local/bin/agentgate.
var AgentImage = imagebuild.Spec{
	Name:       "agent",
	Image:      Image,
	Dockerfile: "deploy/images/agent/Dockerfile",
	Package:    "./cmd/agentgate",
	Binary:     "usr/local/bin/agentgate",
	Busybox:    true,
	TmpDir:     true,
	// Without the source tree: the running agentgate binary itself (it
	// holds `agentgate agent`; static when built with CGO_ENABLED=0).
	DockerfileText: images.AgentDockerfile,
	Prebuilt:       imagebuild.Self,
}

// EnsureImage makes sure the image exists and matches the current
// sources, building it when needed (see imagebuild.Ensure).
func EnsureImage(ctx context.Context, cli client.APIClient) (string, error) {
	return imagebuild.Ensure(ctx, cli, AgentImage)
}
