// Package images carries the Dockerfiles of the images agentgate builds
// itself from its own binaries (the relay's and the built-in agent's), so
// that an installed agentgate builds them without the source tree (see
// internal/imagebuild). The other Dockerfiles here are built from their
// directory with docker build, or from the source tree by the tests.
package images

import _ "embed"

// RelayDockerfile is relay/Dockerfile: the relay image, FROM scratch with
// agentgate-relay.
//
//go:embed relay/Dockerfile
var RelayDockerfile []byte

// AgentDockerfile is agent/Dockerfile: the built-in agent's image, FROM
// scratch with the agentgate binary and busybox.
//
//go:embed agent/Dockerfile
var AgentDockerfile []byte
