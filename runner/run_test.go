package runner

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	cli := dockerClient(t)
	eng := New(cli)
	tests := []struct {
		name   string
		task   string
		limits func(*Limits)
		check  func(t *testing.T, s *sandbox, res Result, lines []string)
	}{
		{
			name: "success writes the work tree, no network, unprivileged",
			task: "# Title\nagentgate-test: write hello.txt hi\\n\nagentgate-test: summary all done\n" +
				"agentgate-test: id\nagentgate-test: probe-net\nagentgate-test: env\n",
			check: func(t *testing.T, s *sandbox, res Result, lines []string) {
				if res.ExitCode != 0 || len(res.LimitsHit) != 0 {
					t.Fatalf("exit %d limits %v output:\n%s", res.ExitCode, res.LimitsHit, res.Output)
				}
				if b, err := os.ReadFile(filepath.Join(s.tree, "hello.txt")); err != nil || string(b) != "hi\n" {
					t.Errorf("hello.txt = %q, %v", b, err)
				}
				if b, err := os.ReadFile(filepath.Join(s.out, "summary.md")); err != nil || string(b) != "all done\n" {
					t.Errorf("summary.md = %q, %v", b, err)
				}
				out := string(res.Output)
				for _, want := range []string{
					"id uid=65532 gid=65532 capeff=0000000000000000\n",
					"net interfaces=lo\n",
					"AGENTGATE_RUN_ID=" + s.spec.RunID + "\n",
					"AGENTGATE_TASK_FILE=/agentgate/task.md\n",
					"HOME=/tmp\n",
				} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
				if len(lines) == 0 || strings.Join(lines, "\n")+"\n" != out {
					t.Errorf("onLine lines do not add up to the output: %q", lines)
				}
				if res.StartedAt.IsZero() || res.FinishedAt.Before(res.StartedAt) {
					t.Errorf("times %v..%v", res.StartedAt, res.FinishedAt)
				}
			},
		},
		{
			name: "exit code reported",
			task: "agentgate-test: exit 3\n",
			check: func(t *testing.T, s *sandbox, res Result, _ []string) {
				if res.ExitCode != 3 || res.TimedOut || len(res.LimitsHit) != 0 {
					t.Fatalf("exit %d timedout %v limits %v", res.ExitCode, res.TimedOut, res.LimitsHit)
				}
			},
		},
		{
			name:   "timeout kills",
			task:   "agentgate-test: sleep forever\n",
			limits: func(l *Limits) { l.Timeout = 2 * time.Second },
			check: func(t *testing.T, s *sandbox, res Result, _ []string) {
				if !res.TimedOut || !hasLimit(res, "timeout") || res.ExitCode == 0 {
					t.Fatalf("timedout %v exit %d limits %v", res.TimedOut, res.ExitCode, res.LimitsHit)
				}
				if d := res.FinishedAt.Sub(res.StartedAt); d < 2*time.Second || d > 15*time.Second {
					t.Errorf("ran %v", d)
				}
			},
		},
		{
			name: "root filesystem is read-only",
			task: "agentgate-test: write /etc/agentgate owned\n",
			check: func(t *testing.T, s *sandbox, res Result, _ []string) {
				if res.ExitCode == 0 || !strings.Contains(string(res.Output), "read-only file system") {
					t.Fatalf("exit %d output:\n%s", res.ExitCode, res.Output)
				}
			},
		},
		{
			name: "tmp is bounded",
			task: "agentgate-test: filltmp\n",
			check: func(t *testing.T, s *sandbox, res Result, _ []string) {
				out := string(res.Output)
				if res.ExitCode == 0 || !strings.Contains(out, "no space left on device") || !strings.Contains(out, "wrote 8388608 bytes") {
					t.Fatalf("exit %d output:\n%s", res.ExitCode, out)
				}
			},
		},
		{
			name:   "fork bomb stopped by the pids limit",
			task:   "agentgate-test: forkbomb\n",
			limits: func(l *Limits) { l.Pids = 32 },
			check: func(t *testing.T, s *sandbox, res Result, _ []string) {
				// The refused fork reaches either the agent's own code
				// ("resource temporarily unavailable") or, when the Go
				// runtime of the agent needed a thread at that moment,
				// the runtime ("failed to create new OS thread", EAGAIN).
				out := string(res.Output)
				refused := strings.Contains(out, "resource temporarily unavailable") ||
					strings.Contains(out, "failed to create new OS thread") && strings.Contains(out, "errno=11")
				if res.ExitCode == 0 || res.TimedOut || !hasLimit(res, "pids") || !refused {
					t.Fatalf("exit %d timedout %v limits %v output:\n%s", res.ExitCode, res.TimedOut, res.LimitsHit, res.Output)
				}
			},
		},
		{
			name:   "memory balloon is OOM killed",
			task:   "agentgate-test: balloon 256M\n",
			limits: func(l *Limits) { l.MemoryBytes = 32 << 20 },
			check: func(t *testing.T, s *sandbox, res Result, _ []string) {
				if !res.OOMKilled || !hasLimit(res, "memory") || res.ExitCode == 0 {
					t.Fatalf("oom %v exit %d limits %v output:\n%s", res.OOMKilled, res.ExitCode, res.LimitsHit, res.Output)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, tt.task)
			if tt.limits != nil {
				tt.limits(&s.spec.Limits)
			}
			var lines []string
			res, err := eng.Run(context.Background(), s.spec, func(l string) { lines = append(lines, l) })
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			tt.check(t, s, res, lines)
			assertGone(t, cli, s.spec.RunID)
		})
	}
}

// TestRunOutputFlood floods 200 MiB: the output is capped, the rest counted,
// and the worker's heap stays flat.
func TestRunOutputFlood(t *testing.T) {
	cli := dockerClient(t)
	s := newSandbox(t, "agentgate-test: flood 200M\n")
	s.spec.Limits.OutputBytes = 1 << 20

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	calls := 0
	res, err := New(cli).Run(context.Background(), s.spec, func(string) { calls++ })
	close(stop)
	<-sampled
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 || len(res.Output) != 1<<20 || res.DroppedBytes <= 0 || !hasLimit(res, "output") {
		t.Fatalf("exit %d output %d dropped %d limits %v", res.ExitCode, len(res.Output), res.DroppedBytes, res.LimitsHit)
	}
	if res.OutputBytes < 200<<20 || res.OutputBytes > 200<<20+4096 {
		t.Errorf("OutputBytes %d, want about 200 MiB", res.OutputBytes)
	}
	if calls != 1<<10 { // 1 KiB lines: exactly the kept whole lines
		t.Errorf("onLine called %d times, want %d", calls, 1<<10)
	}
	if p := peak.Load(); p > base && p-base > 64<<20 {
		t.Errorf("heap grew by %d MiB during the flood", (p-base)>>20)
	}
	assertGone(t, cli, s.spec.RunID)
}

func TestRunMissingImage(t *testing.T) {
	cli := dockerClient(t)
	s := newSandbox(t, "")
	s.spec.Image = "agentgate/does-not-exist:dev"
	_, err := New(cli).Run(context.Background(), s.spec, nil)
	if err == nil || !strings.Contains(err.Error(), "agentgate/does-not-exist:dev") || !strings.Contains(err.Error(), "never pulled") {
		t.Fatalf("Run error = %v", err)
	}
	assertGone(t, cli, s.spec.RunID)
}

func TestRunContextCancelled(t *testing.T) {
	cli := dockerClient(t)
	s := newSandbox(t, "agentgate-test: sleep forever\n")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := New(cli).Run(ctx, s.spec, nil)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Run error = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("returned after %v", d)
	}
	assertGone(t, cli, s.spec.RunID)
}

// TestRunBoundedWorkspace runs the agent on a tmpfs work tree it overfills.
func TestRunBoundedWorkspace(t *testing.T) {
	cli := dockerClient(t)
	s := newSandbox(t, "agentgate-test: files 500 many\n")
	unmount, err := MountWorkspace(s.tree, 1<<20, 100)
	if err != nil {
		// Under CI the run is root and the bound is the product: a mount
		// that fails there is a failure, not a reason to skip.
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount a bounded workspace under CI=true: %v", err)
		}
		t.Skipf("cannot mount a bounded workspace here: %v", err)
	}
	defer func() {
		if err := unmount(); err != nil {
			t.Error(err)
		}
	}()
	if err := PrepareOwnership(s.tree, DefaultUser()); err != nil {
		t.Fatal(err)
	}
	res, err := New(cli).Run(context.Background(), s.spec, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode == 0 || !hasLimit(res, "disk") || !strings.Contains(string(res.Output), "no space left on device") {
		t.Fatalf("exit %d limits %v output:\n%s", res.ExitCode, res.LimitsHit, res.Output)
	}
	assertGone(t, cli, s.spec.RunID)
}
