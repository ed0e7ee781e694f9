package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/agentevents"
)

// Sandbox is the host side of one run: workspace, agent container and
// harvest. It knows nothing about GitHub; the GitHub worker and
// `agentgate run` both use it.
type Sandbox struct {
	Engine   *runner.Engine
	Events   telemetry.Recorder
	DataDir  string // run directories live in DataDir/runs/<worker>/<run>
	WorkerID string

	// Agent resolves the agent (image, command, environment, event
	// format) given the gateway's environment for the run.
	Agent   func(gatewayEnv []string) (agents.Preset, error)
	Runtime string
	Limits  runner.Limits

	WorkspaceBytes  int64
	WorkspaceInodes int64
	Harvest         gitops.HarvestOptions
	// Mirrors, when set, is the per-repository mirror cache the work tree
	// is materialised from; nil clones each run afresh.
	Mirrors *gitops.Mirrors
	// Network is the relayed network; Mode "none" runs the agent without any.
	Network NetworkConfig
	// Unbounded skips the tmpfs mount of the work tree (for machines
	// without CAP_SYS_ADMIN, e.g. a developer laptop running `agentgate
	// run`); the serve path never sets it.
	Unbounded bool
	Logger    *slog.Logger
	// Credentials are the operator's egress credentials (by name), which
	// the proxy adds for inspected hosts; KnownSecrets are every real
	// secret the worker holds, refused in what a run sends out.
	Credentials  map[string]string
	KnownSecrets []secretforms.Secret
}

// Task is what one sandboxed run works on.
type Task struct {
	RunID    string
	CloneURL string
	Branch   string
	Token    string // read-only clone token; may be empty
	Text     string // the task file's content
	Actor    string // who asked, for events
	// Policy narrows the sandbox's limits and network and judges the
	// change; nil means the operator's configuration as it is.
	Policy *RunPolicy
	// Phase, when set, opens a trace span for each phase (clone,
	// sandbox, harvest) and returns the function that ends it.
	Phase func(ctx context.Context, name string) (context.Context, func(error))

	// DefaultBranch is the repository's default branch; when set and not
	// Branch (a follow-up on the agent's branch), the instruction files
	// (AGENTS.md and the preset's own) are taken from it before the agent
	// starts.
	DefaultBranch string
	// PlanOnly runs the agent for a plan (mode: plan): its summary is
	// read and its work tree thrown away, nothing is harvested.
	PlanOnly bool
}

// phase opens a span through t.Phase, or nothing.
func (t Task) phase(ctx context.Context, name string) (context.Context, func(error)) {
	if t.Phase == nil {
		return ctx, func(error) {}
	}
	return t.Phase(ctx, name)
}

// Attempt is the result of Sandbox.Execute. When Outcome is
// journal.Succeeded, Workspace and Change hold the harvested change ready to
// commit; Close releases the run directory in every case.
type Attempt struct {
	Outcome      journal.Outcome
	Reason       string
	Result       runner.Result
	Workspace    *gitops.Workspace
	Change       *gitops.Change
	AgentSummary string // /agentgate/out/summary.md, bounded; untrusted text
	// Workflows and Protected are the protected paths the change touches:
	// workflow files are never pushed, the others need an approval.
	Workflows, Protected []string
	close                func() error
}

// Close removes the run directory (and unmounts it).
func (a *Attempt) Close() error {
	if a == nil || a.close == nil {
		return nil
	}
	return a.close()
}

// runDir is the directory of one run of this worker.
func (s *Sandbox) runDir(runID string) string {
	return filepath.Join(s.DataDir, "runs", safeName(s.WorkerID), safeName(runID))
}

// safeName keeps ids usable as one path element.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "_"
	}
	return out
}

func (s *Sandbox) event(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
	return telemetry.Record(ctx, s.Events, runID, kind, actor, attrs)
}

// Execute clones, runs the agent and harvests its change. An error means
// agentgate itself failed (worth a retry); an agent that fails is an
// Attempt with that outcome.
func (s *Sandbox) Execute(ctx context.Context, t Task) (_ *Attempt, err error) {
	pol := t.Policy
	if pol == nil {
		pol = &RunPolicy{Limits: s.Limits, WorkspaceBytes: s.WorkspaceBytes, Network: s.Network}
	}
	dir := s.runDir(t.RunID)
	// A retried attempt starts from scratch: whatever an earlier attempt
	// left is removed first.
	if err := removeRunDir(dir); err != nil {
		return nil, fmt.Errorf("clean run directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	att := &Attempt{close: func() error { return removeRunDir(dir) }}
	defer func() {
		if err != nil {
			_ = att.Close()
		}
	}()
	if !s.Unbounded {
		unmount, err := runner.MountWorkspace(dir, pol.WorkspaceBytes, s.WorkspaceInodes)
		if err != nil {
			return nil, fmt.Errorf("bounded workspace: %w", err)
		}
		att.close = func() error { return errors.Join(unmount(), removeRunDir(dir)) }
	}

	started := time.Now()
	cctx, endClone := t.phase(ctx, telemetry.PhaseClone)
	ws, err := s.clone(cctx, gitops.CloneOptions{
		URL: t.CloneURL, Branch: t.Branch, Token: t.Token, Root: dir,
		MaxTreeBytes: pol.WorkspaceBytes, MaxTreeEntries: s.WorkspaceInodes,
	})
	if errors.Is(err, gitops.ErrTreeTooLarge) {
		// A git bomb, or a repository too large for the work tree:
		// measured before anything was written, reported, not retried.
		endClone(err)
		att.Outcome, att.Reason = journal.Rejected, "the repository's tree does not fit the run's work tree: "+err.Error()
		return att, nil
	}
	if err != nil {
		endClone(err)
		return nil, fmt.Errorf("clone: %w", err)
	}
	att.Workspace = ws
	// The work tree may be an overlay mount: it goes before the run
	// directory does.
	removeDir := att.close
	att.close = func() error { return errors.Join(ws.Close(), removeDir()) }
	err = ws.PrepareSandbox(cctx)
	endClone(err)
	if err != nil {
		return nil, fmt.Errorf("prepare work tree: %w", err)
	}
	if err := s.event(ctx, t.RunID, telemetry.KindWorkspaceReady, "agentgate", map[string]any{
		"branch": ws.Branch, "base_commit": ws.BaseCommit, "duration_ms": time.Since(started).Milliseconds(),
	}); err != nil {
		return nil, err
	}

	agentDir := filepath.Join(dir, "agent")
	outDir := filepath.Join(agentDir, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("out directory: %w", err)
	}
	taskFile := filepath.Join(agentDir, "task.md")
	if err := os.WriteFile(taskFile, []byte(t.Text), 0o444); err != nil {
		return nil, fmt.Errorf("task file: %w", err)
	}
	user := runner.DefaultUser()
	for _, p := range []string{ws.WorkTree, outDir} {
		if err := runner.PrepareOwnership(p, user); err != nil {
			return nil, fmt.Errorf("work tree ownership: %w", err)
		}
	}

	spec := runner.Spec{
		RunID: t.RunID, WorkerID: s.WorkerID,
		Runtime: s.Runtime, User: user,
		WorkTree: ws.WorkTree, TaskFile: taskFile, OutDir: outDir,
		Limits: pol.Limits,
	}
	var gatewayEnv []string
	// A request that carries one of the run's secrets stops the sandbox.
	var exfil atomic.Pointer[map[string]any]
	sbxCtx, stopSandbox := context.WithCancel(ctx)
	defer stopSandbox()
	var planted *canaries
	if pol.Network.Mode == "relay" {
		if planted, err = plantCanaries(agentDir); err != nil {
			return nil, err
		}
		net, err := s.startNetwork(ctx, t.RunID, pol.Network, netOptions{
			secrets: secretforms.NewScanner(s.phaseSecrets(t.Token, planted.secrets, nil)...),
			onExfil: func(attrs map[string]any) {
				exfil.CompareAndSwap(nil, &attrs)
				stopSandbox()
			},
		})
		if err != nil {
			return nil, err
		}
		spec.CAFile = net.caFile
		defer func() {
			if cerr := net.Close(); cerr != nil {
				s.logger().Warn("run network close", "run_id", t.RunID, "err", cerr)
			}
		}()
		spec.Network = net.spec
		gatewayEnv = net.env
	}
	agentFn := s.Agent
	if pol.Agent != nil {
		agentFn = pol.Agent // the configuration's pick
	}
	agent, err := agentFn(gatewayEnv)
	if err != nil {
		att.Outcome, att.Reason = journal.SandboxError, err.Error()
		return att, nil
	}
	if pol.Setup != nil {
		if stop, err := s.setupPhase(ctx, t, ws, pol, spec, agent.Image, planted, att); err != nil || stop {
			if err != nil {
				return nil, err
			}
			return att, nil
		}
	}
	baseline, err := s.beforeAgent(ctx, t, ws, agent.Name, pol.Setup != nil, user)
	if err != nil {
		return nil, err
	}
	spec.Image, spec.Cmd, spec.Env = agent.Image, agent.Cmd, withoutRunnerEnv(agent.Env)
	if planted != nil {
		spec.Files = planted.files
		for _, kv := range planted.env {
			k, _, _ := strings.Cut(kv, "=")
			// Not where the agent's own variable goes, nor under the name of
			// a setup secret (which the agent must not learn exists).
			if slices.ContainsFunc(spec.Env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) ||
				(pol.Setup != nil && slices.Contains(pol.Setup.SecretNames, k)) {
				continue
			}
			spec.CanaryEnv = append(spec.CanaryEnv, kv)
		}
	}
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
		return nil, err
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
	sctx, endSandbox := t.phase(sbxCtx, telemetry.PhaseSandbox)
	res, cleanup, err := s.Engine.RunThenCleanup(sctx, spec, func(line string) { emit(parser.Line(line)) })
	// The engine removes the exited agent's container and the relay while
	// the change is harvested and pushed; the attempt's Close waits for it.
	cleaned := make(chan error, 1)
	go func() { cleaned <- cleanup() }()
	closeRest := att.close
	att.close = sync.OnceValue(func() error {
		var cerr error
		if e := <-cleaned; e != nil {
			cerr = fmt.Errorf("sandbox cleanup: %w", e)
		}
		return errors.Join(cerr, closeRest())
	})
	emit(parser.Flush())
	endSandbox(err)
	if x := exfil.Load(); x != nil {
		// Stopped by agentgate: whatever the engine says of the stop, the
		// run ends here, not retried.
		attrs := map[string]any{"stopped": "secret in a request"}
		if err == nil {
			att.Result = res
			attrs["exit_code"], attrs["duration_ms"] = res.ExitCode, res.FinishedAt.Sub(res.StartedAt).Milliseconds()
			attrs["output_bytes"], attrs["output_tail"] = res.OutputBytes, tail(string(res.Output), 4000)
		} else {
			attrs["error"] = err.Error()
		}
		_ = s.event(context.WithoutCancel(ctx), t.RunID, telemetry.KindSandboxExited, "agent", attrs)
		att.Outcome, att.Reason = journal.Exfiltration, exfiltrationReason(*x)
		return att, nil
	}
	if errors.Is(err, runner.ErrPreflight) || errors.Is(err, runner.ErrInvalidSpec) {
		// The sandbox's network was not as it must be: the agent never
		// started. Reported, not retried.
		att.Outcome, att.Reason = journal.SandboxError, err.Error()
		return att, nil
	}
	if err != nil {
		// The sandbox itself failed (no image, engine down): worth a retry
		// only when the context is still alive.
		_ = s.event(context.WithoutCancel(ctx), t.RunID, telemetry.KindRunFailed, "agentgate", map[string]any{"outcome": string(journal.SandboxError), "reason": err.Error()})
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	att.Result = res
	if err := s.event(ctx, t.RunID, telemetry.KindSandboxExited, "agent", map[string]any{
		"exit_code": res.ExitCode, "timed_out": res.TimedOut, "oom_killed": res.OOMKilled,
		"duration_ms":  res.FinishedAt.Sub(res.StartedAt).Milliseconds(),
		"started_at":   res.StartedAt.UTC().Format(time.RFC3339Nano),
		"finished_at":  res.FinishedAt.UTC().Format(time.RFC3339Nano),
		"output_bytes": res.OutputBytes, "dropped_bytes": res.DroppedBytes,
		"output_tail": tail(string(res.Output), 4000),
	}); err != nil {
		return nil, err
	}
	for _, l := range res.LimitsHit {
		if err := s.event(ctx, t.RunID, telemetry.KindLimitHit, "agentgate", map[string]any{"limit": l}); err != nil {
			return nil, err
		}
	}
	att.AgentSummary = readAgentSummary(outDir)

	switch {
	case res.TimedOut:
		att.Outcome, att.Reason = journal.TimedOut, fmt.Sprintf("the agent ran past its %s limit and was stopped", pol.Limits.Timeout)
		return att, nil
	case res.ExitCode != 0:
		att.Outcome, att.Reason = journal.Failed, agentFailureReason(res)
		return att, nil
	}
	if t.PlanOnly {
		att.Outcome = journal.Planned
		return att, nil
	}

	hctx, endHarvest := t.phase(ctx, telemetry.PhaseHarvest)
	hopts := s.Harvest
	hopts.Baseline = baseline // what setup and agentgate did is not the agent's change
	ch, err := ws.Harvest(hctx, hopts)
	endHarvest(nil)
	switch {
	case errors.Is(err, gitops.ErrNoChange):
		att.Outcome, att.Reason = journal.NoChange, "the agent finished without changing any file"
		return att, nil
	case err != nil:
		// A harvest error is the agent's doing (too large, bad names):
		// report it, do not retry. The error names the agent's files, so
		// the reason (markdown in the progress comment) shows it as code.
		att.Outcome, att.Reason = journal.Rejected, telemetry.CodeText(err.Error())
		_ = s.event(ctx, t.RunID, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": err.Error()})
		return att, nil
	}
	att.Change = ch
	for _, f := range ch.Files {
		if err := s.event(ctx, t.RunID, telemetry.KindFileChanged, "agent", map[string]any{
			"path": f.Path, "op": f.Op, "added": f.Added, "removed": f.Removed, "binary": f.Binary, "size": f.Size, "mode": f.Mode,
		}); err != nil {
			return nil, err
		}
	}
	for _, fl := range ch.Flags {
		if err := s.event(ctx, t.RunID, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": fl}); err != nil {
			return nil, err
		}
	}
	changed := make([]changedFile, len(ch.Files))
	for i, f := range ch.Files {
		changed[i] = changedFile{Path: f.Path, Added: f.Added, Removed: f.Removed, Binary: f.Binary, Symlink: f.Symlink}
	}
	if v := pol.violations(changed); len(v) > 0 {
		for _, reason := range v {
			if err := s.event(ctx, t.RunID, telemetry.KindPolicyFlagged, "agentgate", map[string]any{"reason": reason}); err != nil {
				return nil, err
			}
		}
		att.Outcome, att.Reason = journal.Rejected, "the change breaks the repository's policy: "+strings.Join(v, "; ")+"\n\nChanged files:\n"+fileList(changed)
		return att, nil
	}
	att.Workflows, att.Protected = pol.protectedChanges(changed)
	att.Outcome = journal.Succeeded
	return att, nil
}

func runtimeName(r string) string {
	if r == "" {
		return "runc"
	}
	return r
}

func agentFailureReason(res runner.Result) string {
	switch {
	case res.OOMKilled:
		return fmt.Sprintf("the agent ran out of memory (exit code %d)", res.ExitCode)
	case len(res.LimitsHit) > 0:
		return fmt.Sprintf("the agent exited with code %d after hitting: %s", res.ExitCode, strings.Join(res.LimitsHit, ", "))
	}
	return fmt.Sprintf("the agent exited with code %d", res.ExitCode)
}

// tail returns at most n bytes from the end of s, on a rune boundary.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for i := 0; i < len(s) && i < 4; i++ {
		if (s[i] & 0xC0) != 0x80 {
			return s[i:]
		}
	}
	return s
}

// maxAgentSummary bounds what is read of the agent's summary.md.
const maxAgentSummary = 16 << 10

// readAgentSummary reads out/summary.md without following links or
// opening anything but a regular file; the agent wrote it.
func readAgentSummary(outDir string) string {
	root, err := os.OpenRoot(outDir)
	if err != nil {
		return ""
	}
	defer root.Close()
	fi, err := root.Lstat("summary.md")
	if err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	f, err := root.OpenFile("summary.md", os.O_RDONLY|syscallNoFollow|syscallNonBlock, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxAgentSummary))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// removeRunDir unmounts anything left mounted at dir and removes it.
func removeRunDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unmountStale(dir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// withoutRunnerEnv drops the variables the runner itself sets in every
// sandbox (HOME, the task file, the run id), which a preset may also name.
func withoutRunnerEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "HOME", "AGENTGATE_TASK_FILE", "AGENTGATE_RUN_ID":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// agentVersion adds to the sandbox.started attrs the CLI version the
// preset was checked against ("agent_version_checked"), the one the image
// reports in its label ("agent_version") and, when they differ, a warning
// for the check run ("agent_version_warning").
func (s *Sandbox) agentVersion(ctx context.Context, runID string, agent agents.Preset, attrs map[string]any) {
	if agent.Version == "" {
		return
	}
	var labels map[string]string
	if s.Engine != nil {
		l, err := s.Engine.ImageLabels(ctx, agent.Image)
		if err != nil {
			s.logger().Warn("agent image labels", "run_id", runID, "err", err)
		}
		labels = l
	}
	reported, warning := agents.CheckVersion(agent, labels)
	attrs["agent_version_checked"] = agent.Version
	if reported != "" {
		attrs["agent_version"] = reported
	}
	if warning != "" {
		attrs["agent_version_warning"] = warning
	}
}
