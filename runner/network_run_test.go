package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestRunNetworkPreflight: a misconfigured proxy that lets the denied probe
// host through, or no socket at all, keeps the agent from starting, and the
// error says why.
func TestRunNetworkPreflight(t *testing.T) {
	cli := relayClient(t)
	upstream := fmt.Sprintf("127.0.0.1:%d", hostListener(t))
	tests := []struct {
		name    string
		proxy   *standInProxy
		mut     func(*Spec)
		wantErr string
	}{
		{"proxy allows the probe host", &standInProxy{allowProbe: true}, nil,
			`answered "200 Connection established" to CONNECT preflight.agentgate.invalid:443`},
		{"no socket", nil, nil, "egress.sock is missing"},
		{"gateway socket missing", &standInProxy{}, func(s *Spec) { s.Network.Ports[4000] = "gateway.sock" }, "gateway.sock is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, "agentgate-test: write started.txt yes\n")
			if tt.proxy != nil {
				tt.proxy.upstream = upstream
			}
			withNetwork(t, s, tt.proxy)
			if tt.mut != nil {
				tt.mut(&s.spec)
			}
			_, err := New(cli).Run(context.Background(), s.spec, nil)
			if !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), "network pre-flight failed, the run does not start") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run error = %v, want pre-flight failure with %q", err, tt.wantErr)
			}
			if _, err := os.Lstat(filepath.Join(s.tree, "started.txt")); err == nil {
				t.Error("the agent ran although the pre-flight failed")
			}
			assertGone(t, cli, s.spec.RunID)
		})
	}
}

// TestRunNetworkCleanup: relay and agent are gone after success, agent
// failure, timeout and a cancelled context.
func TestRunNetworkCleanup(t *testing.T) {
	cli := relayClient(t)
	tests := []struct {
		name    string
		task    string
		timeout time.Duration // agent limit
		cancel  time.Duration // ctx deadline; 0 = none
		check   func(t *testing.T, res Result, err error)
	}{
		{"success", "agentgate-test: exit 0\n", 0, 0, func(t *testing.T, res Result, err error) {
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exit %d, %v", res.ExitCode, err)
			}
		}},
		{"failure", "agentgate-test: exit 3\n", 0, 0, func(t *testing.T, res Result, err error) {
			if err != nil || res.ExitCode != 3 {
				t.Fatalf("exit %d, %v", res.ExitCode, err)
			}
		}},
		{"timeout", "agentgate-test: sleep forever\n", 2 * time.Second, 0, func(t *testing.T, res Result, err error) {
			if err != nil || !res.TimedOut {
				t.Fatalf("timed out %v, %v", res.TimedOut, err)
			}
		}},
		{"cancel", "agentgate-test: sleep forever\n", 0, 4 * time.Second, func(t *testing.T, res Result, err error) {
			if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
				t.Fatalf("Run error = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, tt.task)
			withNetwork(t, s, &standInProxy{})
			if tt.timeout > 0 {
				s.spec.Limits.Timeout = tt.timeout
			}
			ctx := context.Background()
			if tt.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.cancel)
				defer cancel()
			}
			res, err := New(cli).Run(ctx, s.spec, nil)
			tt.check(t, res, err)
			assertGone(t, cli, s.spec.RunID)
		})
	}
}

// TestSweepRemovesRelay: a relay left by a crashed worker is swept with the
// worker's other containers, and another worker's relay is not touched.
func TestSweepRemovesRelay(t *testing.T) {
	cli := relayClient(t)
	ctx := context.Background()
	mine, theirs := newSandbox(t, ""), newSandbox(t, "")
	theirs.spec.WorkerID += "-other"
	for _, s := range []*sandbox{mine, theirs} {
		withNetwork(t, s, &standInProxy{})
		id, detach, err := New(cli).startRelay(ctx, s.spec) // left running, as after a crash
		if err != nil {
			t.Fatalf("startRelay: %v", err)
		}
		detach()
		t.Cleanup(func() { New(cli).remove(context.Background(), id) })
	}
	n, err := New(cli).Sweep(ctx, mine.spec.WorkerID)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	assertGone(t, cli, mine.spec.RunID)
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+theirs.spec.RunID))})
	if err != nil || len(cs) != 1 || cs[0].Labels[LabelRole] != "relay" {
		t.Fatalf("the other worker's relay: %d container(s), %v", len(cs), err)
	}
	if _, err := New(cli).Sweep(ctx, theirs.spec.WorkerID); err != nil {
		t.Fatal(err)
	}
}

// TestRunThenCleanup: the agent has exited when RunThenCleanup returns,
// its work is in the tree, and its container and the relay are still
// there until cleanup, which removes both, also after a failed
// pre-flight.
func TestRunThenCleanup(t *testing.T) {
	cli := relayClient(t)
	upstream := fmt.Sprintf("127.0.0.1:%d", hostListener(t))
	count := func(runID string) (all, running int) {
		t.Helper()
		cs, err := cli.ContainerList(context.Background(), container.ListOptions{
			All: true, Filters: filters.NewArgs(filters.Arg("label", LabelRun+"="+runID)),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.State == "running" {
				running++
			}
		}
		return len(cs), running
	}
	tests := []struct {
		name      string
		proxy     *standInProxy
		preflight bool // the pre-flight fails
	}{
		{"agent ran", &standInProxy{}, false},
		{"pre-flight failed", &standInProxy{allowProbe: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, "agentgate-test: write done.txt yes\n")
			tt.proxy.upstream = upstream
			withNetwork(t, s, tt.proxy)
			res, cleanup, err := New(cli).RunThenCleanup(context.Background(), s.spec, nil)
			if tt.preflight != errors.Is(err, ErrPreflight) {
				t.Fatalf("RunThenCleanup error = %v, pre-flight failure wanted: %v", err, tt.preflight)
			}
			all, running := count(s.spec.RunID)
			if !tt.preflight {
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("exit %d, %v", res.ExitCode, err)
				}
				if b, err := os.ReadFile(filepath.Join(s.tree, "done.txt")); err != nil || string(b) != "yes" {
					t.Fatalf("the agent's file: %q, %v", b, err)
				}
				// The agent exited; the relay still runs, until cleanup.
				if all != 2 || running != 1 {
					t.Fatalf("before cleanup: %d containers, %d running; want the exited agent and the relay", all, running)
				}
			} else if all != 2 {
				t.Fatalf("before cleanup: %d containers; want the agent (never started) and the relay", all)
			}
			if err := cleanup(); err != nil {
				t.Fatalf("cleanup: %v", err)
			}
			assertGone(t, cli, s.spec.RunID)
		})
	}
}

// lateCreateClient models a cancellation that lands while a container is
// being created: the run's context is cancelled, the engine still creates
// the container, and a client whose context is done answers with the
// context's error (the container's id lost to the caller).
type lateCreateClient struct {
	client.APIClient
	cancel context.CancelFunc
	at     int // the ContainerCreate call (1-based) the cancellation lands on
	calls  int
}

func (c *lateCreateClient) ContainerCreate(ctx context.Context, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig, p *ocispec.Platform, name string) (container.CreateResponse, error) {
	c.calls++
	if c.calls == c.at {
		c.cancel()
	}
	resp, err := c.APIClient.ContainerCreate(context.WithoutCancel(ctx), cfg, hc, nc, p, name)
	if err == nil && ctx.Err() != nil {
		return container.CreateResponse{}, ctx.Err()
	}
	return resp, err
}

// TestRunCancelledWhileCreating: a run cancelled while its relay's or its
// agent's container is being created leaves no container behind.
func TestRunCancelledWhileCreating(t *testing.T) {
	cli := relayClient(t)
	for _, at := range []int{1, 2} { // 1: the relay, 2: the agent
		t.Run(fmt.Sprintf("create %d", at), func(t *testing.T) {
			s := newSandbox(t, "agentgate-test: sleep forever\n")
			withNetwork(t, s, &standInProxy{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			late := &lateCreateClient{APIClient: cli, cancel: cancel, at: at}
			_, err := New(late).Run(ctx, s.spec, nil)
			if err == nil {
				t.Fatal("Run succeeded although its context was cancelled")
			}
			if late.calls < at {
				t.Fatalf("%d ContainerCreate calls, want at least %d", late.calls, at)
			}
			assertGone(t, cli, s.spec.RunID)
		})
	}
}
