package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// imageCheck knows which images runs need are missing from the engine; it
// is refreshed in the background and shown on /readyz.
type imageCheck struct {
	mu      sync.Mutex
	missing []string // "setting image", sorted as configured
	checked bool
}

// set records the images found missing.
func (c *imageCheck) set(missing []string) {
	c.mu.Lock()
	c.missing, c.checked = missing, true
	c.mu.Unlock()
}

// report is the /readyz detail: one line per missing image.
func (c *imageCheck) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, m := range c.missing {
		fmt.Fprintf(&b, "image missing: %s (runs that need it fail; build it, `docker load` it, or set pull-images with a digest)\n", m)
	}
	return strings.TrimRight(b.String(), "\n")
}

// missingImages lists the images of imgs the engine does not have.
func missingImages(ctx context.Context, cli client.APIClient, imgs []neededImage) ([]neededImage, error) {
	var out []neededImage
	for _, n := range imgs {
		if _, err := cli.ImageInspect(ctx, n.image); err != nil {
			if !cerrdefs.IsNotFound(err) {
				return nil, fmt.Errorf("inspect image %s (setting %s): %w", n.image, n.key, err)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// ensureImages makes sure the images runs need are on the engine. With
// pull-images, a missing image is pulled by its digest (ValidateServe
// refuses a tag); the agent's and the relay's images must then be there,
// or start-up fails naming them. Images repositories may pick
// (agent-images) are only reported: a run picking a missing one fails.
func ensureImages(ctx context.Context, cli client.APIClient, cfg Config, log logger) ([]string, error) {
	missing, err := missingImages(ctx, cli, cfg.pulledImages())
	if err != nil {
		return nil, err
	}
	if cfg.Deploy.PullImages {
		var still []neededImage
		for _, n := range missing {
			log.Info("pulling image", "setting", n.key, "image", n.image)
			if err := pullImage(ctx, cli, n.image); err != nil {
				log.Warn("image pull failed", "setting", n.key, "image", n.image, "err", err)
				still = append(still, n)
			}
		}
		if missing, err = missingImages(ctx, cli, still); err != nil {
			return nil, err
		}
	}
	var errs []error
	var report []string
	for _, n := range missing {
		report = append(report, n.key+" "+n.image)
		if n.key == "agent-images" {
			log.Warn("image missing: runs that pick it will fail", "setting", n.key, "image", n.image)
			continue
		}
		how := "images are pulled only with pull-images (by digest); build it, e.g. `agentgate images`, or `docker load` it"
		if cfg.Deploy.PullImages {
			how = "pulling it failed (see the log)"
		}
		errs = append(errs, fmt.Errorf("setting %s: image %s is not on the Docker engine: %s", n.key, n.image, how))
	}
	return report, errors.Join(errs...)
}

// pullImage pulls ref and reads the engine's progress to its end; an
// error the engine reports in the stream is returned.
func pullImage(ctx context.Context, cli client.APIClient, ref string) error {
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer rc.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}

// watchImages re-checks every interval which images are missing (an
// image prune, a replaced engine), for /readyz.
func (s *Server) watchImages(ctx context.Context, interval time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		missing, err := missingImages(ctx, s.docker, s.cfg.pulledImages())
		if err != nil {
			continue // the engine is down: its own check says so
		}
		var report []string
		for _, n := range missing {
			report = append(report, n.key+" "+n.image)
		}
		s.images.set(report)
	}
}

// readyDetail is the /readyz detail: start-up warnings, missing images,
// and the reachability of the upstreams.
func (s *Server) readyDetail() string {
	var lines []string
	for _, w := range s.warnings {
		lines = append(lines, "warning: "+w)
	}
	if r := s.images.report(); r != "" {
		lines = append(lines, r)
	}
	if s.health != nil {
		if r := s.health.report(); r != "" {
			lines = append(lines, r)
		}
	}
	return strings.Join(lines, "\n")
}

// ReadyDetail is what /readyz shows beside its status (for a worker's own
// readiness endpoint too).
func (s *Server) ReadyDetail() string { return s.readyDetail() }

// warnAtStart logs each start-up warning of the configuration and keeps
// them for /readyz.
func (s *Server) warnAtStart() {
	s.warnings = s.cfg.StartupWarnings()
	for _, w := range s.warnings {
		s.log.Warn("configuration: " + w)
	}
}

// holdForBalancers keeps the webhook listener serving for shutdown-delay
// after readiness started failing, so load balancers stop sending first:
// a delivery refused during a rollout is one GitHub does not retry.
func (s *Server) holdForBalancers(ctx context.Context) {
	d := s.cfg.Deploy.ShutdownDelay
	if s.http == nil || d <= 0 {
		return
	}
	s.log.Info("readiness failing: still serving webhooks until load balancers notice", "shutdown_delay", d.String())
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// logger is the part of slog.Logger ensureImages uses.
type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}
