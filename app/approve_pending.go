package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// saveArgs records the run's job once, so a command can start it again.
func (r *run) saveArgs(ctx context.Context) error {
	_, err := r.once(ctx, journal.Args, func() (string, error) {
		b, err := json.Marshal(r.args)
		return string(b), err
	})
	return err
}

// loadArgs reads the job a run was started with.
func (w *Worker) loadArgs(ctx context.Context, runID string) (webhook.RunJobArgs, bool, error) {
	v, ok, err := w.DB.Effect(ctx, runID, journal.Args)
	if err != nil || !ok {
		return webhook.RunJobArgs{}, false, err
	}
	var a webhook.RunJobArgs
	if err := json.Unmarshal([]byte(v), &a); err != nil {
		return webhook.RunJobArgs{}, false, fmt.Errorf("run %s job: %w", runID, err)
	}
	return a, true, nil
}

// resumable reports whether a run recorded as done may go on: a pending
// run a maintainer has approved since.
func (r *run) resumable(ctx context.Context, state string) (bool, error) {
	if state == statePlanned {
		return r.planResumable(ctx) // plangate.go
	}
	if state != statePending {
		return false, nil
	}
	by, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.RunApproved)
	if err != nil {
		return false, fmt.Errorf("effect: %w", err)
	}
	r.approvedBy = by
	return ok && by != "", nil // "": an approval voided (approve_text.go)
}

// mustWait reports whether a requester who has the permission still waits
// for a maintainer (an outside collaborator, when so configured).
func (r *run) mustWait() bool {
	return r.w.Config.Controls.OutsideCollaboratorsPending && strings.EqualFold(r.args.AuthorAssociation, "OUTSIDE_COLLABORATOR")
}

// untrusted handles a requester below the trigger permission (or one who
// must wait): an approved run goes ahead; otherwise the run becomes
// pending (or is denied, as configured). The requester hears of it at most
// once per issue; later attempts get a reaction only.
func (r *run) untrusted(ctx context.Context, role, min string) (bool, error) {
	a := r.args
	if r.approvedBy != "" {
		return true, nil
	}
	reason := fmt.Sprintf("%s has %s permission; %s is required", a.RequesterLogin, role, min)
	if policy.Allows(role, min) {
		reason = a.RequesterLogin + " is an outside collaborator; a maintainer approves their runs"
	}
	if r.w.Config.Controls.Untrusted == "deny" {
		if err := r.replyOnce(ctx, "denied", journal.Denied, func() string { return deniedComment(a.RequesterLogin, min) }); err != nil {
			return false, err
		}
		return false, r.finish(ctx, stateDenied, telemetry.KindRunDenied, map[string]any{"reason": reason})
	}
	if err := r.replyOnce(ctx, "pending", journal.PendingComment, func() string { return pendingComment(a.RequesterLogin, min, a.RunID) }); err != nil {
		return false, err
	}
	return false, r.pend(ctx, reason, role, min)
}

// replyOnce comments (recorded under effect key) only the first time this
// person is answered on this issue for kind; otherwise it reacts.
func (r *run) replyOnce(ctx context.Context, kind string, key journal.Key, body func() string) error {
	a := r.args
	_, err := r.once(ctx, key, func() (string, error) {
		first, err := r.w.DB.ClaimReply(ctx, fmt.Sprintf("%s:%d#%d:%s", kind, a.RepoID, a.IssueNumber, strings.ToLower(a.RequesterLogin)))
		if err != nil {
			return "", err
		}
		if !first {
			return "reaction", r.reactWith(ctx, "confused")
		}
		return r.comment(ctx, body())
	})
	return err
}

// pend records the run as pending: done for now (the job completes), to
// be resumed by `@agentgate approve`.
func (r *run) pend(ctx context.Context, reason, role, min string) error {
	if err := r.auditEventOnce(ctx, journal.PendingEvent, telemetry.KindRunPending, map[string]any{"reason": reason, "permission": role, "required": min}); err != nil {
		return err
	}
	r.rt.SetOutcome(statePending)
	if err := r.w.DB.SetRunState(ctx, r.args.RunID, statePending); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	return r.w.DB.RecordEffect(ctx, r.args.RunID, journal.Done, statePending)
}

// pendingComment tells an untrusted requester their run waits.
func pendingComment(login, min, runID string) string {
	return fmt.Sprintf("Thanks @%s. agentgate runs are started by people with **%s** permission or more on this repository, so this request is **pending** (run `%s`). A maintainer can start it by commenting `@agentgate approve`.", login, min, runID)
}
