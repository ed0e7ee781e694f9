package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/agentevents"
)

// cleanups is a stack of cleanup steps, run last registered first, as
// defers would, with their errors joined, not swallowed (the shape of
// runner.Engine.RunThenCleanup). Only the first run runs the steps.
type cleanups struct {
	mu    sync.Mutex
	steps []func() error
}

// push registers a step.
func (c *cleanups) push(step func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, step)
}

// run runs the steps registered so far, last first, and forgets them.
func (c *cleanups) run() error {
	c.mu.Lock()
	steps := c.steps
	c.steps = nil
	c.mu.Unlock()
	var errs []error
	for i := len(steps) - 1; i >= 0; i-- {
		errs = append(errs, steps[i]())
	}
	return errors.Join(errs...)
}

// stage is one named step of Execute. A stage that ends the attempt (the
// agent failed, the change breaks the policy, ...) sets the attempt's
// Outcome; an error is agentgate's own failure.
type stage struct {
	name string
	run  func(ctx context.Context) error
}

// execution is one Execute in progress: the task, the policy in force and
// what each stage hands the next.
type execution struct {
	s   *Sandbox
	t   Task
	pol *RunPolicy
	att *Attempt
	// done holds what lives only as long as Execute (the run's network,
	// the agent's context); att.cleanup what the attempt holds until it
	// is closed.
	done cleanups

	dir      string // the run directory
	agentDir string // dir/agent: the task file, the out directory, canaries
	outDir   string // what the agent writes for agentgate (summary.md)
	user     string // the sandbox user
	ws       *gitops.Workspace
	spec     runner.Spec // the agent's sandbox, filled in stage by stage

	// agentCtx is the agent sandbox's context; stopAgent ends it when a
	// request carries one of the run's secrets (recorded in exfil).
	agentCtx   context.Context
	stopAgent  context.CancelFunc
	exfil      atomic.Pointer[map[string]any]
	gatewayEnv []string  // the gateway's environment for the agent
	planted    *canaries // canary files and variables (relayed network only)

	agent    agents.Preset
	baseline *gitops.Baseline // what setup and agentgate did before the agent
}

// newExecution starts an execution of t: the policy in force (the
// operator's configuration when t has none) and the agent's context.
func (s *Sandbox) newExecution(ctx context.Context, t Task) *execution {
	pol := t.Policy
	if pol == nil {
		pol = &RunPolicy{Limits: s.Limits, WorkspaceBytes: s.WorkspaceBytes, Network: s.Network}
	}
	x := &execution{s: s, t: t, pol: pol, att: &Attempt{}, dir: s.runDir(t.RunID)}
	x.agentDir = filepath.Join(x.dir, "agent")
	x.outDir = filepath.Join(x.agentDir, "out")
	x.agentCtx, x.stopAgent = context.WithCancel(ctx)
	x.done.push(func() error { x.stopAgent(); return nil })
	return x
}

// stages are Execute's steps, in order.
func (x *execution) stages() []stage {
	return []stage{
		{"prepare", x.prepare}, // the run directory, bounded
		{"clone", x.clone},     // the work tree and the agent's files
		{"network", x.network}, // the relayed network, its canaries and tripwire
		{"setup", x.setup},     // the agent's preset, the setup phase, the baseline
		{"agent", x.runAgent},  // the agent in its sandbox, and how it ended
		{"harvest", x.harvest}, // the agent's change, checked as files
		{"judge", x.judge},     // the change against the repository's policy
	}
}

// prepare makes the run directory, from scratch (a retried attempt's
// leftovers are removed first), and bounds it.
func (x *execution) prepare(context.Context) error {
	if err := removeRunDir(x.dir); err != nil {
		return fmt.Errorf("clean run directory: %w", err)
	}
	if err := os.MkdirAll(x.dir, 0o700); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	x.att.cleanup.push(func() error { return removeRunDir(x.dir) })
	if x.s.Unbounded {
		return nil
	}
	unmount, err := runner.MountWorkspace(x.dir, x.pol.WorkspaceBytes, x.s.WorkspaceInodes)
	if err != nil {
		return fmt.Errorf("bounded workspace: %w", err)
	}
	x.att.cleanup.push(unmount)
	return nil
}

// clone materialises the work tree with its throwaway .git, then lays out
// the agent's files beside it (task file, out directory) and the sandbox
// spec they make.
func (x *execution) clone(ctx context.Context) error {
	t, att := x.t, x.att
	started := time.Now()
	cctx, endClone := t.phase(ctx, telemetry.PhaseClone)
	ws, err := x.s.clone(cctx, gitops.CloneOptions{
		URL: t.CloneURL, Branch: t.Branch, Token: t.Token, Root: x.dir,
		MaxTreeBytes: x.pol.WorkspaceBytes, MaxTreeEntries: x.s.WorkspaceInodes,
	})
	if errors.Is(err, gitops.ErrTreeTooLarge) {
		// A git bomb, or a repository too large for the work tree:
		// measured before anything was written, reported, not retried.
		endClone(err)
		att.Outcome, att.Reason = OutcomeRejected, "the repository's tree does not fit the run's work tree: "+err.Error()
		return nil
	}
	if err != nil {
		endClone(err)
		return fmt.Errorf("clone: %w", err)
	}
	x.ws, att.Workspace = ws, ws
	// The work tree may be an overlay mount: it goes before the run
	// directory does.
	att.cleanup.push(ws.Close)
	err = ws.PrepareSandbox(cctx)
	endClone(err)
	if err != nil {
		return fmt.Errorf("prepare work tree: %w", err)
	}
	if err := x.s.event(ctx, t.RunID, telemetry.KindWorkspaceReady, "agentgate", map[string]any{
		"branch": ws.Branch, "base_commit": ws.BaseCommit, "duration_ms": time.Since(started).Milliseconds(),
	}); err != nil {
		return err
	}

	if err := os.MkdirAll(x.outDir, 0o755); err != nil {
		return fmt.Errorf("out directory: %w", err)
	}
	taskFile := filepath.Join(x.agentDir, "task.md")
	if err := os.WriteFile(taskFile, []byte(t.Text), 0o444); err != nil {
		return fmt.Errorf("task file: %w", err)
	}
	x.user = runner.DefaultUser()
	for _, p := range []string{ws.WorkTree, x.outDir} {
		if err := runner.PrepareOwnership(p, x.user); err != nil {
			return fmt.Errorf("work tree ownership: %w", err)
		}
	}
	x.spec = runner.Spec{
		RunID: t.RunID, WorkerID: x.s.WorkerID,
		Runtime: x.s.Runtime, User: x.user,
		WorkTree: ws.WorkTree, TaskFile: taskFile, OutDir: x.outDir,
		Limits: x.pol.Limits,
	}
	return nil
}

// network starts the run's relayed network (when the policy has one),
// with canaries planted for the agent and a tripwire: a request that
// carries one of the run's secrets stops the agent's sandbox.
func (x *execution) network(ctx context.Context) error {
	if x.pol.Network.Mode != "relay" {
		return nil
	}
	s, t := x.s, x.t
	planted, err := plantCanaries(x.agentDir, t.CanarySeed)
	if err != nil {
		return err
	}
	x.planted = planted
	net, err := s.startNetwork(ctx, t.RunID, x.pol.Network, netOptions{
		secrets: secretforms.NewScanner(s.phaseSecrets(t.Token, planted.secrets, nil)...),
		onExfil: func(attrs map[string]any) {
			x.exfil.CompareAndSwap(nil, &attrs)
			x.stopAgent()
		},
	})
	if err != nil {
		return err
	}
	x.done.push(func() error {
		if cerr := net.Close(); cerr != nil {
			s.logger().Warn("run network close", "run_id", t.RunID, "err", cerr)
		}
		return nil
	})
	x.spec.CAFile, x.spec.Network, x.gatewayEnv = net.caFile, net.spec, net.env
	return nil
}

// setup resolves the agent (the configuration's pick, else the
// operator's), runs the repository's setup phase when the policy has one,
// and takes the baseline the agent's change is harvested against.
func (x *execution) setup(ctx context.Context) error {
	agentFn := x.s.Agent
	if x.pol.Agent != nil {
		agentFn = x.pol.Agent // the configuration's pick
	}
	agent, err := agentFn(x.gatewayEnv)
	if err != nil {
		x.att.Outcome, x.att.Reason = OutcomeSandboxError, err.Error()
		return nil
	}
	x.agent = agent
	if x.pol.Setup != nil {
		if stop, err := x.s.setupPhase(ctx, x.t, x.ws, x.pol, x.spec, agent.Image, x.planted, x.att); err != nil || stop {
			return err // a stop is in x.att
		}
	}
	x.baseline, err = x.s.beforeAgent(ctx, x.t, x.ws, agent.Name, x.pol.Setup != nil, x.user)
	return err
}

// runAgent runs the agent in its sandbox, its JSON lines becoming events,
// and judges how it ended (agentExited). The engine removes the exited
// agent's container and the relay while the change is harvested and
// pushed; the attempt's Close waits for it.
func (x *execution) runAgent(ctx context.Context) error {
	s, t, pol := x.s, x.t, x.pol
	agent := x.agent
	x.spec.Image, x.spec.Cmd, x.spec.Env = agent.Image, agent.Cmd, withoutRunnerEnv(agent.Env)
	x.addCanaries()
	imageDigest := ""
	if s.Engine != nil {
		d, derr := s.Engine.ImageDigest(ctx, agent.Image)
		if derr != nil {
			s.logger().Warn("agent image digest", "run_id", t.RunID, "err", derr)
		}
		imageDigest = d
	}
	startedAttrs := map[string]any{
		"agent": agent.Name, "image": agent.Image, "runtime": runtimeName(s.Runtime), "timeout": pol.Limits.Timeout.String(),
		"network": pol.Network.Mode, "allow": strings.Join(pol.Network.Allow, " "),
		"image_digest": imageDigest, "policy_sha256": pol.Digest(),
	}
	s.agentVersion(ctx, t.RunID, agent, startedAttrs)
	if err := s.event(ctx, t.RunID, telemetry.KindSandboxStarted, "agentgate", startedAttrs); err != nil {
		return err
	}
	// Agent-native events: JSON lines the agent prints become events.
	parser := agentevents.NewParser(agent.Events)
	emit := func(evs []telemetry.Event) {
		for _, ev := range evs {
			ev.RunID = t.RunID
			if _, err := s.Events.Append(context.WithoutCancel(ctx), ev); err != nil {
				s.logger().Warn("audit agent event", "run_id", t.RunID, "err", err)
			}
		}
	}
	sctx, endSandbox := t.phase(x.agentCtx, telemetry.PhaseSandbox)
	res, cleanup, err := s.Engine.RunThenCleanup(sctx, x.spec, func(line string) { emit(parser.Line(line)) })
	cleaned := make(chan error, 1)
	go func() { cleaned <- cleanup() }()
	x.att.cleanup.push(func() error {
		if e := <-cleaned; e != nil {
			return fmt.Errorf("sandbox cleanup: %w", e)
		}
		return nil
	})
	emit(parser.Flush())
	endSandbox(err)
	return x.agentExited(ctx, res, err)
}

// addCanaries gives the agent's sandbox the planted canary files and
// variables: a variable not where the agent's own goes, nor under the
// name of a setup secret (which the agent must not learn exists).
func (x *execution) addCanaries() {
	if x.planted == nil {
		return
	}
	x.spec.Files = x.planted.files
	for _, kv := range x.planted.env {
		k, _, _ := strings.Cut(kv, "=")
		if slices.ContainsFunc(x.spec.Env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) ||
			(x.pol.Setup != nil && slices.Contains(x.pol.Setup.SecretNames, k)) {
			continue
		}
		x.spec.CanaryEnv = append(x.spec.CanaryEnv, kv)
	}
}

// agentExited records how the agent's sandbox ended (res, or the
// engine's err) and ends the attempt unless the agent exited 0 with a
// change to harvest.
func (x *execution) agentExited(ctx context.Context, res runner.Result, err error) error {
	s, t, att := x.s, x.t, x.att
	if e := x.exfil.Load(); e != nil {
		// Stopped by agentgate: whatever the engine says of the stop, the
		// run ends here, not retried.
		attrs := map[string]any{"stopped": "secret in a request"}
		if err == nil {
			att.Result = res
			attrs["exit_code"], attrs["duration_ms"] = res.ExitCode, res.FinishedAt.Sub(res.StartedAt).Milliseconds()
			attrs["output_bytes"], attrs["output_tail"] = res.OutputBytes, Tail(string(res.Output), 4000)
		} else {
			attrs["error"] = err.Error()
		}
		_ = s.event(context.WithoutCancel(ctx), t.RunID, telemetry.KindSandboxExited, "agent", attrs)
		att.Outcome, att.Reason = OutcomeExfiltration, exfiltrationReason(*e)
		return nil
	}
	if errors.Is(err, runner.ErrPreflight) || errors.Is(err, runner.ErrInvalidSpec) {
		// The sandbox's network was not as it must be: the agent never
		// started. Reported, not retried.
		att.Outcome, att.Reason = OutcomeSandboxError, err.Error()
		return nil
	}
	if err != nil {
		// The sandbox itself failed (no image, engine down): worth a retry
		// only when the context is still alive.
		_ = s.event(context.WithoutCancel(ctx), t.RunID, telemetry.KindRunFailed, "agentgate", map[string]any{"outcome": string(OutcomeSandboxError), "reason": err.Error()})
		return fmt.Errorf("sandbox: %w", err)
	}
	att.Result = res
	if err := s.event(ctx, t.RunID, telemetry.KindSandboxExited, "agent", map[string]any{
		"exit_code": res.ExitCode, "timed_out": res.TimedOut, "oom_killed": res.OOMKilled,
		"duration_ms":  res.FinishedAt.Sub(res.StartedAt).Milliseconds(),
		"started_at":   res.StartedAt.UTC().Format(time.RFC3339Nano),
		"finished_at":  res.FinishedAt.UTC().Format(time.RFC3339Nano),
		"output_bytes": res.OutputBytes, "dropped_bytes": res.DroppedBytes,
		"output_tail": Tail(string(res.Output), 4000),
	}); err != nil {
		return err
	}
	for _, l := range res.LimitsHit {
		if err := s.event(ctx, t.RunID, telemetry.KindLimitHit, "agentgate", map[string]any{"limit": l}); err != nil {
			return err
		}
	}
	att.AgentSummary = readAgentSummary(x.outDir)
	switch {
	case res.TimedOut:
		att.Outcome, att.Reason = OutcomeTimedOut, fmt.Sprintf("the agent ran past its %s limit and was stopped", x.pol.Limits.Timeout)
	case res.ExitCode != 0:
		att.Outcome, att.Reason = OutcomeFailed, agentFailureReason(res)
	case t.PlanOnly:
		att.Outcome = OutcomePlanned
	}
	return nil
}

// harvest takes the agent's change from the work tree (against the
// baseline): files too large, badly named and the like end the attempt,
// as the agent's doing, not retried.
func (x *execution) harvest(ctx context.Context) error {
	s, t, att := x.s, x.t, x.att
	hctx, endHarvest := t.phase(ctx, telemetry.PhaseHarvest)
	hopts := s.Harvest
	hopts.Baseline = x.baseline // what setup and agentgate did is not the agent's change
	ch, err := x.ws.Harvest(hctx, hopts)
	endHarvest(nil)
	switch {
	case errors.Is(err, gitops.ErrNoChange):
		att.Outcome, att.Reason = OutcomeNoChange, "the agent finished without changing any file"
		return nil
	case err != nil:
		// The error names the agent's files, so the reason (markdown in
		// the progress comment) shows it as code.
		att.Outcome, att.Reason = OutcomeRejected, telemetry.CodeText(err.Error())
		_ = s.event(ctx, t.RunID, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": err.Error()})
		return nil
	}
	att.Change = ch
	for _, f := range ch.Files {
		if err := s.event(ctx, t.RunID, telemetry.KindFileChanged, "agent", map[string]any{
			"path": f.Path, "op": f.Op, "added": f.Added, "removed": f.Removed, "binary": f.Binary, "size": f.Size, "mode": f.Mode,
		}); err != nil {
			return err
		}
	}
	for _, fl := range ch.Flags {
		if err := s.event(ctx, t.RunID, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": fl}); err != nil {
			return err
		}
	}
	return nil
}

// judge holds the harvested change against the repository's policy: a
// violation rejects it; protected paths it touches are noted for the
// push (workflows are never pushed, the others need an approval).
func (x *execution) judge(ctx context.Context) error {
	att := x.att
	changed := make([]ChangedFile, len(att.Change.Files))
	for i, f := range att.Change.Files {
		changed[i] = ChangedFile{Path: f.Path, Added: f.Added, Removed: f.Removed, Binary: f.Binary, Symlink: f.Symlink}
	}
	if v := x.pol.Violations(changed); len(v) > 0 {
		for _, reason := range v {
			if err := x.s.event(ctx, x.t.RunID, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": reason}); err != nil {
				return err
			}
		}
		att.Outcome, att.Reason = OutcomeRejected, "the change breaks the repository's policy: "+strings.Join(v, "; ")+"\n\nChanged files:\n"+FileList(changed)
		return nil
	}
	att.Workflows, att.Protected = x.pol.ProtectedChanges(changed)
	att.Outcome = OutcomeSucceeded
	return nil
}
