package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// removeClient answers ContainerRemove with removeErr and then
// ContainerInspect as if the container were there for stillThere more
// calls.
type removeClient struct {
	client.APIClient // nil: any other call panics
	removeErr        error
	stillThere       int
	inspects         int
}

func (c *removeClient) ContainerRemove(context.Context, string, container.RemoveOptions) error {
	return c.removeErr
}

func (c *removeClient) ContainerInspect(context.Context, string) (container.InspectResponse, error) {
	c.inspects++
	if c.inspects <= c.stillThere {
		return container.InspectResponse{}, nil
	}
	return container.InspectResponse{}, fmt.Errorf("No such container: x: %w", cerrdefs.ErrNotFound)
}

// A worker killed while the engine was removing one of its containers
// restarts into "removal already in progress": the removal waits for the
// engine to finish rather than failing the start-up sweep.
func TestRemoveContainer(t *testing.T) {
	inProgress := fmt.Errorf("Error response from daemon: removal of container x is already in progress: %w", cerrdefs.ErrConflict)
	tests := []struct {
		name       string
		removeErr  error
		stillThere int
		timeout    time.Duration
		wantErr    string
		inspects   int
	}{
		{"removed", nil, 0, time.Second, "", 0},
		{"already gone", fmt.Errorf("No such container: x: %w", cerrdefs.ErrNotFound), 0, time.Second, "", 0},
		{"removal in progress, then gone", inProgress, 3, 5 * time.Second, "", 4},
		{"removal in progress, never done", inProgress, 1 << 30, 200 * time.Millisecond, "already in progress", -1},
		{"another conflict", fmt.Errorf("container is paused: %w", cerrdefs.ErrConflict), 0, time.Second, "paused", 0},
		{"engine down", errors.New("connection refused"), 0, time.Second, "connection refused", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := &removeClient{removeErr: tt.removeErr, stillThere: tt.stillThere}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			err := New(cli).removeContainer(ctx, "x")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("removeContainer = %v, want error %q", err, tt.wantErr)
			}
			if tt.inspects >= 0 && cli.inspects != tt.inspects {
				t.Fatalf("%d inspects, want %d", cli.inspects, tt.inspects)
			}
		})
	}
}
