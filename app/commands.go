package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// helpText lists the commands.
func helpText(mention string) string {
	return fmt.Sprintf(`**agentgate** commands (a comment with a line that starts with %[1]s):

| comment | what it does |
| --- | --- |
| %[1]s *task* | start a run on this issue; on agentgate's pull request, a follow-up run with your feedback |
| %[1]s status | the runs on this issue or pull request |
| %[1]s cancel [*run id*] | stop the active (or pending) run; its sandbox is removed and nothing is pushed |
| %[1]s retry [*run id*] | run the latest finished run again (Re-run on the agentgate check does the same) |
| %[1]s approve [*run id*] | start a pending run (someone who could start it themselves, not its requester) or a planned one (the requester too) |
| %[1]s revert | on a merged pull request agentgate opened: a pull request that reverts it, committed by agentgate from the merge commit (no agent runs; the trigger permission) |
| %[1]s help | this list |

A command is the word alone; anything else after the mention is a task.`, "`"+mention+"`")
}

// commands are the comment commands' handlers, by command word.
var commands = map[string]func(ev *eventJob, ctx context.Context, a jobs.Command) error{
	webhook.CmdHelp:    func(ev *eventJob, ctx context.Context, _ jobs.Command) error { return ev.help(ctx) },
	webhook.CmdStatus:  func(ev *eventJob, ctx context.Context, a jobs.Command) error { return ev.status(ctx, a.RunID) },
	webhook.CmdCancel:  func(ev *eventJob, ctx context.Context, a jobs.Command) error { return ev.cancel(ctx, a.RunID) },
	webhook.CmdRetry:   func(ev *eventJob, ctx context.Context, a jobs.Command) error { return ev.retry(ctx, a.RunID, "") },
	webhook.CmdApprove: func(ev *eventJob, ctx context.Context, a jobs.Command) error { return ev.approve(ctx, a.RunID) },
	webhook.CmdRevert:  func(ev *eventJob, ctx context.Context, _ jobs.Command) error { return ev.revert(ctx) },
}

// command handles a comment command (jobs.Command).
func (ev *eventJob) command(ctx context.Context, a jobs.Command) error {
	h, ok := commands[a.Name]
	if !ok {
		ev.log.Warn("unknown command: ignored", "command", a.Name)
		return nil
	}
	return h(ev, ctx, a)
}

// rerun handles "Re-run" on agentgate's check (jobs.Rerun): the run is
// retried.
func (ev *eventJob) rerun(ctx context.Context, a jobs.Rerun) error {
	return ev.retry(ctx, a.RunID, viaCheckRun)
}

// help answers `@agentgate help`.
func (ev *eventJob) help(ctx context.Context) error {
	return ev.reply(ctx, helpText(ev.w.Config.Mention))
}

// status answers `@agentgate status` with the issue's latest runs.
func (ev *eventJob) status(ctx context.Context, runID string) error {
	runs, err := ev.w.DB.RunsOnIssue(ctx, ev.a.RepoID, ev.a.Number)
	if err != nil {
		return err
	}
	if runID != "" {
		runs = filterRuns(runs, runID)
	}
	if len(runs) == 0 {
		return ev.reply(ctx, "agentgate has no runs on this issue.")
	}
	var b strings.Builder
	b.WriteString("| run | state | requested by | started |\n| --- | --- | --- | --- |\n")
	for i, r := range runs {
		if i == 10 {
			fmt.Fprintf(&b, "\n…and %d earlier runs.\n", len(runs)-10)
			break
		}
		state := r.State
		if v, ok, err := ev.w.DB.Effect(ctx, r.ID, journal.Done); err == nil && ok {
			state = v
		}
		fmt.Fprintf(&b, "| `%s` | %s | @%s | %s |\n", r.ID, state, r.Requester, r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return ev.reply(ctx, b.String())
}

// filterRuns keeps the run with id.
func filterRuns(runs []store.Run, id string) []store.Run {
	for _, r := range runs {
		if strings.EqualFold(r.ID, id) {
			return []store.Run{r}
		}
	}
	return nil
}

// target finds the run a command is about: the one it names (runID, on
// this issue), else the newest run on the issue in one of states.
func (ev *eventJob) target(ctx context.Context, runID string, states ...string) (store.Run, bool, error) {
	runs, err := ev.w.DB.RunsOnIssue(ctx, ev.a.RepoID, ev.a.Number)
	if err != nil {
		return store.Run{}, false, err
	}
	if runID != "" {
		runs = filterRuns(runs, runID)
	}
	for _, r := range runs {
		for _, s := range states {
			if r.State == s {
				return r, true, nil
			}
		}
	}
	return store.Run{}, false, nil
}

// cancel answers `@agentgate cancel`: the active run is asked to stop (its
// worker kills the container within a second or so and reports), a
// pending run is closed at once. The requester may cancel their own run;
// anyone else needs the trigger permission.
func (ev *eventJob) cancel(ctx context.Context, runID string) error {
	active := ""
	if runID == "" {
		h, err := ev.w.DB.ActiveLeaseHolder(ctx, fmt.Sprintf("issue:%d#%d", ev.a.RepoID, ev.a.Number))
		if err != nil {
			return err
		}
		active = h
	}
	var t store.Run
	var found bool
	var err error
	if active != "" {
		t, err = ev.w.DB.GetRun(ctx, active)
		found = err == nil
	} else {
		t, found, err = ev.target(ctx, runID, stateQueued, stateRunning, statePending, statePlanned)
	}
	if err != nil {
		return err
	}
	if !found {
		return ev.reply(ctx, "agentgate has no active or pending run on this issue to cancel.")
	}
	if !strings.EqualFold(t.Requester, ev.a.ActorLogin) {
		if ok, _, err := ev.authorize(ctx, webhook.CmdCancel); err != nil || !ok {
			return err
		}
	}
	if err := ev.w.requestCancel(ctx, t.ID, ev.a.ActorLogin); err != nil {
		return err
	}
	if t.State == statePending || t.State == statePlanned {
		args, ok, err := ev.w.loadArgs(ctx, t.ID)
		if err != nil || !ok {
			return fmt.Errorf("pending run %s: job not recorded: %v", t.ID, err)
		}
		r, err := ev.runOf(args)
		if err != nil {
			return err
		}
		r.cancelledBy = func() string { return ev.a.ActorLogin }
		if err := r.cancelled(ctx); err != nil {
			return err
		}
		if err := ev.react(ctx, "+1"); err != nil {
			return err
		}
		return ev.reply(ctx, fmt.Sprintf("%s run `%s` cancelled.", strings.ToUpper(t.State[:1])+t.State[1:], t.ID))
	}
	return ev.react(ctx, "+1")
}

// approve answers `@agentgate approve`: someone the policy would let
// start the run themselves (the trigger permission, allowed_users /
// allowed_teams, the outside-collaborator rule), who is not the requester
// (compared by user id), starts the pending run. The approval, its author
// and the hash of the task text it saw are audit events on the run.
func (ev *eventJob) approve(ctx context.Context, runID string) error {
	t, found, err := ev.target(ctx, runID, statePending, statePlanned)
	if err != nil {
		return err
	}
	if !found {
		return ev.reply(ctx, "agentgate has no pending run on this issue to approve.")
	}
	if t.State == statePlanned {
		return ev.approvePlan(ctx, t.ID, t.Requester) // plangate.go
	}
	args, found, err := ev.w.loadArgs(ctx, t.ID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("pending run %s: job not recorded", t.ID)
	}
	if sameUser(ev.actor(), person{Login: args.RequesterLogin, ID: args.RequesterID}) {
		return ev.refuse(ctx, fmt.Sprintf("Sorry @%s, a run cannot be approved by the person who asked for it: someone else with the trigger permission approves it.", ev.a.ActorLogin))
	}
	ok, role, err := ev.mayApprove(ctx)
	if err != nil || !ok {
		return err
	}
	if by, ok, err := ev.w.DB.Effect(ctx, t.ID, journal.RunApproved); err != nil {
		return err
	} else if !ok || by == "" {
		// The approval names the task text it saw (approve_text.go).
		text, err := ev.nameText(ctx, t.ID, args)
		if err != nil || text == "" {
			return err
		}
		if err := ev.audit(ctx, t.ID, telemetry.KindRunApproved, ev.a.ActorLogin, map[string]any{
			"requester": t.Requester, "permission": role, "comment_id": ev.a.CommentID, "text_sha256": text,
		}); err != nil {
			return err
		}
		if err := ev.w.DB.RecordEffect(ctx, t.ID, journal.RunApproved, ev.a.ActorLogin); err != nil {
			return err
		}
	}
	if err := ev.w.DB.SetRunState(ctx, t.ID, stateQueued); err != nil {
		return err
	}
	// Unique by the trigger's delivery and the approval's: a retried
	// approval never queues the run twice, and the trigger's own finished
	// (pending) job does not count as this one.
	args.ApprovalDelivery = ev.a.DeliveryID
	if err := enqueue(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	return ev.react(ctx, "rocket")
}

// How a retry was asked for (retry's via).
const (
	viaComment    = ""            // `@agentgate retry`
	viaCheckRun   = "rerun"       // Re-run on the agentgate check
	viaCheckSuite = "suite_rerun" // Re-run all checks on its suite
)

// retry answers `@agentgate retry` and the check re-runs (via): the run
// (runID, or for a comment the issue's latest finished one) is started
// again as a new run, asked for by the actor (whose permission the new run
// checks as for any trigger).
func (ev *eventJob) retry(ctx context.Context, runID, via string) error {
	var old store.Run
	var found bool
	var err error
	if via != viaComment {
		old, err = ev.w.DB.GetRun(ctx, runID)
		found = err == nil && old.RepoID == ev.a.RepoID && old.InstallationID == ev.a.InstallationID
		err = nil
	} else {
		old, found, err = ev.target(ctx, runID, stateFinished, stateCancelled, statePlanned)
	}
	if err != nil {
		return err
	}
	if !found {
		return ev.reply(ctx, "agentgate has no finished run here to retry.")
	}
	args, ok, err := ev.w.loadArgs(ctx, old.ID)
	if err != nil {
		return err
	}
	if !ok {
		if _, revert, err := ev.w.DB.Effect(ctx, old.ID, journal.Revert); err != nil || revert {
			if err != nil {
				return err
			}
			if via == viaCheckRun { // no comment to answer
				ev.log.Info("re-run of a revert: ignored", "run_id", old.ID)
				return nil
			}
			return ev.reply(ctx, fmt.Sprintf("Run `%s` is a revert, made by agentgate without an agent: it is not run again. Comment `%s revert` on the reverted pull request for a new one.", old.ID, ev.w.Config.Mention))
		}
		return fmt.Errorf("run %s: job not recorded", old.ID)
	}
	newID := uuid.NewSHA1(uuid.NameSpaceOID, []byte("agentgate-retry:"+ev.a.DeliveryID)).String()
	// A retry runs the task text as it is now, not as captured at the
	// first trigger, and names it: the new run reads it again when it
	// starts (approve_text.go).
	ref, text, err := ev.approvedText(ctx, old.ID, args)
	if err != nil {
		return err
	}
	if text.Gone {
		return ev.reply(ctx, "The issue or the comment that run `"+old.ID+"` worked from is gone or no longer addresses agentgate: there is nothing to retry.")
	}
	args.IssueTitle, args.IssueBody = text.Title, text.Body
	if ref.Comment != 0 {
		args.Instructions = text.Instructions
	}
	refJSON, _ := json.Marshal(ref)
	for _, e := range []journal.Entry{{Key: journal.TaskSource, Value: string(refJSON)}, {Key: journal.TextApproved, Value: text.hash()}} {
		if err := ev.w.DB.RecordEffect(ctx, newID, e.Key, e.Value); err != nil {
			return err
		}
	}
	args.RunID, args.DeliveryID, args.RetryOf = newID, ev.a.DeliveryID, old.ID
	args.RequesterLogin, args.RequesterID, args.RequesterType = ev.a.ActorLogin, ev.a.ActorID, ev.a.ActorType
	args.AuthorAssociation, args.CommentID = ev.a.AuthorAssociation, ev.a.CommentID
	if via != viaComment {
		args.Trigger = "rerun"
	} else {
		args.Trigger = "retry"
	}
	if _, done, err := ev.w.DB.Effect(ctx, old.ID, journal.Retried(newID)); err != nil || done {
		return err
	}
	if err := enqueue(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	if err := ev.audit(ctx, old.ID, telemetry.KindRunRetried, ev.a.ActorLogin, map[string]any{"new_run": newID, "trigger": args.Trigger}); err != nil {
		return err
	}
	return ev.w.DB.RecordEffect(ctx, old.ID, journal.Retried(newID), "1")
}
