package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/testagent"
)

var (
	imageOnce sync.Once
	imageErr  error
)

// dockerClient returns a client for the local engine with the test agent
// image built, or skips (fails under CI=true) when no engine is reachable.
func dockerClient(t *testing.T) client.APIClient {
	t.Helper()
	cli := dockertest.Client(t)
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, imageErr = testagent.EnsureImage(ctx, cli)
	})
	if imageErr != nil {
		t.Fatalf("build test agent image: %v", imageErr)
	}
	return cli
}

// sandbox is the host side of one test run.
type sandbox struct {
	spec Spec
	tree string
	out  string
}

// newSandbox writes task and prepares a work tree and out dir for the
// default sandbox user.
func newSandbox(t *testing.T, task string) *sandbox {
	t.Helper()
	dir := t.TempDir()
	s := &sandbox{tree: filepath.Join(dir, "tree"), out: filepath.Join(dir, "out")}
	for _, d := range []string{s.tree, s.out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := PrepareOwnership(d, DefaultUser()); err != nil {
			t.Fatal(err)
		}
	}
	taskFile := filepath.Join(dir, "task.md")
	if err := os.WriteFile(taskFile, []byte(task), 0o644); err != nil {
		t.Fatal(err)
	}
	s.spec = Spec{
		RunID:    fmt.Sprintf("test-%s-%d", filepath.Base(dir), time.Now().UnixNano()),
		WorkerID: fmt.Sprintf("runner-test-%d", os.Getpid()),
		Image:    testagent.Image,
		WorkTree: s.tree,
		TaskFile: taskFile,
		OutDir:   s.out,
		User:     DefaultUser(),
		Limits:   Limits{Timeout: 30 * time.Second, MemoryBytes: 128 << 20, Pids: 64, TmpfsBytes: 8 << 20},
	}
	return s
}

// assertGone fails when any container of runID is left on the engine.
func assertGone(t *testing.T, cli client.APIClient, runID string) {
	t.Helper()
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID)),
	})
	if err != nil {
		t.Fatalf("container list: %v", err)
	}
	if len(cs) != 0 {
		t.Errorf("%d container(s) of run %s left behind", len(cs), runID)
	}
}

func hasLimit(res Result, name string) bool {
	for _, l := range res.LimitsHit {
		if l == name {
			return true
		}
	}
	return false
}
