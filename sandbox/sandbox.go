package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/telemetry"
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
	// CanarySeed (CanarySeedSize bytes) makes the run's canaries, the
	// fake credentials planted in the agent's sandbox: the caller keeps
	// it for the run, so its verify command (VerifyTask.CanarySeed) and a
	// job's next attempt know the same values. Empty: fresh random ones.
	CanarySeed []byte
}

// phase opens a span through t.Phase, or nothing.
func (t Task) phase(ctx context.Context, name string) (context.Context, func(error)) {
	if t.Phase == nil {
		return ctx, func(error) {}
	}
	return t.Phase(ctx, name)
}

// Outcome is how a run ended, as its last audit event ("outcome", written
// as a string), its progress comment and its check say.
type Outcome string

// Outcome values of a run.
const (
	OutcomeSucceeded    Outcome = "succeeded"
	OutcomeFailed       Outcome = "failed"
	OutcomeTimedOut     Outcome = "timed out"
	OutcomeNoChange     Outcome = "no change"
	OutcomeRejected     Outcome = "rejected by policy"
	OutcomeSandboxError Outcome = "sandbox error"
	// OutcomePlanned is the outcome of a plan phase (Task.PlanOnly): the
	// agent's plan was read and its work tree thrown away.
	OutcomePlanned Outcome = "planned"
	// OutcomeExfiltration ends a run whose request carried one of its
	// secrets.
	OutcomeExfiltration Outcome = "stopped: secret in a request"
)

// Attempt is the result of Sandbox.Execute (and Resume). When Outcome is
// OutcomeSucceeded, Workspace and Change hold the harvested change ready to
// commit; Close releases the run directory in every case.
type Attempt struct {
	Outcome      Outcome
	Reason       string
	Result       runner.Result
	Workspace    *gitops.Workspace
	Change       *gitops.Change
	AgentSummary string // /agentgate/out/summary.md, bounded; untrusted text
	// Workflows and Protected are the protected paths the change touches:
	// workflow files are never pushed, the others need an approval.
	Workflows, Protected []string
	// cleanup releases, last registered first, what the stages set up
	// for the attempt: the run directory, its mount, the work tree, the
	// containers.
	cleanup cleanups
}

// Close releases what the attempt holds: the agent's containers, the
// work tree, the run directory (and its mount). Only the first call does
// anything.
func (a *Attempt) Close() error {
	if a == nil {
		return nil
	}
	return a.cleanup.run()
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

// event appends an event to runID's audit trail.
func (s *Sandbox) event(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
	return telemetry.Record(ctx, s.Events, runID, kind, actor, attrs)
}

// Execute clones, runs the agent and harvests its change, stage by stage
// (see stages). An error means agentgate itself failed (worth a retry);
// an agent that fails is an Attempt with that outcome.
func (s *Sandbox) Execute(ctx context.Context, t Task) (_ *Attempt, err error) {
	x := s.newExecution(ctx, t)
	defer func() {
		if err != nil {
			_ = x.att.Close()
		}
	}()
	// Registered last, so it runs first: what lives only as long as
	// Execute (the run's network, the agent's context) goes before an
	// attempt that failed is closed.
	defer x.done.run()
	for _, st := range x.stages() {
		began := time.Now()
		err := st.run(ctx)
		s.logger().Debug("sandbox stage", "run_id", t.RunID, "stage", st.name, "duration", time.Since(began), "outcome", x.att.Outcome)
		if err != nil {
			return nil, err
		}
		if x.att.Outcome != "" {
			return x.att, nil
		}
	}
	return x.att, nil
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

// Tail returns at most n bytes from the end of s, on a rune boundary.
func Tail(s string, n int) string {
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

// MaxAgentSummary bounds what is read of the agent's summary.md.
const MaxAgentSummary = 16 << 10

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
	b, _ := io.ReadAll(io.LimitReader(f, MaxAgentSummary))
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
