package sandbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
)

// setupWithSecrets is the decision that hands the setup phase its secrets;
// the others are policy.SetupWithoutSecrets and policy.SetupStop.
const setupWithSecrets = "with-secrets"

// maxTrustPaths bounds the paths a setup.trust event and reason name.
const maxTrustPaths = 20

// setupTrust is whether the setup phase runs with its secrets.
type setupTrust struct {
	Decision string   // setupWithSecrets, policy.SetupWithoutSecrets or policy.SetupStop
	Reason   string   // one sentence
	Changed  []string // setup inputs that differ from the default branch
}

// setupInputsChanged returns the paths of changed that match a glob of
// inputs; nil inputs means every path is an input.
func setupInputsChanged(changed, inputs []string) []string {
	if inputs == nil {
		return changed
	}
	var out []string
	for _, p := range changed {
		if policy.MatchAny(inputs, p) {
			out = append(out, p)
		}
	}
	return out
}

// decideSetupTrust decides whether a setup phase that asks for secrets
// gets them. The setup command reads and runs files of the work tree
// (package.json's scripts, a Makefile, the scripts they call), so the
// secrets go only to a tree whose setup inputs are the default branch's:
// onDefault (the work tree is the default branch), or no path of changed
// (the paths where the work tree's commit and the default branch's tip
// differ) is an input. Otherwise someone other than the default branch's
// writers, such as the agent of an earlier run, wrote an input, and the
// plan's OnUntrusted says what happens.
func decideSetupTrust(plan *SetupPlan, onDefault bool, changed []string) setupTrust {
	if onDefault {
		return setupTrust{Decision: setupWithSecrets, Reason: "the work tree is the default branch"}
	}
	bad := setupInputsChanged(changed, plan.Inputs)
	if len(bad) == 0 {
		return setupTrust{Decision: setupWithSecrets, Reason: "no setup input differs from the default branch"}
	}
	d := setupTrust{Decision: policy.SetupWithoutSecrets, Changed: bad}
	if plan.OnUntrusted == policy.SetupStop {
		d.Decision = policy.SetupStop
	}
	d.Reason = fmt.Sprintf("setup inputs differ from the default branch (%s)", joinCapped(bad, maxTrustPaths))
	return d
}

// setupTrust decides, for a setup phase with secrets, whether it gets
// them (decideSetupTrust), comparing the work tree's commit with the tip
// of the default branch, and records the decision.
func (s *Sandbox) setupTrust(ctx context.Context, t Task, ws *gitops.Workspace, plan *SetupPlan) (setupTrust, error) {
	var d setupTrust
	switch {
	case t.DefaultBranch == "":
		// Nothing to compare with: the tree is not trusted.
		d = setupTrust{Decision: policy.SetupWithoutSecrets, Reason: "the run's default branch is unknown"}
		if plan.OnUntrusted == policy.SetupStop {
			d.Decision = policy.SetupStop
		}
	case ws.Branch == t.DefaultBranch:
		d = decideSetupTrust(plan, true, nil)
	default:
		tree, err := ws.FetchBranchTree(ctx, t.CloneURL, t.Token, t.DefaultBranch)
		if err != nil {
			return setupTrust{}, fmt.Errorf("setup inputs: %w", err)
		}
		changed, err := ws.ChangedFrom(ctx, tree)
		if err != nil {
			return setupTrust{}, fmt.Errorf("setup inputs: %w", err)
		}
		d = decideSetupTrust(plan, false, changed)
	}
	changed := d.Changed
	if len(changed) > maxTrustPaths {
		changed = changed[:maxTrustPaths]
	}
	if err := s.event(ctx, t.RunID, telemetry.KindSetupTrust, "agentgate", map[string]any{
		"decision": d.Decision, "reason": d.Reason, "changed": strings.Join(changed, " "),
		"secrets": strings.Join(plan.SecretNames, " "), "branch": ws.Branch, "default_branch": t.DefaultBranch,
	}); err != nil {
		return setupTrust{}, err
	}
	return d, nil
}

// joinCapped joins at most n of ps with ", ", saying how many it left out.
func joinCapped(ps []string, n int) string {
	if len(ps) <= n {
		return strings.Join(ps, ", ")
	}
	return strings.Join(ps[:n], ", ") + fmt.Sprintf(" and %d more", len(ps)-n)
}
