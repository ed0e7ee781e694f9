package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/telemetry"
)

// setupPhase runs the run's setup phase (pol.Setup) before the agent: the
// setup command in the agent's image, on the same work tree, with the
// setup allowlist and the setup secrets, in a sandbox of its own that is
// gone (container, relay, /tmp, processes) before the agent starts. When
// it stops the run it says so in att and returns true; an error is
// agentgate's own failure.
//
// A setup phase that leaves one of its secrets anywhere in the work tree
// (a file's content, a file name, a link target) stops the run: the agent
// would see it.
//
// The secrets go only to a tree whose setup inputs are the default
// branch's (setupTrust): on a follow-up, where the work tree is the
// agent's branch, setup runs without them or the run stops, as
// setup.on_untrusted says.
func (s *Sandbox) setupPhase(ctx context.Context, t Task, ws *gitops.Workspace, pol *RunPolicy, base runner.Spec, image string, planted *canaries, att *Attempt) (bool, error) {
	plan := pol.Setup
	secrets := plan.Secrets
	if len(secrets) > 0 {
		d, err := s.setupTrust(ctx, t, ws, plan)
		if err != nil {
			return false, err
		}
		switch d.Decision {
		case policy.SetupStop:
			att.Outcome, att.Reason = OutcomeRejected, fmt.Sprintf("the setup phase would run with secrets (%s) on %s; setup.on_untrusted is stop, so the run stopped before it. Merge those changes to the default branch, or start a new run from it", strings.Join(plan.SecretNames, ", "), d.Reason)
			return true, nil
		case setupWithSecrets:
		default:
			secrets = nil
		}
	}
	spec := base
	spec.Image, spec.Cmd, spec.Env, spec.SecretEnv = image, plan.Command, nil, secrets
	spec.OutDir = "" // nothing setup writes goes into the pull request's body
	spec.Limits.Timeout = plan.Timeout
	var names []string
	for _, kv := range secrets {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	var trip *tripwire
	if pol.Network.Mode == "relay" {
		ncfg := NetworkConfig{
			Mode: "relay", RelayImage: pol.Network.RelayImage, Allow: plan.Allow,
			AllowPrivate: pol.Network.AllowPrivate, MaxBytes: pol.Network.MaxBytes, MaxConns: pol.Network.MaxConns,
			Inspect: pol.Network.Inspect, InspectAll: pol.Network.InspectAll, UpstreamCAFile: pol.Network.UpstreamCAFile,
			setupPhase: true,
		} // no LLM upstream: setup gets no gateway
		trip = s.setupTripwire(ctx, t, planted, secrets)
		defer trip.stop()
		net, err := s.startNetwork(ctx, t.RunID, ncfg, trip.options())
		if err != nil {
			return false, fmt.Errorf("setup network: %w", err)
		}
		defer func() {
			if cerr := net.Close(); cerr != nil {
				s.logger().Warn("setup network close", "run_id", t.RunID, "err", cerr)
			}
		}()
		spec.Network, spec.CAFile = net.spec, net.caFile
	}
	if err := s.event(ctx, t.RunID, telemetry.KindSetupStarted, "agentgate", map[string]any{
		"command": strings.Join(plan.Command, " "), "image": image, "allow": strings.Join(plan.Allow, " "),
		"secrets": strings.Join(names, " "), "timeout": plan.Timeout.String(),
	}); err != nil {
		return false, err
	}
	res, err := s.Engine.Run(trip.context(ctx), spec, nil)
	if x := trip.tripped(); x != nil {
		// Stopped by agentgate's tripwire, whatever the engine says.
		_ = s.event(context.WithoutCancel(ctx), t.RunID, telemetry.KindSetupExited, "setup", map[string]any{"stopped": "secret in a request"})
		att.Outcome, att.Reason = OutcomeExfiltration, exfiltrationReason(x)
		return true, nil
	}
	if errors.Is(err, runner.ErrPreflight) || errors.Is(err, runner.ErrInvalidSpec) {
		att.Outcome, att.Reason = OutcomeSandboxError, "setup phase: "+err.Error()
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("setup phase: %w", err)
	}
	if err := s.event(ctx, t.RunID, telemetry.KindSetupExited, "setup", map[string]any{
		"exit_code": res.ExitCode, "timed_out": res.TimedOut, "oom_killed": res.OOMKilled,
		"duration_ms": res.FinishedAt.Sub(res.StartedAt).Milliseconds(),
		"output_tail": Tail(string(res.Output), 4000),
	}); err != nil {
		return false, err
	}
	switch {
	case res.TimedOut:
		att.Outcome, att.Reason = OutcomeTimedOut, fmt.Sprintf("the setup phase ran past its %s limit and was stopped; the agent did not start", plan.Timeout)
		return true, nil
	case res.ExitCode != 0:
		att.Outcome, att.Reason = OutcomeFailed, fmt.Sprintf("the setup phase exited with code %d; the agent did not start", res.ExitCode)
		return true, nil
	}
	name, where, err := findSecret(ctx, base.WorkTree, secrets)
	if errors.Is(err, errUnscannable) {
		att.Outcome, att.Reason = OutcomeRejected, fmt.Sprintf("the setup phase left a file the secret scan cannot read (%v); the agent did not start", err)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("setup phase: look for secrets: %w", err)
	}
	if name != "" {
		att.Outcome, att.Reason = OutcomeRejected, fmt.Sprintf("the setup phase left setup secret %s in %s, where the agent would see it; the agent did not start", name, where)
		return true, nil
	}
	return false, nil
}

// beforeAgent takes the last steps before the agent starts: on a branch
// other than the default one (a follow-up), the instruction files of
// AGENTS.md and of the agent's preset are made the default branch's;
// then, when setup ran or files were restored, the work tree is recorded
// as the baseline the agent's change is harvested against.
func (s *Sandbox) beforeAgent(ctx context.Context, t Task, ws *gitops.Workspace, preset string, setupRan bool, user string) (*gitops.Baseline, error) {
	restored := false
	if t.DefaultBranch != "" && t.DefaultBranch != ws.Branch {
		tree, err := ws.FetchBranchTree(ctx, t.CloneURL, t.Token, t.DefaultBranch)
		if err != nil {
			return nil, fmt.Errorf("instruction files: %w", err)
		}
		changed, err := ws.RestoreFromTree(ctx, tree, agents.InstructionFiles(preset))
		if err != nil {
			return nil, fmt.Errorf("instruction files: %w", err)
		}
		if err := s.event(ctx, t.RunID, telemetry.KindInstructionsRestored, "agentgate", map[string]any{
			"from": t.DefaultBranch, "paths": strings.Join(changed, " "),
		}); err != nil {
			return nil, err
		}
		if len(changed) > 0 {
			restored = true
			if err := runner.PrepareOwnership(ws.WorkTree, user); err != nil {
				return nil, fmt.Errorf("work tree ownership: %w", err)
			}
		}
	}
	if !setupRan && !restored {
		return nil, nil
	}
	b, err := ws.Baseline(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.event(ctx, t.RunID, telemetry.KindBaselineTaken, "agentgate", map[string]any{"paths": b.Len()}); err != nil {
		return nil, err
	}
	return b, nil
}

// findSecret looks for any value of secrets (NAME=VALUE) in the tree at
// dir: in file contents, file names and symlink targets, without
// following a link or opening anything but regular files. Each value is
// looked for in its common encodings too (secretforms: reversed, hex,
// base64, base64url, percent-encoded), which catches a careless or
// ordinary leak, not a deliberate one: a value transformed any other
// way is not found. It returns the first secret's name and where it was
// found (relative to dir, with the encoding when it was not literal).
func findSecret(ctx context.Context, dir string, secrets []string) (name, where string, err error) {
	type secret struct {
		name, kind string
		value      []byte
	}
	var ss []secret
	longest := 0
	for _, kv := range secrets {
		k, v, _ := strings.Cut(kv, "=")
		if len(v) < 4 { // too short to tell from ordinary bytes
			continue
		}
		for _, f := range secretforms.Forms(v) {
			ss = append(ss, secret{k, f.Kind, []byte(f.Value)})
			longest = max(longest, len(f.Value))
		}
	}
	if len(ss) == 0 {
		return "", "", nil
	}
	var kind string
	match := func(b []byte) string {
		for _, s := range ss {
			if bytes.Contains(b, s.value) {
				kind = s.kind
				return s.name
			}
		}
		return ""
	}
	at := func(rel string) string {
		if kind != "literal" {
			return rel + " (" + kind + ")"
		}
		return rel
	}
	buf := make([]byte, 64<<10+longest)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if n := match([]byte(d.Name())); n != "" && p != dir {
			name, where = n, at(rel)
			return fs.SkipAll
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if n := match([]byte(target)); n != "" {
				name, where = n, at(rel)+" (a link target)"
				return fs.SkipAll
			}
		case d.Type().IsRegular():
			if n, err := scanFile(ctx, p, buf, longest, match); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			} else if n != "" {
				name, where = n, at(rel)
				return fs.SkipAll
			}
		}
		return nil
	})
	return name, where, err
}

// errUnscannable marks a file the secret scan could not read within its
// bounds: a sparse file whose holes the file system does not report.
var errUnscannable = errors.New("file not scannable")

// scanFile streams the data of the regular file p through buf, keeping
// the last overlap-1 bytes of each chunk so a secret across chunks is
// found, and checks ctx between chunks. Only the file's data regions are
// read (SEEK_DATA / SEEK_HOLE): a hole reads as zeros and no secret (an
// environment value) holds a NUL byte, so a sparse file of 8 EiB costs
// what its blocks on disk hold. Where holes are not reported, reading
// more than the file's allocated blocks (plus slack) stops with
// errUnscannable.
func scanFile(ctx context.Context, p string, buf []byte, overlap int, match func([]byte) string) (string, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscallNoFollow|syscallNonBlock, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", err
	}
	budget := int64(-1) // bytes that may be read; -1 = unknown
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		budget = st.Blocks*512 + 1<<20
	}
	size := fi.Size()
	for off := int64(0); off < size; {
		start, err := f.Seek(off, unix.SEEK_DATA)
		if errors.Is(err, syscall.ENXIO) {
			return "", nil // only a hole is left
		}
		end := size
		if err != nil { // holes not reported: the rest is data
			start = off
		} else if end, err = f.Seek(start, unix.SEEK_HOLE); err != nil {
			end = size
		}
		end = min(end, size)
		if budget >= 0 && end-start > budget {
			return "", fmt.Errorf("%w: %d bytes of data, more than its %d bytes of blocks on disk", errUnscannable, end-start, budget)
		}
		budget -= end - start
		// A secret never spans a hole: each region is scanned on its own.
		r := io.NewSectionReader(f, start, end-start)
		keep := 0
		for {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			n, err := r.Read(buf[keep:])
			if n > 0 {
				chunk := buf[:keep+n]
				if name := match(chunk); name != "" {
					return name, nil
				}
				keep = min(overlap-1, len(chunk))
				copy(buf, chunk[len(chunk)-keep:])
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", err
			}
		}
		off = end
	}
	return "", nil
}
