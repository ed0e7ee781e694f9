package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// taskRef is where a run's task text lives on GitHub: the issue (title
// and body) and the comment the instructions came from (0: none).
type taskRef struct {
	Issue   int   `json:"issue"`
	Comment int64 `json:"comment,omitempty"`
}

// taskRefOf is where the text of a run started with args lives: for a
// follow-up, the issue its pull request fixes (its instructions are the
// feedback, kept apart); otherwise the issue and the trigger comment.
func taskRefOf(a webhook.RunJobArgs) taskRef {
	if f := a.FollowUp; f != nil {
		if f.Issue != 0 {
			return taskRef{Issue: f.Issue}
		}
		return taskRef{Issue: a.IssueNumber}
	}
	return taskRef{Issue: a.IssueNumber, Comment: a.CommentID}
}

// taskRefFor is where the text of run runID (started with args) lives: as
// a retry recorded it, or as args say.
func (w *Worker) taskRefFor(ctx context.Context, runID string, args webhook.RunJobArgs) (taskRef, error) {
	v, ok, err := w.DB.Effect(ctx, runID, journal.TaskSource)
	if err != nil {
		return taskRef{}, fmt.Errorf("effect: %w", err)
	}
	if ok {
		var ref taskRef
		if err := json.Unmarshal([]byte(v), &ref); err != nil {
			return taskRef{}, fmt.Errorf("run %s task source: %w", runID, err)
		}
		return ref, nil
	}
	return taskRefOf(args), nil
}

// taskTextNow is the task text as it is on GitHub now.
type taskTextNow struct {
	Title, Body, Instructions string
	// Gone: the issue or the comment no longer exists, or the comment is
	// no longer addressed to agentgate.
	Gone bool
}

// hash is the SHA-256 an approval names.
func (t taskTextNow) hash() string {
	if t.Gone {
		return "gone"
	}
	b, _ := json.Marshal([]string{t.Title, t.Body, t.Instructions})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readTaskText reads the task text at ref as it is now: the issue's title
// and body and the instructions after the mention in the comment.
func readTaskText(ctx context.Context, gh *github.Client, owner, repo, mention string, ref taskRef) (taskTextNow, error) {
	notFound := func(err error) bool {
		var er *github.ErrorResponse
		return errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == http.StatusNotFound || er.Response.StatusCode == http.StatusGone)
	}
	is, _, err := gh.Issues.Get(ctx, owner, repo, ref.Issue)
	if notFound(err) {
		return taskTextNow{Gone: true}, nil
	}
	if err != nil {
		return taskTextNow{}, fmt.Errorf("read issue #%d: %w", ref.Issue, err)
	}
	t := taskTextNow{Title: is.GetTitle(), Body: is.GetBody()}
	if ref.Comment != 0 {
		c, _, err := gh.Issues.GetComment(ctx, owner, repo, ref.Comment)
		if notFound(err) {
			return taskTextNow{Gone: true}, nil
		}
		if err != nil {
			return taskTextNow{}, fmt.Errorf("read comment %d: %w", ref.Comment, err)
		}
		in, ok := webhook.ParseMention(c.GetBody(), mention)
		if !ok {
			return taskTextNow{Gone: true}, nil
		}
		t.Instructions = in
	}
	return t, nil
}

// approvedText reads the task text of run runID now, for an approval or a
// retry to name.
func (ev *eventJob) approvedText(ctx context.Context, runID string, args webhook.RunJobArgs) (taskRef, taskTextNow, error) {
	ref, err := ev.w.taskRefFor(ctx, runID, args)
	if err != nil {
		return taskRef{}, taskTextNow{}, err
	}
	gh, err := ev.client()
	if err != nil {
		return taskRef{}, taskTextNow{}, err
	}
	t, err := readTaskText(ctx, gh, ev.a.Owner, ev.a.Repo, ev.w.Config.Mention, ref)
	return ref, t, err
}

// nameText reads the task text of run runID now and records its hash as
// the one the approval being given names. It returns "" (and answers the
// approver) when the text is gone.
func (ev *eventJob) nameText(ctx context.Context, runID string, args webhook.RunJobArgs) (string, error) {
	_, t, err := ev.approvedText(ctx, runID, args)
	if err != nil {
		return "", err
	}
	if t.Gone {
		return "", ev.refuse(ctx, "The issue or the comment this run works from is gone or no longer addresses agentgate, so it cannot be approved.")
	}
	h := t.hash()
	if err := ev.w.DB.RecordEffect(ctx, runID, journal.TextApproved, h); err != nil {
		return "", err
	}
	return h, nil
}

// checkText holds an approved or retried run to the text its approval
// named: the text is read again now; the same text (by hash) becomes the
// run's task, a changed one voids the approval (the run waits again, or a
// retry is refused) and nothing runs. Runs that no approval or retry
// names a text for go on with the text captured at their trigger.
func (r *run) checkText(ctx context.Context) (bool, error) {
	a := r.args
	want, ok, err := r.w.DB.Effect(ctx, a.RunID, journal.TextApproved)
	if err != nil {
		return false, fmt.Errorf("effect: %w", err)
	}
	if !ok || want == "" {
		return true, nil
	}
	ref, err := r.w.taskRefFor(ctx, a.RunID, a)
	if err != nil {
		return false, err
	}
	now, err := readTaskText(ctx, r.gh, a.Owner, a.Repo, r.w.Config.Mention, ref)
	if err != nil {
		return false, err
	}
	if got := now.hash(); got == want {
		r.args.IssueTitle, r.args.IssueBody = now.Title, now.Body
		if ref.Comment != 0 {
			r.args.Instructions = now.Instructions
		}
		return true, nil
	}
	planned, _, err := r.w.DB.Effect(ctx, a.RunID, journal.PlanApproved)
	if err != nil {
		return false, fmt.Errorf("effect: %w", err)
	}
	attrs := map[string]any{"approved_sha256": want, "now_sha256": now.hash()}
	if r.approvedBy == "" && planned == "" {
		// A retry: refused; whoever wants it asks again.
		attrs["reason"] = "the task text changed after the retry was asked for"
		if err := r.auditEvent(ctx, telemetry.KindTextChanged, "agentgate", attrs); err != nil {
			return false, err
		}
		if _, err := r.once(ctx, journal.Denied, func() (string, error) {
			return r.comment(ctx, fmt.Sprintf("The issue or the comment this run (`%s`) would work from changed after the retry was asked for, so it did not start: ask again to run the text as it is now.", a.RunID))
		}); err != nil {
			return false, err
		}
		return false, r.finish(ctx, stateDenied, telemetry.KindRunDenied, map[string]any{"reason": attrs["reason"]})
	}
	// An approval: void. The run waits for a new one.
	attrs["reason"] = "the task text changed after the approval"
	if err := r.auditEvent(ctx, telemetry.KindTextChanged, "agentgate", attrs); err != nil {
		return false, err
	}
	state, key := statePending, journal.RunApproved
	if planned != "" {
		state, key = statePlanned, journal.PlanApproved
	}
	for _, k := range []journal.Key{key, journal.TextApproved} {
		if err := r.w.DB.RecordEffect(ctx, a.RunID, k, ""); err != nil {
			return false, err
		}
	}
	if _, err := r.once(ctx, journal.TextChanged(a.ApprovalDelivery), func() (string, error) {
		return r.comment(ctx, fmt.Sprintf("The issue or the comment run `%s` works from changed after it was approved, so the approval is void and nothing ran. Read the text as it is now; someone who may approve it can start it with `%s approve`.", a.RunID, r.w.Config.Mention))
	}); err != nil {
		return false, err
	}
	r.rt.SetOutcome(state)
	if err := r.w.DB.SetRunState(ctx, a.RunID, state); err != nil {
		return false, fmt.Errorf("run state: %w", err)
	}
	return false, nil
}
