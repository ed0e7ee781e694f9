// Package imagebuild builds agentgate's own images (the test agent, the
// relay) on the local engine from the source tree: a static Go binary,
// optionally the host's busybox, and a Dockerfile, as a deterministic
// build context. Images are never pulled; an image whose inputs have not
// changed is not rebuilt (a label holds the inputs' hash).
package imagebuild
