package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Sweep removes every container (and other object) labelled with workerID:
// containers first, then networks and volumes. It returns how many objects
// are gone; an object already gone counts as removed. Objects of other
// workers are never listed, so never touched.
func (e *Engine) Sweep(ctx context.Context, workerID string) (int, error) {
	if err := checkID("worker id", workerID); err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	f := filters.NewArgs(filters.Arg("label", LabelWorker+"="+workerID))
	var errs []error
	n := 0

	cs, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("sweep: container list: %w", err)
	}
	for _, c := range cs {
		if c.Labels[LabelWorker] != workerID { // belt and braces over the filter
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
		err := e.removeContainer(rctx, c.ID)
		cancel()
		if err == nil {
			n++
			continue
		}
		errs = append(errs, fmt.Errorf("container remove %s: %w", shortID(c.ID), err))
	}

	nets, err := e.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("network list: %w", err))
	}
	for _, nw := range nets {
		if nw.Labels[LabelWorker] != workerID {
			continue
		}
		if err := e.cli.NetworkRemove(ctx, nw.ID); !gone(err) {
			errs = append(errs, fmt.Errorf("network remove %s: %w", shortID(nw.ID), err))
			continue
		}
		n++
	}

	vols, err := e.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("volume list: %w", err))
	}
	for _, v := range vols.Volumes {
		if v == nil || v.Labels[LabelWorker] != workerID {
			continue
		}
		if err := e.cli.VolumeRemove(ctx, v.Name, true); !gone(err) {
			errs = append(errs, fmt.Errorf("volume remove %s: %w", v.Name, err))
			continue
		}
		n++
	}
	if n > 0 {
		slog.InfoContext(ctx, "swept leftovers", "worker", workerID, "removed", n)
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("sweep: %w", err)
	}
	return n, nil
}

// gone reports whether a remove succeeded or found nothing to remove.
func gone(err error) bool { return err == nil || cerrdefs.IsNotFound(err) }
