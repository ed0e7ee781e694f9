package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/store"
)

// endReasons says why an issues action ends the issue's runs.
var endReasons = map[string]string{
	"closed":      "the issue was closed",
	"deleted":     "the issue was deleted",
	"transferred": "the issue was transferred to another repository",
}

// issueEnded follows issues.closed, .deleted and .transferred: every run
// on the issue that has not ended (queued, running, pending or planned) is
// cancelled, whoever ended the issue. A running run's worker stops and
// removes its sandbox within a second or so; a waiting one is closed at
// once. The progress comment says why (when the issue can still be
// written to).
func (ev *eventJob) issueEnded(ctx context.Context, _ jobs.IssueEnded) error {
	why, ok := endReasons[ev.a.Action]
	if !ok {
		return nil
	}
	runs, err := ev.liveRuns(ctx)
	if err != nil {
		return err
	}
	for _, t := range runs {
		if err := ev.cancelFor(ctx, t, why); err != nil {
			return err
		}
	}
	return nil
}

// commentDeleted follows issue_comment.deleted on an issue: a run still
// waiting for a person (pending or planned) that the comment asked for is
// dropped. A run already going on is not: cancelling it takes
// `@agentgate cancel` or closing the issue.
func (ev *eventJob) commentDeleted(ctx context.Context, _ jobs.CommentDeleted) error {
	if ev.a.CommentID == 0 {
		return nil
	}
	runs, err := ev.w.DB.RunsOnIssue(ctx, ev.a.RepoID, ev.a.Number)
	if err != nil {
		return err
	}
	for _, t := range runs {
		if t.State != statePending && t.State != statePlanned {
			continue
		}
		args, ok, err := ev.w.loadArgs(ctx, t.ID)
		if err != nil {
			return err
		}
		if !ok || args.CommentID != ev.a.CommentID || args.IssueNumber != ev.a.Number {
			continue
		}
		if err := ev.cancelFor(ctx, t, "the comment that asked for it was deleted"); err != nil {
			return err
		}
	}
	return nil
}

// liveRuns are the issue's runs that have not ended: the lease holder and
// every run queued, running, pending or planned.
func (ev *eventJob) liveRuns(ctx context.Context) ([]store.Run, error) {
	runs, err := ev.w.DB.RunsOnIssue(ctx, ev.a.RepoID, ev.a.Number)
	if err != nil {
		return nil, err
	}
	var out []store.Run
	seen := map[string]bool{}
	for _, r := range runs {
		switch r.State {
		case stateQueued, stateRunning, statePending, statePlanned:
			out, seen[r.ID] = append(out, r), true
		}
	}
	holder, err := ev.w.DB.ActiveLeaseHolder(ctx, fmt.Sprintf("issue:%d#%d", ev.a.RepoID, ev.a.Number))
	if err != nil {
		return nil, err
	}
	if holder != "" && !seen[holder] {
		if r, err := ev.w.DB.GetRun(ctx, holder); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// cancelFor cancels run t because of why, on behalf of the event's actor:
// the request is recorded (the running worker stops the sandbox and
// reports); a run waiting for a person is closed here.
func (ev *eventJob) cancelFor(ctx context.Context, t store.Run, why string) error {
	if _, ok, err := ev.w.DB.Effect(ctx, t.ID, journal.CancelReason); err != nil {
		return err
	} else if !ok {
		if err := ev.w.DB.RecordEffect(ctx, t.ID, journal.CancelReason, why); err != nil {
			return err
		}
	}
	if err := ev.w.requestCancel(ctx, t.ID, ev.a.ActorLogin); err != nil {
		return err
	}
	ev.log.Info("run cancelled", "run_id", t.ID, "state", t.State, "why", why)
	if t.State != statePending && t.State != statePlanned {
		return nil
	}
	args, ok, err := ev.w.loadArgs(ctx, t.ID)
	if err != nil || !ok {
		return fmt.Errorf("%s run %s: job not recorded: %v", t.State, t.ID, err)
	}
	r, err := ev.runOf(args)
	if err != nil {
		return err
	}
	r.cancelledBy = func() string { return ev.a.ActorLogin }
	return r.cancelled(ctx)
}

// cancelMessage is the progress comment of a run cancelled by by, for why
// ("" for `@agentgate cancel`).
func cancelMessage(by, why string) string {
	if why == "" {
		return fmt.Sprintf("Cancelled by @%s. The sandbox was stopped and removed; nothing was pushed.", by)
	}
	return fmt.Sprintf("Cancelled because %s (by @%s). The sandbox was stopped and removed; nothing was pushed.", why, by)
}

// suiteRerun follows check_suite.rerequested on agentgate's branch: the
// suite must be this app's, and its head commit one a run pushed on this
// repository; that run is re-run as check_run.rerequested would.
func (ev *eventJob) suiteRerun(ctx context.Context, a jobs.SuiteRerun) error {
	if app := ev.w.Config.AppID; app != 0 && a.AppID != app {
		ev.log.Info("check suite of another app: ignored", "app_id", a.AppID)
		return nil
	}
	pushed, err := ev.w.DB.EffectsByKey(ctx, journal.Pushed)
	if err != nil {
		return err
	}
	for runID, v := range pushed {
		sha, branch, _ := strings.Cut(v, " ")
		if sha != a.HeadSHA || (a.HeadRef != "" && branch != a.HeadRef) {
			continue
		}
		r, err := ev.w.DB.GetRun(ctx, runID)
		if err != nil || r.RepoID != a.RepoID || r.InstallationID != a.InstallationID {
			continue
		}
		return ev.retry(ctx, runID, viaCheckSuite)
	}
	ev.log.Info("check suite on a commit no run pushed: ignored", "head_sha", a.HeadSHA)
	return nil
}
