// Package runner runs one coding agent in a locked-down Docker container
// and reports what happened.
//
// Convert turns a plain-data Spec into Docker configuration (pure, golden
// tested): a non-root user, no capabilities, no-new-privileges, the default
// seccomp profile, a read-only root filesystem, a small noexec /tmp, memory
// (no swap), CPU and pids limits, no network but loopback, and only three
// host paths: the work tree, the read-only task file and an optional output
// directory. Engine.Run creates, streams, bounds and always removes the
// container; Engine.Sweep removes a worker's leftovers after a crash.
// MountWorkspace and PrepareOwnership prepare a work tree that the agent can
// write but cannot use to fill the worker's disk.
//
// With Spec.Network the agent gets a relayed network instead of none:
// ConvertRelay configures the run's relay container (`agentgate-relay`,
// package relay; NetworkMode none, the host's socket directory mounted into
// it alone) and ConvertAgent puts the agent into the relay's network
// namespace with HTTP_PROXY pointing at the relay's egress port. Engine.Run
// starts the relay first, waits for its pre-flight and removes it after the
// agent on every path.
//
// Only the Docker Engine API is used (client.APIClient); images are never
// pulled.
package runner
