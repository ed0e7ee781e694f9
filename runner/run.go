package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// Bounds on the runner's own waits.
const (
	cleanupTimeout = 30 * time.Second // removing a container
	killWait       = 30 * time.Second // a killed container to report its exit
	drainWait      = 10 * time.Second // output to end after the exit
)

// Run creates, starts and waits for the agent container, streaming each
// output line to onLine (may be nil), enforcing spec.Limits, and removes the
// container on every path. A non-nil error means the sandbox itself failed;
// an agent failure is a Result with a non-zero ExitCode.
//
// With spec.Network, the run's relay container is started first and must
// pass its pre-flight (only loopback, no resolver, sockets present, a
// denied host refused) within RelayReadyTimeout, or the agent never starts
// and the error says why; the agent then joins the relay's network
// namespace. The relay is removed after the agent, on every path.
//
// onLine is called from one goroutine, in order, for each line kept in
// Result.Output (masked, at most 64 KiB, without its newline); it is not
// called for output past Limits.OutputBytes.
func (e *Engine) Run(ctx context.Context, spec Spec, onLine func(line string)) (Result, error) {
	res, cleanup, err := e.RunThenCleanup(ctx, spec, onLine)
	return res, errors.Join(err, cleanup())
}

// RunThenCleanup is Run, except that removing the run's containers (the
// agent's, exited, and the relay) is left to the returned cleanup, which
// the caller must call exactly once, whatever err is. The caller can so
// harvest the work tree while the engine removes them: the agent has
// exited, and every process of its PID namespace with it, so nothing can
// change the work tree any more; the relay never had it.
func (e *Engine) RunThenCleanup(ctx context.Context, spec Spec, onLine func(line string)) (res Result, cleanup func() error, err error) {
	// Cleanup steps, run last registered first, as defers would.
	var steps []func() error
	cleanup = func() error {
		var errs []error
		for i := len(steps) - 1; i >= 0; i-- {
			errs = append(errs, steps[i]())
		}
		steps = nil
		return errors.Join(errs...)
	}
	res, err = e.run(ctx, spec, onLine, func(f func() error) { steps = append(steps, f) })
	return res, cleanup, err
}

// run is RunThenCleanup; later registers each cleanup step.
func (e *Engine) run(ctx context.Context, spec Spec, onLine func(line string), later func(func() error)) (res Result, err error) {
	spec, err = normalize(spec)
	if err != nil {
		return res, err
	}
	var cfg *container.Config
	var hc *container.HostConfig
	// relayReady, with a network, delivers the relay's start and
	// pre-flight, which run while the agent's container is created: the
	// agent is started only once it said ready.
	var relayReady <-chan error
	if spec.Network == nil {
		cfg, hc, err = Convert(spec)
	} else {
		relayID, cerr := e.createRelay(ctx, spec)
		if cerr != nil {
			return res, cerr
		}
		ready := make(chan error, 1)
		started := make(chan struct{})
		detach := func() {}
		go func() {
			defer close(started)
			ready <- e.startCreatedRelay(ctx, spec, relayID, &detach)
		}()
		relayReady = ready
		// Registered first, so it runs after the agent's removal; it
		// waits for the start to have returned (it is bounded by
		// RelayReadyTimeout and ctx) before removing the relay.
		later(func() error {
			<-started
			err := e.remove(ctx, relayID)
			detach()
			return err
		})
		cfg, hc, err = ConvertAgent(spec, relayID)
	}
	if err != nil {
		return res, err
	}
	log := slog.With("run", spec.RunID, "image", spec.Image)

	created, err := e.create(ctx, cfg, hc)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return res, fmt.Errorf("container create: image %s is not on this engine and is never pulled; build it locally first (for the test agent: agentgate images): %w", spec.Image, err)
		}
		return res, fmt.Errorf("container create: %w", err)
	}
	id := created.ID
	later(func() error { return e.remove(ctx, id) })
	log = log.With("container", shortID(id))

	// Attach and wait before start so that no output and no exit is missed.
	hj, err := e.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return res, fmt.Errorf("container attach: %w", err)
	}
	defer hj.Close()
	col := newCollector(spec.Limits.OutputBytes, onLine)
	col.secrets = secretValues(spec.SecretEnv)
	outDone := make(chan error, 1)
	go func() {
		stdout, stderr := col.stream(), col.stream()
		_, err := stdcopy.StdCopy(stdout, stderr, hj.Reader)
		stdout.flush()
		stderr.flush()
		outDone <- err
	}()

	waitCtx, cancelWait := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWait()
	waitCh, waitErr := e.cli.ContainerWait(waitCtx, id, container.WaitConditionNextExit)

	if relayReady != nil {
		if err := <-relayReady; err != nil {
			return res, err
		}
	}
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return res, fmt.Errorf("container start: %w", err)
	}
	res.StartedAt = time.Now()
	log.InfoContext(ctx, "sandbox started")
	pids := watchPids(waitCtx, e.cli, id, spec.Limits.Pids)

	timer := time.NewTimer(spec.Limits.Timeout)
	defer timer.Stop()
	var exit container.WaitResponse
	select {
	case exit = <-waitCh:
	case werr := <-waitErr:
		return res, fmt.Errorf("container wait: %w", werr)
	case <-timer.C:
		res.TimedOut = true
		log.InfoContext(ctx, "sandbox timed out", "timeout", spec.Limits.Timeout)
		if exit, err = e.killAndWait(ctx, id, waitCh, waitErr); err != nil {
			return res, err
		}
	case <-ctx.Done():
		_, kerr := e.killAndWait(ctx, id, waitCh, waitErr)
		return res, errors.Join(fmt.Errorf("container run: %w", ctx.Err()), kerr)
	}
	res.FinishedAt = time.Now()
	res.ExitCode = int(exit.StatusCode)

	// The attach stream ends with the container; bound the wait anyway.
	select {
	case <-outDone:
	case <-time.After(drainWait):
		hj.Close()
		<-outDone
	}
	res.Output = col.out
	res.OutputBytes = col.total
	res.DroppedBytes = col.dropped

	inspect, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return res, fmt.Errorf("container inspect: %w", err)
	}
	res.OOMKilled = inspect.State != nil && inspect.State.OOMKilled
	if !res.OOMKilled && res.ExitCode == 137 && !res.TimedOut {
		// The engine may record the exit before the OOM event that caused
		// it: a SIGKILLed agent is looked at again, briefly.
		res.OOMKilled = e.oomLater(ctx, id)
	}
	res.LimitsHit = limitsHit(res, col.full, pids.hit(), workTreeFull(spec.WorkTree))
	log.InfoContext(ctx, "sandbox finished", "exit_code", res.ExitCode, "limits_hit", res.LimitsHit,
		"output_bytes", res.OutputBytes, "duration", res.FinishedAt.Sub(res.StartedAt))
	return res, nil
}

// oomLater re-inspects a SIGKILLed container for a late OOM record.
func (e *Engine) oomLater(ctx context.Context, id string) bool {
	for i := 0; i < 20; i++ { // up to 2 s: the event can lag under load
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
		inspect, err := e.cli.ContainerInspect(ctx, id)
		if err != nil {
			return false
		}
		if inspect.State != nil && inspect.State.OOMKilled {
			return true
		}
	}
	return false
}

// killAndWait kills the container and waits, bounded, for its exit.
func (e *Engine) killAndWait(ctx context.Context, id string, waitCh <-chan container.WaitResponse, waitErr <-chan error) (container.WaitResponse, error) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killWait)
	defer cancel()
	if err := e.cli.ContainerKill(kctx, id, "KILL"); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return container.WaitResponse{}, fmt.Errorf("container kill: %w", err)
	}
	select {
	case exit := <-waitCh:
		return exit, nil
	case err := <-waitErr:
		return container.WaitResponse{}, fmt.Errorf("container wait: %w", err)
	case <-kctx.Done():
		return container.WaitResponse{}, fmt.Errorf("container wait after kill: %w", kctx.Err())
	}
}

// remove force-removes the container with a fresh bounded context, so it
// also happens after ctx was cancelled. Not found counts as removed.
func (e *Engine) remove(ctx context.Context, id string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := e.removeContainer(rctx, id); err != nil {
		return fmt.Errorf("container remove %s: %w", shortID(id), err)
	}
	return nil
}

// create creates a container under a context a cancellation cannot cut
// short (bounded by cleanupTimeout): an engine may finish creating it
// after a cancelled client gave up, leaving a container nobody registered
// for removal. The caller's next call with ctx sees the cancellation.
func (e *Engine) create(ctx context.Context, cfg *container.Config, hc *container.HostConfig) (container.CreateResponse, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return e.cli.ContainerCreate(cctx, cfg, hc, nil, nil, "")
}

// removeContainer force-removes container id; one already gone is
// removed. When the engine is already removing it (a worker killed while
// its removal was under way leaves the engine finishing it), it waits,
// bounded by ctx, until the container is gone.
func (e *Engine) removeContainer(ctx context.Context, id string) error {
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if gone(err) {
		return nil
	}
	// The engine answers 409 with this text (matched as text too, in case
	// an engine version answers with another code).
	if msg := err.Error(); !strings.Contains(msg, "removal of container") || !strings.Contains(msg, "already in progress") {
		return err
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if _, ierr := e.cli.ContainerInspect(ctx, id); cerrdefs.IsNotFound(ierr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waited for it: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// limitsHit names the limits the run ran into, in a fixed order.
func limitsHit(res Result, outputFull, pids, disk bool) []string {
	var hit []string
	if res.TimedOut {
		hit = append(hit, "timeout")
	}
	if res.OOMKilled {
		hit = append(hit, "memory")
	}
	if outputFull && res.DroppedBytes > 0 {
		hit = append(hit, "output")
	}
	if pids {
		hit = append(hit, "pids")
	}
	if disk {
		hit = append(hit, "disk")
	}
	return hit
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
