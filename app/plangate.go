package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/app/tasktext"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// statePlanned is a run whose plan waits for `@agentgate approve`.
const statePlanned = "planned"

// planGate enforces `mode: plan`. Without a plan the run becomes a plan
// phase (runPlanPhase); with a plan not yet approved it stays planned; with
// an approved plan it goes on, the plan in its task.
func (r *run) planGate(ctx context.Context) (bool, error) {
	if r.cfg == nil || r.cfg.Effective.Mode != policy.ModePlan {
		return true, nil
	}
	plan, made, err := r.w.DB.Effect(ctx, r.args.RunID, journal.Plan)
	if err != nil {
		return false, fmt.Errorf("effect: %w", err)
	}
	if !made {
		r.planPhase = true
		return true, nil
	}
	if by, approved, err := r.w.DB.Effect(ctx, r.args.RunID, journal.PlanApproved); err != nil || !approved || by == "" {
		return false, err // still waiting for approval
	}
	r.approvedPlan = plan
	return true, nil
}

// planResumable reports whether a planned run may go on: its plan was
// approved. A pending run approved earlier keeps that approval.
func (r *run) planResumable(ctx context.Context) (bool, error) {
	by, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.RunApproved)
	if err != nil {
		return false, fmt.Errorf("effect: %w", err)
	}
	if ok {
		r.approvedBy = by
	}
	planBy, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.PlanApproved)
	if err != nil {
		return false, fmt.Errorf("effect: %w", err)
	}
	return ok && planBy != "", nil // "": an approval voided (approve_text.go)
}

// runPlanPhase runs the agent on a throwaway work tree with a task asking
// for a plan, posts the plan and leaves the run planned. Nothing the agent
// changed is harvested or pushed.
func (r *run) runPlanPhase(ctx context.Context) error {
	a := r.args
	w := r.w
	if _, made, err := w.DB.Effect(ctx, a.RunID, journal.Plan); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if !made {
		limits := w.Config.Limits
		if r.policy != nil {
			limits = r.policy.Limits
		}
		release, err := r.admit(ctx, limits)
		if err != nil {
			return err
		}
		defer release()
		if err := w.DB.SetRunState(ctx, a.RunID, stateRunning); err != nil {
			return fmt.Errorf("run state: %w", err)
		}
		cloneTok, err := w.Clients.Token(ctx, a.InstallationID, cloneScope(a.RepoID))
		if err != nil {
			return err
		}
		if err := r.requireLease(ctx); err != nil {
			return err
		}
		att, err := w.Sandbox.Execute(ctx, sandbox.Task{
			RunID: a.RunID, CloneURL: a.CloneURL, Branch: r.cloneBranch(), DefaultBranch: a.DefaultBranch, Token: cloneTok,
			Text: planTaskText(a), Actor: a.RequesterLogin, Policy: r.policy, Phase: r.phase, PlanOnly: true,
		})
		if err != nil {
			return err
		}
		defer func() {
			if cerr := att.Close(); cerr != nil {
				r.log.Warn("run directory cleanup", "err", cerr)
			}
		}()
		if att.Outcome != sandbox.OutcomePlanned {
			return r.failed(ctx, att.Outcome, "plan phase: "+att.Reason)
		}
		plan := strings.TrimSpace(att.AgentSummary)
		if plan == "" {
			return r.failed(ctx, sandbox.OutcomeFailed, "plan phase: the agent wrote no plan to /agentgate/out/summary.md")
		}
		sum := sha256.Sum256([]byte(plan))
		if err := w.DB.RecordEffect(ctx, a.RunID, journal.PlanDigest, hex.EncodeToString(sum[:])); err != nil {
			return err
		}
		if err := w.DB.RecordEffect(ctx, a.RunID, journal.PlanPolicy, r.cfg.Effective.Hash()); err != nil {
			return err
		}
		if err := w.DB.RecordEffect(ctx, a.RunID, journal.Plan, plan); err != nil {
			return err
		}
	}
	plan, _, err := w.DB.Effect(ctx, a.RunID, journal.Plan)
	if err != nil {
		return err
	}
	digest, _, err := w.DB.Effect(ctx, a.RunID, journal.PlanDigest)
	if err != nil {
		return err
	}
	hash, _, err := w.DB.Effect(ctx, a.RunID, journal.PlanPolicy)
	if err != nil {
		return err
	}
	if _, err := r.once(ctx, journal.PlanComment, func() (string, error) {
		return r.comment(ctx, planComment(a.RequesterLogin, r.minPermission, a.RunID, plan, digest))
	}); err != nil {
		return err
	}
	if err := r.auditEventOnce(ctx, journal.PlannedEvent, telemetry.KindRunPlanned, map[string]any{"plan_sha256": digest, "policy_sha256": hash}); err != nil {
		return err
	}
	r.rt.SetOutcome(statePlanned)
	if err := w.DB.SetRunState(ctx, a.RunID, statePlanned); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	if err := w.DB.ReleaseLease(ctx, r.leaseKey(), a.RunID); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return w.DB.RecordEffect(ctx, a.RunID, journal.Done, statePlanned)
}

// planTaskText is the plan phase's task: the run's task and the request
// for a plan instead of a change.
func planTaskText(a webhook.RunJobArgs) string {
	return taskText(a) + "\n## Plan only\n\nThis repository requires a plan before any change. Do not change the code: " +
		"whatever you change in the work tree is thrown away. Write your plan (what you would change, where and why) " +
		"to /agentgate/out/summary.md. A maintainer reads it and approves the real run.\n"
}

// planSection is what the approved run's task adds: the plan it was
// approved with.
func (r *run) planSection() string {
	if r.approvedPlan == "" {
		return ""
	}
	plan, _ := tasktext.Sanitize(r.approvedPlan) // the agent wrote it: shown as the approver read it
	return "\n## Approved plan\n\n" + strings.TrimSpace(plan) + "\n"
}

// planComment posts the agent's plan: agentgate's own words first (who
// asked, that nothing changed, how to approve, the plan's digest), then
// the plan as inert text (agentText), within GitHub's comment limit.
func planComment(login, min, runID, plan, digest string) string {
	own := fmt.Sprintf("@%s asked for a run; this repository requires a plan first (`mode: plan`). Nothing was changed. A user with **%s** permission or more can start the run with the plan below (run `%s`, plan sha256 `%s`) with `@agentgate approve`.\n",
		login, min, runID, short(digest))
	return own + agentText("The agent's plan", plan, telemetry.MaxComment-len(own))
}

// approvePlan answers `@agentgate approve` on a planned run: someone the
// policy would let start the run (the requester too: a plan is not a
// protected change) approves it, under the policy it was made under.
func (ev *eventJob) approvePlan(ctx context.Context, runID, requester string) error {
	args, found, err := ev.w.loadArgs(ctx, runID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("planned run %s: job not recorded", runID)
	}
	ok, role, err := ev.mayApprove(ctx)
	if err != nil || !ok {
		return err
	}
	digest, _, err := ev.w.DB.Effect(ctx, runID, journal.PlanDigest)
	if err != nil {
		return err
	}
	planHash, _, err := ev.w.DB.Effect(ctx, runID, journal.PlanPolicy)
	if err != nil {
		return err
	}
	if by, done, err := ev.w.DB.Effect(ctx, runID, journal.PlanApproved); err != nil {
		return err
	} else if !done || by == "" {
		rc, err := ev.loadConfig(ctx)
		if err != nil {
			return ev.refuse(ctx, "The repository's configuration cannot be read or is invalid, so the plan cannot be approved: fix it, then make a new plan with `@agentgate retry`.")
		}
		if now := rc.Effective.Hash(); now != planHash {
			return ev.refuse(ctx, fmt.Sprintf("The policy changed since this plan was made (%s, now %s), so it cannot be approved: make a new plan with `@agentgate retry`.", short(planHash), short(now)))
		}
		// The approval names the task text it saw: the run reads it again
		// when it starts, and a changed text voids the approval.
		text, err := ev.nameText(ctx, runID, args)
		if err != nil || text == "" {
			return err
		}
		if err := ev.audit(ctx, runID, telemetry.KindRunPlanApproved, ev.a.ActorLogin, map[string]any{
			"requester": requester, "permission": role, "comment_id": ev.a.CommentID, "plan_sha256": digest, "policy_sha256": planHash,
			"text_sha256": text,
		}); err != nil {
			return err
		}
		if err := ev.w.DB.RecordEffect(ctx, runID, journal.PlanApproved, ev.a.ActorLogin); err != nil {
			return err
		}
	}
	return ev.start(ctx, runID, args)
}

// start queues an approved planned run again, unique by the approval's
// delivery as an approved pending run is.
func (ev *eventJob) start(ctx context.Context, runID string, args webhook.RunJobArgs) error {
	if err := ev.w.DB.SetRunState(ctx, runID, stateQueued); err != nil {
		return err
	}
	args.ApprovalDelivery = ev.a.DeliveryID
	if err := enqueue(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	return ev.react(ctx, "rocket")
}
