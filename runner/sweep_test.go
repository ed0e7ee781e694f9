package runner

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

func TestSweep(t *testing.T) {
	cli := dockerClient(t)
	ctx := context.Background()
	eng := New(cli)
	mine := fmt.Sprintf("sweep-mine-%d", os.Getpid())
	other := fmt.Sprintf("sweep-other-%d", os.Getpid())
	t.Cleanup(func() { eng.Sweep(context.Background(), other) })

	create := func(worker, run string) {
		s := newSandbox(t, "agentgate-test: sleep forever\n")
		s.spec.WorkerID, s.spec.RunID = worker, run
		cfg, hc, err := Convert(s.spec)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cli.ContainerCreate(ctx, cfg, hc, nil, nil, "")
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start: %v", err)
		}
	}
	create(mine, "sweep-run-1")
	create(mine, "sweep-run-2")
	create(other, "sweep-run-3")

	count := func(worker string) int {
		cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelWorker+"="+worker))})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	n, err := eng.Sweep(ctx, mine)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2", n, err)
	}
	if got := count(mine); got != 0 {
		t.Errorf("%d of my containers left", got)
	}
	if got := count(other); got != 1 {
		t.Errorf("other worker has %d containers, want 1 untouched", got)
	}
	if n, err := eng.Sweep(ctx, mine); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0, nil", n, err)
	}
	if _, err := eng.Sweep(ctx, ""); err == nil {
		t.Error("Sweep with an empty worker id succeeded")
	}
	if n, err := eng.Sweep(ctx, other); err != nil || n != 1 || count(other) != 0 {
		t.Errorf("Sweep(other) = %d, %v", n, err)
	}
}
