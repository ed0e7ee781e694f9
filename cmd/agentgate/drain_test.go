package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrain sends SIGTERM to `agentgate serve` (the real binary, on
// Postgres) while an agent runs, as a deploy does. With the default drain
// (the longest job) the process waits for the run: it ends finished, the
// process exits cleanly, and nothing is left behind. With a drain shorter
// than the run (drain-timeout), the job is cancelled and cleanly handed
// back to the queue, with nothing left behind before the next start; the
// restarted worker finishes it exactly once.
func TestSIGTERMDrain(t *testing.T) {
	e := newCrashEnv(t)
	const write = "agentgate-test: write DRAIN.md drained"

	t.Run("the run finishes", func(t *testing.T) {
		e.t = t
		p := e.start()
		runID, branch := e.trigger("agentgate-test: sleep 6\n" + write)
		e.waitAgentRunning(2 * time.Minute)
		sent := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		e.waitExit(p, 3*time.Minute)
		if v, ok, err := e.db.Effect(context.Background(), runID, "run.done"); err != nil || !ok || v != "finished" {
			t.Errorf("after the drain the run is %q (%v, %v), want finished", v, ok, err)
		}
		t.Logf("drained in %s", time.Since(sent).Round(time.Millisecond))
		e.checkNoLeftovers()
		e.checkOutcome(runID, branch)
		if b, _ := os.ReadFile(p.log); !strings.Contains(string(b), "msg=drained") {
			t.Error("no drained line in the log")
		}
	})

	t.Run("a drain shorter than the run hands it back", func(t *testing.T) {
		e.t = t
		p := e.start("AGENTGATE_DRAIN_TIMEOUT=2s")
		runID, branch := e.trigger("agentgate-test: sleep 20\n" + write)
		e.waitAgentRunning(2 * time.Minute)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		e.waitExit(p, 2*time.Minute)
		if _, ok, _ := e.db.Effect(context.Background(), runID, "run.done"); ok {
			t.Fatal("the run finished inside a 2s drain: the test proves nothing")
		}
		var state string
		if err := e.db.SQL.QueryRowContext(context.Background(), `SELECT state FROM river_job WHERE args->>'run_id' = $1`, runID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "available" && state != "retryable" && state != "scheduled" {
			t.Errorf("job state %q after the drain: want it back in the queue", state)
		}
		// Before anything restarts: the cancelled run cleaned up.
		e.checkNoLeftovers()
		p2 := e.start()
		if state := e.waitDone(runID, 3*time.Minute); state != "finished" {
			t.Errorf("run ended %q, want finished", state)
		}
		e.stop(p2)
		e.checkOutcome(runID, branch)
		e.checkNoLeftovers()
	})
}

// waitExit waits for p to exit by itself after SIGTERM, with status 0.
func (e *crashEnv) waitExit(p *proc, within time.Duration) {
	e.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		_ = p.cmd.Process.Kill()
		<-p.done
		e.t.Fatalf("agentgate did not exit within %s of SIGTERM", within)
	}
	if p.err != nil {
		b, _ := os.ReadFile(p.log)
		e.t.Fatalf("agentgate exited with %v after SIGTERM, want 0\n%s", p.err, tail(string(b), 30))
	}
}
