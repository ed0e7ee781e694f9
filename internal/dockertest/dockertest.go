// Package dockertest gives tests a Docker engine client: tests that need
// the engine skip with a clear message on a machine without one, but under
// CI (CI=true) a missing engine fails the run, since the sandbox is the
// product.
package dockertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Client returns a client for the environment's engine (DOCKER_HOST or the
// local socket), closed when the test ends, or skips (fails under CI=true)
// when no engine answers.
func Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = cli.Ping(ctx)
		cancel()
		if err != nil {
			_ = cli.Close()
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Docker engine required under CI=true: %v", err)
		}
		t.Skipf("no Docker engine reachable (set DOCKER_HOST or start dockerd): %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// RequireRoot skips tests that mount size-bounded work trees (tmpfs), which
// needs root, and fails under CI=true where the run is root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI runs must be root: bounded work trees are tmpfs mounts")
	}
	t.Skip("needs root: bounded work trees are tmpfs mounts")
}
