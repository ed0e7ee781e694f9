package testagent

import (
	"context"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/imagebuild"
)

// Image is the tag of the test agent image.
const Image = "agentgate/testagent:dev"

// Spec is what the test agent image is made of: the static test agent,
// the host's busybox and deploy/images/testagent/Dockerfile.
var Spec = imagebuild.Spec{
	Name:       "testagent",
	Image:      Image,
	Dockerfile: "deploy/images/testagent/Dockerfile",
	Package:    "./internal/testagent/cmd/testagent",
	Binary:     "usr/local/bin/testagent",
	Busybox:    true,
	TmpDir:     true,
}

// EnsureImage makes sure the test agent image exists and matches the
// current sources, building it when needed (see imagebuild.Ensure).
func EnsureImage(ctx context.Context, cli client.APIClient) (string, error) {
	return imagebuild.Ensure(ctx, cli, Spec)
}
