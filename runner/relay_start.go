package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/agentgate/agentgate/runner/relay"
)

// relayLogLines caps how many of the relay's stderr lines reach the
// worker's log per run; the rest are counted.
const relayLogLines = 50

// startRelay creates and starts the run's relay container and waits,
// bounded by RelayReadyTimeout, for its pre-flight status. It returns the
// relay's id whenever a container was created, also with an error, so the
// caller removes it; a relay that is not ready is an error saying why. The
// relay's output keeps being drained until the container is removed or
// detach (never nil) is called.
func (e *Engine) startRelay(ctx context.Context, spec Spec) (id string, detach func(), err error) {
	detach = func() {}
	id, err = e.createRelay(ctx, spec)
	if err != nil {
		return id, detach, err
	}
	err = e.startCreatedRelay(ctx, spec, id, &detach)
	return id, detach, err
}

// createRelay creates the run's relay container, not started: the agent's
// container can be created, joined to its network namespace, meanwhile.
func (e *Engine) createRelay(ctx context.Context, spec Spec) (string, error) {
	cfg, hc, err := ConvertRelay(spec)
	if err != nil {
		return "", err
	}
	created, err := e.create(ctx, cfg, hc)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("relay create: image %s is not on this engine and is never pulled; build it locally first (agentgate images): %w", cfg.Image, err)
		}
		return "", fmt.Errorf("relay create: %w", err)
	}
	return created.ID, nil
}

// startCreatedRelay attaches to and starts the relay id and waits for its
// pre-flight status (see startRelay); it sets *detach once attached.
func (e *Engine) startCreatedRelay(ctx context.Context, spec Spec, id string, detach *func()) error {
	log := slog.With("run", spec.RunID, "relay", shortID(id))

	hj, err := e.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return fmt.Errorf("relay attach: %w", err)
	}
	*detach = hj.Close
	stdoutR, stdoutW := io.Pipe()
	stderr := &relayStderr{log: log}
	go func() {
		// Ends when the relay container is removed.
		_, err := stdcopy.StdCopy(stdoutW, stderr, hj.Reader)
		stdoutW.CloseWithError(errors.Join(err, io.EOF))
		hj.Close()
	}()
	statusCh := make(chan relay.Status, 1)
	go func() {
		sc := bufio.NewScanner(stdoutR)
		sc.Buffer(make([]byte, 4096), 64<<10)
		sent := false
		for sc.Scan() {
			if st, err := relay.ParseStatus(sc.Text()); err == nil && !sent {
				statusCh <- st
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdoutR) // keep draining past a too-long line
	}()

	waitCtx, cancelWait := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWait()
	waitCh, waitErr := e.cli.ContainerWait(waitCtx, id, container.WaitConditionNextExit)
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("relay start: %w", err)
	}
	timer := time.NewTimer(RelayReadyTimeout)
	defer timer.Stop()
	select {
	case st := <-statusCh:
		if !st.Ready {
			return fmt.Errorf("%w: %s", ErrPreflight, st.Reason)
		}
		log.InfoContext(ctx, "relay ready")
		return nil
	case exit := <-waitCh:
		// The status line may have raced the exit.
		select {
		case st := <-statusCh:
			if !st.Ready {
				return fmt.Errorf("%w: %s", ErrPreflight, st.Reason)
			}
		case <-time.After(time.Second):
		}
		return fmt.Errorf("%w: relay exited with code %d before it was ready: %s", ErrPreflight, exit.StatusCode, stderr.tail())
	case werr := <-waitErr:
		return fmt.Errorf("relay wait: %w", werr)
	case <-timer.C:
		return fmt.Errorf("%w: relay not ready within %v: %s", ErrPreflight, RelayReadyTimeout, stderr.tail())
	case <-ctx.Done():
		return fmt.Errorf("relay start: %w", ctx.Err())
	}
}

// relayStderr logs the relay's stderr lines (a bounded number) and keeps
// the last few for error messages.
type relayStderr struct {
	log *slog.Logger

	mu      sync.Mutex
	partial []byte
	last    []string
	logged  int
	dropped int
}

func (r *relayStderr) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := strings.IndexByte(string(r.partial), '\n')
		if i < 0 {
			if len(r.partial) > 4096 { // an endless line: keep its start
				r.line(string(r.partial[:4096]))
				r.partial = r.partial[:0]
			}
			return len(p), nil
		}
		r.line(string(r.partial[:i]))
		r.partial = r.partial[i+1:]
	}
}

// line records one stderr line.
func (r *relayStderr) line(l string) {
	if len(l) > 512 {
		l = l[:512]
	}
	l = string(mask([]byte(l)))
	r.last = append(r.last, l)
	if len(r.last) > 5 {
		r.last = r.last[1:]
	}
	if r.logged < relayLogLines {
		r.logged++
		r.log.Warn("relay says", "line", l)
		return
	}
	r.dropped++
}

// tail is the last lines of the relay's stderr, for an error message.
func (r *relayStderr) tail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.last) == 0 {
		return "(no output)"
	}
	return strings.Join(r.last, " | ")
}
