package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// Worker executes RunJobArgs jobs: plan, sandbox, push, review.
type Worker struct {
	river.WorkerDefaults[webhook.RunJobArgs]

	Config  Config
	DB      *store.DB
	Events  telemetry.Recorder // appends to DB; also feeds spans and metrics
	Metrics *telemetry.Metrics
	Clients *Clients
	Sandbox SandboxRunner
	// Harvest are the harvest's limits, which a change kept for its push
	// is held to again (pushkeep.go); zero: gitops' defaults, as the
	// sandbox's own.
	Harvest gitops.HarvestOptions
	Logger  *slog.Logger
	// Admission, when set, is the worker's CPU and memory budget.
	Admission *sandbox.Admission

	live liveAttempts // run attempts this process executes (slots.go)
}

// SandboxRunner is what the worker asks of a sandbox, and all it knows of
// one: run a task to a harvested change (Execute; the Attempt's Close
// releases it), make the workspace of a change an earlier attempt kept
// (Resume), and run a verification command on a pushed commit (Verify).
// *sandbox.Sandbox does them in Docker; tests of the GitHub side give the
// worker a fake (ServerOptions.Sandbox).
type SandboxRunner interface {
	Execute(ctx context.Context, t sandbox.Task) (*sandbox.Attempt, error)
	Resume(ctx context.Context, t sandbox.ResumeTask) (*sandbox.Attempt, error)
	Verify(ctx context.Context, t sandbox.VerifyTask) (sandbox.VerifyResult, error)
}

// Timeout lets a job run as long as its agent may, plus room for clone,
// push and review; River's default of one minute would cut runs short.
// The drain on SIGTERM covers it (Config.DrainTimeout).
func (w *Worker) Timeout(*river.Job[webhook.RunJobArgs]) time.Duration {
	return w.Config.JobTimeout() // a setup phase may take up to the agent's timeout too
}

// Run states stored in the runs table.
const (
	stateQueued   = "queued"
	stateRunning  = "running"
	stateDenied   = "denied"
	stateBusy     = "busy"
	stateIgnored  = "ignored"
	stateFinished = "finished" // with the outcome in the last event
)

// run is the state of one job while it executes: its issue (client,
// journal, lease holder) and its job args.
type run struct {
	*issue
	args webhook.RunJobArgs
	// retry is true when an earlier attempt of this job ran.
	retry bool
	rt    telemetry.RunTrace
	// policy is what the repository's configuration allows this run.
	policy *sandbox.RunPolicy
	cfg    *repoConfig
	draft  bool
	// cancelledBy names who asked to cancel (cancel.go); approvedBy the
	// maintainer who approved a pending run; minPermission the trigger
	// permission in force, checked again before the push.
	cancelledBy   func() string
	approvedBy    string
	minPermission string
	// planPhase: this attempt makes the plan (mode: plan); approvedPlan:
	// the approved plan the task includes (plangate.go).
	planPhase    bool
	approvedPlan string
	// commitAt is the time of the commit of a change kept for its push
	// (pushkeep.go); zero: now.
	commitAt time.Time
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[webhook.RunJobArgs]) error {
	a := job.Args
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("run_id", a.RunID, "delivery", a.DeliveryID, "repo", a.Owner+"/"+a.Repo, "issue", a.IssueNumber, "attempt", job.Attempt)
	ctx, rt := telemetry.StartRun(ctx, a.RunID, telemetry.RunAttrs{
		Repo: a.Owner + "/" + a.Repo, Issue: a.IssueNumber, Trigger: a.Trigger,
		Requester: a.RequesterLogin, Attempt: job.Attempt, DeliveryID: a.DeliveryID,
	})
	rt = rt.WithMetrics(w.Metrics).WithRedactor(w.DB.Redactor())
	if job.Attempt == 1 {
		rt.RecordPhase(ctx, telemetry.PhaseIntake, job.CreatedAt, time.Now(), nil)
	}
	r := newRun(w, a, log)
	r.retry, r.rt, r.holder = job.Attempt > 1, rt, runHolder(w.Config.WorkerID, job)
	w.live.add(r.holder)
	defer w.live.remove(r.holder)
	wctx, stopWatch := r.watchCancel(ctx)
	err := r.execute(wctx)
	if err != nil && r.wasCancelled(wctx) {
		err = r.cancelled(context.WithoutCancel(ctx))
	}
	stopWatch()
	r.unclaim(context.WithoutCancel(ctx))
	rt.End(err)
	if errors.Is(err, errRunLeaseHeld) || errors.Is(err, errRunLeaseLost) {
		log.Info("run held by another attempt: waiting", "err", err)
		return river.JobSnooze(runLeaseSnooze)
	}
	if errors.Is(err, errNoCapacity) || errors.Is(err, errInstallationBusy) {
		log.Info("no room for the run now: back to the queue", "err", err)
		return river.JobSnooze(admissionSnooze)
	}
	if err != nil {
		log.Error("run attempt failed", "err", err)
		if job.Attempt >= job.MaxAttempts {
			r.giveUp(context.WithoutCancel(ctx), err)
		}
	}
	return err
}

// audit appends an event to runID's audit trail (through Events, which
// also feeds spans and metrics, when set).
func (w *Worker) audit(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
	var rec telemetry.Recorder = w.DB
	if w.Events != nil {
		rec = w.Events
	}
	return telemetry.Record(ctx, rec, runID, kind, actor, attrs)
}

// auditEvent appends an event to the run's audit trail.
func (r *run) auditEvent(ctx context.Context, kind, actor string, attrs map[string]any) error {
	return r.w.audit(ctx, r.args.RunID, kind, actor, attrs)
}

func (r *run) leaseKey() string {
	return fmt.Sprintf("issue:%d#%d", r.args.RepoID, r.args.IssueNumber)
}

func (r *run) execute(ctx context.Context) error {
	a := r.args
	w := r.w
	crashPoint("work")
	if err := r.claim(ctx); err != nil {
		return err
	}
	cur, err := w.DB.EnsureRun(ctx, store.Run{
		ID: a.RunID, DeliveryID: a.DeliveryID, Repo: a.Owner + "/" + a.Repo,
		RepoID: a.RepoID, InstallationID: a.InstallationID, Issue: a.IssueNumber, Requester: a.RequesterLogin, State: stateQueued,
	})
	if err != nil {
		return fmt.Errorf("run row: %w", err)
	}
	if state, done, err := w.DB.Effect(ctx, a.RunID, journal.Done); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if done {
		if ok, err := r.resumable(ctx, state); err != nil || !ok {
			r.log.Info("run already finished", "state", cur.State)
			return err
		}
	}
	if err := r.saveArgs(ctx); err != nil {
		return err
	}
	// An earlier attempt may have acted and crashed before recording it:
	// then every side effect is looked up on GitHub before it is made.
	if _, seen, err := w.DB.Effect(ctx, a.RunID, journal.Received); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if seen {
		r.retry = true
	}
	if _, err := r.once(ctx, journal.Received, func() (string, error) {
		return "1", r.auditEvent(ctx, telemetry.KindWebhookReceived, a.RequesterLogin, map[string]any{
			"delivery_id": a.DeliveryID, "event": a.Event, "trigger": a.Trigger,
			"repo": a.Owner + "/" + a.Repo, "issue": a.IssueNumber, "comment_id": a.CommentID,
		})
	}); err != nil {
		return err
	}

	pctx, endPlan := r.rt.Phase(ctx, telemetry.PhasePlan)
	proceed, err := r.authorize(pctx)
	endPlan(err)
	if err != nil || !proceed {
		return err
	}
	if r.planPhase {
		return r.runPlanPhase(ctx) // plangate.go
	}

	if err := r.progress(ctx, "queued", "The agent will start shortly."); err != nil {
		return err
	}
	if err := w.DB.SetRunState(ctx, a.RunID, stateRunning); err != nil {
		return fmt.Errorf("run state: %w", err)
	}

	pushed, _, err := w.DB.Effect(ctx, a.RunID, journal.Pushed)
	if err != nil {
		return fmt.Errorf("effect: %w", err)
	}
	var agentSummary string
	if pushed == "" {
		var outcome sandbox.Outcome
		var reason string
		pushed, agentSummary, outcome, reason, err = r.sandboxOrResume(ctx) // pushkeep.go
		if err != nil {
			return err
		}
		if outcome != sandbox.OutcomeSucceeded {
			return r.failed(ctx, outcome, reason)
		}
	}
	sha, branch, _ := strings.Cut(pushed, " ")
	rctx, endReview := r.rt.Phase(ctx, telemetry.PhaseReview)
	err = r.review(rctx, sha, branch, agentSummary)
	endReview(err)
	return err
}

// authorize decides whether the run goes ahead: never for bots, only for
// requesters with enough permission, and only while no other run holds
// the issue. It reacts 👀 on the trigger once the run is accepted.
func (r *run) authorize(ctx context.Context) (bool, error) {
	a := r.args
	w := r.w
	// Bots never trigger, agentgate's own comments included. Intake drops
	// them already; this is the second line.
	if err := policy.IsBot(a.RequesterLogin, a.RequesterType, w.Config.BotLogin()); err != nil {
		return false, r.finish(ctx, stateIgnored, telemetry.KindRunDenied, map[string]any{"reason": err.Error()})
	}
	// The kill switches and the installation, before any API call.
	if ok, err := r.operatorAllows(ctx); err != nil || !ok {
		return false, err
	}

	gh, err := w.Clients.Installation(a.InstallationID, apiScope(a.RepoID))
	if err != nil {
		return false, err
	}
	r.gh = gh

	// The operator's minimum first: nobody below it makes agentgate read
	// anything of the repository. Then the repository's configuration,
	// whose minimum may be stricter.
	role, err := r.permission(ctx)
	if err != nil {
		return false, err
	}
	min := w.Config.MinPermission
	if policy.Allows(role, min) || r.approvedBy != "" {
		// The repository's configuration, under the org's; an invalid file
		// gets one comment naming the line, and no run.
		rc, err := r.loadConfig(ctx)
		var cerr *policy.ConfigError
		if errors.As(err, &cerr) {
			if _, err := r.once(ctx, journal.ConfigComment, func() (string, error) { return r.comment(ctx, configComment(cerr)) }); err != nil {
				return false, err
			}
			return false, r.finish(ctx, stateDenied, telemetry.KindRunDenied, map[string]any{"reason": "invalid configuration: " + cerr.Error()})
		}
		if err != nil {
			return false, fmt.Errorf("configuration: %w", err)
		}
		r.cfg = rc
		r.policy = w.Config.runPolicy(rc)
		r.draft = w.Config.DraftPRs || rc.Effective.Draft

		if policy.Allows(r.cfg.Effective.MinPermission, min) {
			min = r.cfg.Effective.MinPermission
		}
	}
	r.minPermission = min
	if !policy.Allows(role, min) || r.mustWait() {
		// Pending until a maintainer approves (approve_pending.go).
		if ok, err := r.untrusted(ctx, role, min); err != nil || !ok {
			return false, err
		}
	}
	if users, teams := r.cfg.Effective.AllowedUsers, r.cfg.Effective.AllowedTeams; len(users) > 0 || len(teams) > 0 {
		// Listed by login, or an active member of an allowed team
		// (teams.go). An approved run acts for its approver, who must be
		// listed as a requester would (the approval checked it; the list
		// may have changed since).
		who := a.RequesterLogin
		if r.approvedBy != "" {
			who = r.approvedBy
		}
		listed, err := r.allowedByList(ctx, who, users, teams)
		if err != nil {
			return false, err
		}
		if !listed {
			if _, err := r.once(ctx, journal.Denied, func() (string, error) {
				return r.comment(ctx, notListedComment(who))
			}); err != nil {
				return false, err
			}
			return false, r.finish(ctx, stateDenied, telemetry.KindRunDenied, map[string]any{
				"reason": who + " is not in the configuration's allowed_users nor an active member of its allowed_teams",
			})
		}
	}
	// An approved or retried run works from the text its approval or
	// retry named, read again now (approve_text.go).
	if ok, err := r.checkText(ctx); err != nil || !ok {
		return false, err
	}
	if ok, err := r.planGate(ctx); err != nil || !ok { // plangate.go
		return false, err
	}
	if ok, err := r.configAllows(ctx); err != nil || !ok {
		return false, err
	}
	if err := r.auditEventOnce(ctx, journal.AuthorizedEvent, telemetry.KindRunAuthorized, map[string]any{"permission": role, "required": min, "approved_by": r.approvedBy}); err != nil {
		return false, err
	}
	if _, err := r.once(ctx, journal.Reaction, func() (string, error) { return "eyes", r.reactWith(ctx, "eyes") }); err != nil {
		return false, err
	}

	ttl := 2*w.Config.Limits.Timeout + 30*time.Minute // setup phase and agent
	holder, ok, err := r.acquireLease(ctx, ttl)
	if err != nil {
		return false, fmt.Errorf("lease: %w", err)
	}
	if !ok {
		if _, err := r.once(ctx, journal.Busy, func() (string, error) { return r.comment(ctx, busyComment(holder)) }); err != nil {
			return false, err
		}
		return false, r.finish(ctx, stateBusy, telemetry.KindRunBusy, map[string]any{"active_run": holder})
	}
	return true, nil
}

// sandboxAndPush runs the agent and pushes its change. It returns the
// recorded push ("<sha> <branch>"), the agent's summary and the outcome.
func (r *run) sandboxAndPush(ctx context.Context) (pushed, agentSummary string, outcome sandbox.Outcome, reason string, err error) {
	a := r.args
	w := r.w
	limits := w.Config.Limits
	if r.policy != nil {
		limits = r.policy.Limits
	}
	release, err := r.admit(ctx, limits)
	if err != nil {
		return "", "", "", "", err
	}
	defer release()
	if err := r.progress(ctx, "running", "The agent is working in its sandbox."); err != nil {
		return "", "", "", "", err
	}
	cloneTok, err := w.Clients.Token(ctx, a.InstallationID, cloneScope(a.RepoID))
	if err != nil {
		return "", "", "", "", err
	}
	if err := r.requireLease(ctx); err != nil {
		return "", "", "", "", err
	}
	seed, err := r.canarySeed(ctx)
	if err != nil {
		return "", "", "", "", err
	}
	att, err := w.Sandbox.Execute(ctx, sandbox.Task{
		RunID: a.RunID, CloneURL: a.CloneURL, Branch: r.cloneBranch(), DefaultBranch: a.DefaultBranch, Token: cloneTok,
		Text: taskText(a) + r.planSection(), Actor: a.RequesterLogin, Policy: r.policy,
		Phase: r.phase, CanarySeed: seed,
	})
	if err != nil {
		return "", "", "", "", err
	}
	defer func() {
		if cerr := att.Close(); cerr != nil {
			r.log.Warn("run directory cleanup", "err", cerr)
		}
	}()
	if r.policy != nil && r.policy.Learn && att.Workspace != nil {
		r.proposeAllowlist(ctx, att.Workspace)
	}
	if att.Outcome == sandbox.OutcomeExfiltration && att.Workspace != nil {
		r.exfiltrationCheck(ctx, att.Workspace.BaseCommit, att.Reason)
	}
	if att.Outcome != sandbox.OutcomeSucceeded {
		return "", att.AgentSummary, att.Outcome, att.Reason, nil
	}
	if err := r.keep(ctx, att); err != nil { // pushkeep.go
		return "", "", "", "", err
	}
	if err := r.progress(ctx, "pushing", "The agent finished; pushing its change."); err != nil {
		return "", "", "", "", err
	}
	ctx, endPush := r.rt.Phase(ctx, telemetry.PhasePush)
	defer func() { endPush(err) }()
	pushed, outcome, reason, err = r.commitAndPush(ctx, att)
	if err != nil || outcome != sandbox.OutcomeSucceeded {
		return "", att.AgentSummary, outcome, reason, err
	}
	return pushed, att.AgentSummary, sandbox.OutcomeSucceeded, "", nil
}

// review opens (or updates) the pull request, creates the check run and
// finishes the progress comment.
func (r *run) review(ctx context.Context, sha, branch, agentSummary string) error {
	a := r.args
	if agentSummary == "" {
		agentSummary, _, _ = r.w.DB.Effect(ctx, a.RunID, journal.AgentSummary)
	}
	events, sum, err := r.succeededSummary(ctx)
	if err != nil {
		return err
	}
	budgetMD := r.budgetMarkdown(ctx, events)
	md := sum.MarkdownMax(maxRunMarkdown-len(budgetMD)) + budgetMD

	num, err := r.publish(ctx, branch, sha, md, func() string { return prBody(a, agentSummary, md) })
	if err != nil {
		return err
	}
	prURL := fmt.Sprintf("#%s", num)
	if err := r.afterCheck(ctx, num, sha, branch); err != nil {
		return err
	}
	if err := r.progress(ctx, "done", fmt.Sprintf("Pull request %s is ready for review. Merging it is the approval.%s%s\n\n%s", prURL, r.learnNote(ctx), r.protectNote(ctx), md)); err != nil {
		return err
	}
	return r.finish(ctx, stateFinished, telemetry.KindRunFinished, map[string]any{"outcome": string(sandbox.OutcomeSucceeded), "pull_request": num})
}

// failed ends a run whose agent did not produce a change: no pull request,
// no check run (there is no commit), the progress comment says why.
func (r *run) failed(ctx context.Context, outcome sandbox.Outcome, reason string) error {
	events, err := r.w.DB.Events(ctx, r.args.RunID)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	sum := telemetry.Summarize(events)
	sum.Outcome = string(outcome)
	sum.RunURL = r.w.Config.RunURL(r.args.RunID)
	if err := r.progress(ctx, string(outcome), reason+"."+r.learnNote(ctx)+"\n\n"+sum.MarkdownMax(maxRunMarkdown)); err != nil {
		return err
	}
	kind := telemetry.KindRunFailed
	if outcome == sandbox.OutcomeNoChange {
		kind = telemetry.KindRunFinished
	}
	return r.finish(ctx, stateFinished, kind, map[string]any{"outcome": string(outcome), "reason": reason})
}

// finish records the final event, marks the run done and frees the lease.
func (r *run) finish(ctx context.Context, state, kind string, attrs map[string]any) error {
	outcome, _ := attrs["outcome"].(string)
	if outcome == "" {
		outcome = state
	}
	r.rt.SetOutcome(outcome)
	if err := r.auditEventOnce(ctx, journal.FinalEvent, kind, attrs); err != nil {
		return err
	}
	if state == stateFinished {
		if err := r.attest(ctx); err != nil {
			return err
		}
	}
	if err := r.w.DB.SetRunState(ctx, r.args.RunID, state); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	if err := r.w.DB.ReleaseLease(ctx, r.leaseKey(), r.args.RunID); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	if err := r.w.DB.DropKeptChange(ctx, r.args.RunID); err != nil { // pushkeep.go
		return err
	}
	return r.w.DB.RecordEffect(ctx, r.args.RunID, journal.Done, state)
}

// giveUp is called when the last attempt failed: the requester hears of it.
func (r *run) giveUp(ctx context.Context, cause error) {
	if r.gh == nil {
		return
	}
	if err := r.progress(ctx, "failed", "agentgate could not complete this run after several attempts. An operator can find the cause in the logs under this run id."); err != nil {
		r.log.Warn("final progress comment", "err", err)
	}
	if err := r.finish(ctx, stateFinished, telemetry.KindRunFailed, map[string]any{"outcome": string(sandbox.OutcomeSandboxError), "reason": cause.Error()}); err != nil {
		r.log.Warn("finish run", "err", err)
	}
}

// auditEventOnce appends an event by agentgate to the run's trail once
// (under effect key).
func (r *run) auditEventOnce(ctx context.Context, key journal.Key, kind string, attrs map[string]any) error {
	_, err := r.once(ctx, key, func() (string, error) { return "1", r.auditEvent(ctx, kind, "agentgate", attrs) })
	return err
}

// permission reads the requester's role on the repository.
func (r *run) permission(ctx context.Context) (string, error) {
	return r.permissionOf(ctx, r.args.RequesterLogin)
}

// progress creates the run's progress comment once and edits it after.
func (r *run) progress(ctx context.Context, state, detail string) error {
	a := r.args
	body := progressComment(a.RunID, state, detail)
	created := false
	id, err := r.once(ctx, journal.Progress, func() (string, error) {
		if r.retry {
			// A crash may have struck between creating the comment and
			// recording it: find it before creating another.
			if id, ok, err := r.findProgressComment(ctx); err != nil {
				return "", err
			} else if ok {
				return id, nil
			}
		}
		created = true
		return r.comment(ctx, body)
	})
	if err != nil || created {
		return err
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("progress comment id %q: %w", id, err)
	}
	if err := r.requireLease(ctx); err != nil {
		return err
	}
	if _, _, err := r.gh.Issues.EditComment(ctx, a.Owner, a.Repo, n, &github.IssueComment{Body: github.String(body)}); err != nil {
		return fmt.Errorf("edit progress comment: %w", err)
	}
	return nil
}

func (r *run) findProgressComment(ctx context.Context) (string, bool, error) {
	a := r.args
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	needle := progressMarker + "\n**agentgate** run `" + a.RunID + "`"
	for {
		cs, resp, err := r.gh.Issues.ListComments(ctx, a.Owner, a.Repo, a.IssueNumber, opts)
		if err != nil {
			return "", false, fmt.Errorf("list comments: %w", err)
		}
		for _, c := range cs {
			if strings.HasPrefix(c.GetBody(), needle) && strings.EqualFold(c.GetUser().GetLogin(), r.w.Config.BotLogin()) {
				return strconv.FormatInt(c.GetID(), 10), true, nil
			}
		}
		if resp.NextPage == 0 {
			return "", false, nil
		}
		opts.Page = resp.NextPage
	}
}

// openPR finds the open pull request for branch or creates it, and returns its number.
func (r *run) openPR(ctx context.Context, branch, body string) (string, error) {
	a := r.args
	prs, _, err := r.gh.PullRequests.List(ctx, a.Owner, a.Repo, &github.PullRequestListOptions{
		Head: a.Owner + ":" + branch, State: "open",
	})
	if err != nil {
		return "", fmt.Errorf("list pull requests: %w", err)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() == branch {
			if _, _, err := r.gh.PullRequests.Edit(ctx, a.Owner, a.Repo, pr.GetNumber(), &github.PullRequest{Body: github.String(body)}); err != nil {
				return "", fmt.Errorf("update pull request: %w", err)
			}
			return strconv.Itoa(pr.GetNumber()), nil
		}
	}
	pr, _, err := r.gh.PullRequests.Create(ctx, a.Owner, a.Repo, &github.NewPullRequest{
		Title: github.String(gitops.OneLine("agentgate: "+a.IssueTitle, 120)),
		Head:  github.String(branch),
		Base:  github.String(a.DefaultBranch),
		Body:  github.String(body),
		Draft: github.Bool(r.draft),
	})
	if err != nil {
		return "", fmt.Errorf("create pull request: %w", err)
	}
	return strconv.Itoa(pr.GetNumber()), nil
}

// checkRun creates the completed `agentgate` check run on sha (or finds the
// one an earlier attempt created) and returns its id.
func (r *run) checkRun(ctx context.Context, sha, summary string) (string, error) {
	a := r.args
	if r.retry {
		res, _, err := r.gh.Checks.ListCheckRunsForRef(ctx, a.Owner, a.Repo, sha, &github.ListCheckRunsOptions{CheckName: github.String("agentgate")})
		if err != nil {
			return "", fmt.Errorf("list check runs: %w", err)
		}
		for _, c := range res.CheckRuns {
			if c.GetExternalID() == a.RunID {
				return strconv.FormatInt(c.GetID(), 10), nil
			}
		}
	}
	cr, _, err := r.gh.Checks.CreateCheckRun(ctx, a.Owner, a.Repo, r.checkRunOptions(ctx, sha, summary))
	if err != nil {
		return "", fmt.Errorf("create check run: %w", err)
	}
	return strconv.FormatInt(cr.GetID(), 10), nil
}

// succeededSummary is the run's events and their summary as a succeeded
// run's pull request and check show it: the outcome, the run page link
// and the audit chain head.
func (r *run) succeededSummary(ctx context.Context) ([]telemetry.Event, telemetry.Summary, error) {
	events, err := r.w.DB.Events(ctx, r.args.RunID)
	if err != nil {
		return nil, telemetry.Summary{}, fmt.Errorf("read events: %w", err)
	}
	sum := telemetry.Summarize(events)
	sum.Outcome = string(sandbox.OutcomeSucceeded)
	sum.RunURL = r.w.Config.RunURL(r.args.RunID)
	if head, err := r.w.DB.RunHead(ctx, r.args.RunID); err == nil {
		sum.Footer = "\n**Audit chain head:** `" + head + "` (verify with `agentgate audit verify`)\n"
	}
	return events, sum, nil
}

// publish opens the run's pull request from branch (its body made only
// when it is first opened) and the check run md on sha, each once and
// each with its audit event, and returns the pull request's number.
func (r *run) publish(ctx context.Context, branch, sha, md string, body func() string) (string, error) {
	num, err := r.once(ctx, journal.PR, func() (string, error) { return r.openPR(ctx, branch, body()) })
	if err != nil {
		return "", err
	}
	if err := r.auditEventOnce(ctx, journal.PREvent, telemetry.KindPROpened, map[string]any{"number": num, "branch": branch, "commit": sha}); err != nil {
		return "", err
	}
	if _, err := r.once(ctx, journal.Check, func() (string, error) { return r.checkRun(ctx, sha, md) }); err != nil {
		return "", err
	}
	if err := r.auditEventOnce(ctx, journal.CheckEvent, telemetry.KindCheckCreated, map[string]any{"commit": sha}); err != nil {
		return "", err
	}
	return num, nil
}
