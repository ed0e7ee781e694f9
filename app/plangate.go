package app

import (
	"context"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
)

// effPlanGate is the effect key of the comment refusing a plan-gated run.
const effPlanGate = "comment.plangate"

// planGate enforces `mode: plan`. The plan phase (a read-only run whose
// plan a maintainer approves before the real run) is not built yet, so a
// run under a plan gate fails closed: it is refused with a comment rather
// than run directly, which is what the configuration forbids.
func (r *run) planGate(ctx context.Context) (bool, error) {
	if r.cfg.Effective.Mode != policy.ModePlan {
		return true, nil
	}
	if _, err := r.once(ctx, effPlanGate, func() (string, error) { return r.comment(ctx, planGateComment(r.args.RequesterLogin)) }); err != nil {
		return false, err
	}
	return false, r.finish(ctx, stateDenied, telemetry.KindRunDenied, map[string]any{
		"reason": "mode: plan is in force and this agentgate cannot run a plan phase yet",
	})
}

// planGateComment tells the requester why a plan-gated run did not start.
func planGateComment(login string) string {
	return "Sorry @" + login + ", this repository's agentgate configuration sets `mode: plan` (a plan approved before any change), which this agentgate server does not support yet, so this run did not start and nothing was changed. Ask a maintainer to update agentgate, or to remove `mode: plan` where the organization allows it."
}
