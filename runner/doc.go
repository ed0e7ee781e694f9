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
// Only the Docker Engine API is used (client.APIClient); images are never
// pulled.
package runner
