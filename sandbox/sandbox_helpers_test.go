package sandbox_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
)

// testSandbox is a Sandbox on the real engine running the test agent,
// with no network, its audit store and data directory under dir; adjust,
// when set, edits it before use.
func testSandbox(ctx context.Context, t *testing.T, dir, worker string, adjust func(*sandbox.Sandbox)) (*sandbox.Sandbox, *store.DB) {
	t.Helper()
	requireDocker(t)
	cli := dockertest.Client(t)
	if _, err := testagent.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sb := &sandbox.Sandbox{
		Engine: runner.New(cli), Events: db, DataDir: filepath.Join(dir, "data"), WorkerID: worker,
		Agent: func([]string) (agents.Preset, error) {
			return agents.Preset{Name: "configured", Image: testagent.Image, Events: agents.EventsAgentgate}, nil
		},
		Limits:         runner.Limits{Timeout: time.Minute},
		WorkspaceBytes: 32 << 20, WorkspaceInodes: 10_000,
		Network: sandbox.NetworkConfig{Mode: "none"},
	}
	if adjust != nil {
		adjust(sb)
	}
	return sb, db
}

// initRepo makes an empty repository on branch main at dir/repo.
func initRepo(t *testing.T, dir string) string {
	t.Helper()
	repo := filepath.Join(dir, "repo")
	if out, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	return repo
}

// requireDocker skips without an engine or root, except under CI where
// the sandbox is the product and a missing engine fails the run.
func requireDocker(t testing.TB) {
	t.Helper()
	dockertest.Client(t)
	dockertest.RequireRoot(t)
}

// gitIn runs git in dir as a test user and returns its trimmed output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=u", "-c", "user.email=u@example.test"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}
