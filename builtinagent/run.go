package builtinagent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// maxCommandOutput bounds what a command's output keeps in memory.
const maxCommandOutput = 1 << 20

// capped keeps the first max bytes written and counts the rest.
type capped struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room >= len(p) {
		c.buf.Write(p)
	} else {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += len(p) - max(room, 0)
	}
	return len(p), nil
}

// run runs command with sh -c in the workspace, in its own process group,
// killed as a group at the timeout. The model gets the exit code and the
// (bounded) combined output.
func (t *toolbox) run(ctx context.Context, command string, timeout time.Duration) string {
	if strings.TrimSpace(command) == "" {
		return "error: empty command"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = t.ws.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out := &capped{max: min(t.cfg.MaxToolOutput, maxCommandOutput)}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of the group
	}
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		if !timedOut {
			t.ev.emit(Event{Type: "command", Command: command, ExitCode: ptr(-1)})
			return "error: " + err.Error()
		}
	}
	if timedOut {
		code = -1
	}
	t.ev.emit(Event{Type: "command", Command: command, ExitCode: ptr(code), TimedOut: timedOut})
	var b strings.Builder
	if timedOut {
		fmt.Fprintf(&b, "timed out after %v (killed)\n", timeout)
	}
	fmt.Fprintf(&b, "exit code %d\n", code)
	b.Write(out.buf.Bytes())
	if out.dropped > 0 {
		fmt.Fprintf(&b, "\n[... %d more bytes of output dropped]\n", out.dropped)
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
