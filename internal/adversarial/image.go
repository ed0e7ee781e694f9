package adversarial

import (
	"context"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/imagebuild"
)

// Image is the tag of the adversary image.
const Image = "agentgate/adversary:dev"

// Spec is what the adversary image is made of.
var Spec = imagebuild.Spec{
	Name:       "adversary",
	Image:      Image,
	Dockerfile: "deploy/images/adversary/Dockerfile",
	Package:    "./internal/adversarial/cmd/adversary",
	Binary:     "usr/local/bin/adversary",
	Busybox:    true,
	TmpDir:     true,
}

// EnsureImage builds the adversary image when it is missing or stale.
func EnsureImage(ctx context.Context, cli client.APIClient) (string, error) {
	return imagebuild.Ensure(ctx, cli, Spec)
}
