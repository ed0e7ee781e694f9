package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/egress"
	"github.com/agentgate/agentgate/telemetry"
)

// VerifyTask is one verification: a command on a pushed commit, in a
// fresh sandbox with no agent, no model access and no network but the
// verify allowlist.
type VerifyTask struct {
	RunID    string
	CloneURL string
	Branch   string
	Commit   string // the branch must still point here
	Token    string // read-only clone token
	Verify   policy.EffectiveVerify
	Limits   runner.Limits
	Network  NetworkConfig // the operator's; narrowed to Verify.Allow, never with a gateway
	// CanarySeed is the run's Task.CanarySeed: the command's requests
	// are scanned for the canaries the agent's sandbox held (code the
	// agent committed may carry them). Empty: not looked for.
	CanarySeed []byte
}

// VerifyResult is how the command ended.
type VerifyResult struct {
	Conclusion string // success, failure, timed_out or neutral (the commit moved)
	ExitCode   int
	Output     string
	Duration   time.Duration
	Stopped    string // why the tripwire stopped the command (Conclusion action_required); "" when it did not
}

// Verify clones t.Branch, checks it is still t.Commit, and runs the
// command. An error means agentgate itself failed.
func (s *Sandbox) Verify(ctx context.Context, t VerifyTask) (_ VerifyResult, err error) {
	id := t.RunID + "-verify"
	dir := s.runDir(id)
	if err := removeRunDir(dir); err != nil {
		return VerifyResult{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return VerifyResult{}, fmt.Errorf("verify directory: %w", err)
	}
	cleanup := func() error { return removeRunDir(dir) }
	if !s.Unbounded {
		unmount, err := runner.MountWorkspace(dir, s.WorkspaceBytes, s.WorkspaceInodes)
		if err != nil {
			_ = removeRunDir(dir)
			return VerifyResult{}, fmt.Errorf("bounded workspace: %w", err)
		}
		cleanup = func() error { return errors.Join(unmount(), removeRunDir(dir)) }
	}
	defer func() {
		if cerr := cleanup(); cerr != nil {
			s.logger().Warn("verify directory cleanup", "run_id", t.RunID, "err", cerr)
		}
	}()
	ws, err := gitops.Clone(ctx, gitops.CloneOptions{
		URL: t.CloneURL, Branch: t.Branch, Token: t.Token, Root: dir,
		MaxTreeBytes: s.WorkspaceBytes, MaxTreeEntries: s.WorkspaceInodes,
	})
	if errors.Is(err, gitops.ErrTreeTooLarge) {
		return VerifyResult{Conclusion: "failure", Output: "the branch's tree does not fit the work tree: " + err.Error()}, nil
	}
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify clone: %w", err)
	}
	if ws.BaseCommit != t.Commit {
		return VerifyResult{Conclusion: "neutral", Output: fmt.Sprintf("the branch moved to %s before verification; %s was not verified", ws.BaseCommit, t.Commit)}, nil
	}
	if err := ws.PrepareSandbox(ctx); err != nil {
		return VerifyResult{}, fmt.Errorf("verify work tree: %w", err)
	}
	taskFile := filepath.Join(dir, "task.md")
	if err := os.WriteFile(taskFile, []byte("Verification of "+t.Commit+": "+strings.Join(t.Verify.Command, " ")+"\n"), 0o444); err != nil {
		return VerifyResult{}, fmt.Errorf("verify task file: %w", err)
	}
	user := runner.DefaultUser()
	if err := runner.PrepareOwnership(ws.WorkTree, user); err != nil {
		return VerifyResult{}, fmt.Errorf("verify ownership: %w", err)
	}
	image := t.Verify.Image
	if image == "" {
		p, err := s.Agent(nil)
		if err != nil {
			return VerifyResult{}, fmt.Errorf("verify image: %w", err)
		}
		image = p.Image
	}
	lim := t.Limits
	lim.Timeout = t.Verify.Timeout
	spec := runner.Spec{
		RunID: id, WorkerID: s.WorkerID, Runtime: s.Runtime, User: user,
		Image: image, Cmd: t.Verify.Command,
		WorkTree: ws.WorkTree, TaskFile: taskFile, Limits: lim,
	}
	mode := "none"
	var trip *tripwire
	if len(t.Verify.Allow) > 0 && t.Network.Mode == "relay" {
		// Egress to the verify allowlist only (within the operator's), and
		// no LLM gateway: without model keys startNetwork opens none.
		n := t.Network
		n.OpenAIURL, n.OpenAIKey, n.AnthropicURL, n.AnthropicKey = "", "", "", ""
		n.Allow = egress.Policy{Allow: t.Network.Allow}.Narrow(egress.Policy{Allow: t.Verify.Allow}).Allow
		if n.Allow == nil {
			n.Allow = []string{}
		}
		// The command is the agent's code: its requests are scanned for
		// every secret the worker holds.
		trip = newTripwire(ctx, "verify", s.phaseSecrets(t.Token, verifyCanaries(t.CanarySeed), nil))
		defer trip.stop()
		net, err := s.startNetwork(ctx, t.RunID, n, trip.options())
		if err != nil {
			return VerifyResult{}, err
		}
		defer func() {
			if cerr := net.Close(); cerr != nil {
				s.logger().Warn("verify network close", "run_id", t.RunID, "err", cerr)
			}
		}()
		spec.Network, spec.CAFile, mode = net.spec, net.caFile, "relay"
	}
	if err := s.event(ctx, t.RunID, telemetry.KindVerifyStarted, "agentgate", map[string]any{
		"commit": t.Commit, "command": strings.Join(t.Verify.Command, " "), "image": image, "network": mode,
		"allow": strings.Join(t.Verify.Allow, " "), "timeout": lim.Timeout.String(),
	}); err != nil {
		return VerifyResult{}, err
	}
	res, err := s.Engine.Run(trip.context(ctx), spec, nil)
	if x := trip.tripped(); x != nil {
		return s.verifyStopped(ctx, t, x)
	}
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify sandbox: %w", err)
	}
	out := VerifyResult{ExitCode: res.ExitCode, Output: string(res.Output), Duration: res.FinishedAt.Sub(res.StartedAt)}
	switch {
	case res.TimedOut:
		out.Conclusion = "timed_out"
	case res.ExitCode == 0:
		out.Conclusion = "success"
	default:
		out.Conclusion = "failure"
	}
	if err := s.event(ctx, t.RunID, telemetry.KindVerifyFinished, "agentgate", map[string]any{
		"commit": t.Commit, "exit_code": res.ExitCode, "timed_out": res.TimedOut, "conclusion": out.Conclusion,
		"duration_ms": out.Duration.Milliseconds(), "output_tail": Tail(out.Output, 4000),
	}); err != nil {
		return VerifyResult{}, err
	}
	return out, nil
}
