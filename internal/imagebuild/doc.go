// Package imagebuild builds agentgate's own images (the relay, the
// built-in agent, the test images) on the local engine: a static Go binary,
// optionally the host's busybox, and a Dockerfile, as a deterministic
// build context. Images are never pulled; an image whose inputs have not
// changed is not rebuilt (a label holds the inputs' hash).
//
// From the source tree the binary is built from its main package with the
// go tool. Without it (an installed agentgate), the images whose spec names
// a prebuilt binary are built from the installed binaries instead: the
// built-in agent's from agentgate itself, the relay's from the
// agentgate-relay beside it; both must be static (CGO_ENABLED=0). The test
// images (test agent, stub, adversary) have no prebuilt binary: their
// programs are not installed, so they need the source tree.
package imagebuild
