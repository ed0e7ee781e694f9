package webhook

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"
)

// More reasons a delivery starts nothing (Route's reason).
const (
	ReasonNotOurs    = "not agentgate's branch or check"
	ReasonNoFeedback = "review does not request changes from the app"
)

// Routed is intake's decision for one delivery: a new run, an event job,
// or (both nil) nothing.
type Routed struct {
	Run   *RunJobArgs
	Event *EventJobArgs
}

// route parses one event (or event.action) into a job.
type route func(payload []byte, cfg Config) (Routed, string, error)

// routes is the dispatch table: "event.action" first, then "event". To
// route a new event or action, add a row (check_run.requested_action is
// the next one).
var routes = map[string]route{
	"issue_comment":                       routeComment,
	"issue_comment.edited":                routeCommentChange,
	"issue_comment.deleted":               routeCommentChange,
	"issues":                              routeRun("issues"),
	"pull_request.closed":                 routePRClosed,
	"pull_request_review":                 routeReview,
	"pull_request_review_comment":         routeReviewComment,
	"pull_request_review_comment.edited":  routeReviewCommentChange,
	"pull_request_review_comment.deleted": routeReviewCommentChange,
	"check_run.rerequested":               routeRerun,
	"installation":                        routeInstallation,
	"installation_repositories":           routeInstallation,
}

// Route decides what a delivery of event starts: a run (new work on an
// issue), an event job (a command, feedback, a lifecycle event), or
// nothing, with the reason. An error means the payload is malformed.
// Route is pure: no API call, no database; the worker applies
// authorization and the repository's configuration.
func Route(event string, payload []byte, cfg Config) (Routed, string, error) {
	cfg = cfg.withDefaults()
	var head struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: %s payload: %w", event, err)
	}
	r, ok := routes[event+"."+head.Action]
	if !ok {
		r, ok = routes[event]
	}
	if ok {
		out, reason, err := r(payload, cfg)
		if out.Event != nil {
			out.Event.Event = event
		}
		return out, reason, err
	}
	if _, ok := actionRouted(event); ok {
		return Routed{}, ReasonAction, nil
	}
	return Routed{}, ReasonEvent, nil
}

// actionRouted reports whether some action of event is routed.
func actionRouted(event string) (string, bool) {
	for k := range routes {
		if e, a, ok := strings.Cut(k, "."); ok && e == event {
			return a, true
		}
	}
	return "", false
}

// routeRun wraps ParseTrigger for an event that only ever starts runs.
func routeRun(event string) route {
	return func(payload []byte, cfg Config) (Routed, string, error) {
		args, reason, err := ParseTrigger(event, payload, cfg)
		return Routed{Run: args}, reason, err
	}
}

// routeComment: a command after the mention is an event job; other text
// is a task on an issue (a run) or feedback on a pull request.
func routeComment(payload []byte, cfg Config) (Routed, string, error) {
	args, reason, err := ParseTrigger("issue_comment", payload, cfg)
	if err != nil || args == nil {
		return Routed{}, reason, err
	}
	var ev github.IssueCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	args.AuthorAssociation = ev.GetComment().GetAuthorAssociation()
	cmd, _ := ParseCommand(ev.GetComment().GetBody(), cfg.Mention)
	if cmd.Name == "" && !args.IsPullRequest {
		return Routed{Run: args}, "", nil
	}
	e := eventFromRun(args, "created")
	e.Command, e.RunID, e.Text = cmd.Name, cmd.RunID, cmd.Text
	if cmd.Name == "" {
		e.Command = EvFeedback
	}
	return Routed{Event: e}, "", nil
}

// eventFromRun copies what a run job and an event job share.
func eventFromRun(a *RunJobArgs, action string) *EventJobArgs {
	return &EventJobArgs{
		Event: a.Event, Action: action, InstallationID: a.InstallationID,
		RepoID: a.RepoID, Owner: a.Owner, Repo: a.Repo, CloneURL: a.CloneURL, DefaultBranch: a.DefaultBranch,
		Number: a.IssueNumber, IsPullRequest: a.IsPullRequest, Title: a.IssueTitle, Body: a.IssueBody,
		CommentID: a.CommentID, ActorLogin: a.RequesterLogin, ActorID: a.RequesterID, ActorType: a.RequesterType,
		AuthorAssociation: a.AuthorAssociation,
	}
}

// prEvent fills an event job from a pull request payload's common parts;
// it reports false when the pull request is not on agentgate's branch of
// the same repository, or the sender is a bot.
func prEvent(event, action string, inst *github.Installation, repo *github.Repository, pr *github.PullRequest, sender *github.User) (*EventJobArgs, string, error) {
	if repo == nil || pr == nil {
		return nil, "", fmt.Errorf("webhook: %s payload lacks repository or pull_request", event)
	}
	if inst.GetID() == 0 {
		return nil, ReasonInstallation, nil
	}
	headRepo := pr.GetHead().GetRepo()
	if !strings.HasPrefix(pr.GetHead().GetRef(), BranchPrefix) || (headRepo != nil && headRepo.GetID() != repo.GetID()) {
		return nil, ReasonNotOurs, nil
	}
	return &EventJobArgs{
		Event: event, Action: action, InstallationID: inst.GetID(),
		RepoID: repo.GetID(), Owner: repo.GetOwner().GetLogin(), Repo: repo.GetName(),
		CloneURL: repo.GetCloneURL(), DefaultBranch: repo.GetDefaultBranch(),
		Number: pr.GetNumber(), IsPullRequest: true, Title: pr.GetTitle(),
		HeadRef: pr.GetHead().GetRef(), HeadSHA: pr.GetHead().GetSHA(),
		ActorLogin: sender.GetLogin(), ActorID: sender.GetID(), ActorType: sender.GetType(),
	}, "", nil
}

// routePRClosed records how agentgate's pull request ended. Bots may
// merge (a merge queue): the record is kept whoever closed it.
func routePRClosed(payload []byte, _ Config) (Routed, string, error) {
	var ev github.PullRequestEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request payload: %w", err)
	}
	e, reason, err := prEvent("pull_request", ev.GetAction(), ev.Installation, ev.Repo, ev.PullRequest, ev.GetSender())
	if e == nil {
		return Routed{}, reason, err
	}
	e.Command = EvPRClosed
	e.Merged = ev.GetPullRequest().GetMerged()
	e.MergedBy = ev.GetPullRequest().GetMergedBy().GetLogin()
	return Routed{Event: e}, "", nil
}

// routeReview: a submitted review that requests changes and mentions the
// app, on agentgate's pull request, by a person.
func routeReview(payload []byte, cfg Config) (Routed, string, error) {
	var ev github.PullRequestReviewEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review payload: %w", err)
	}
	if ev.GetAction() != "submitted" {
		return Routed{}, ReasonAction, nil
	}
	if isBot(ev.GetSender()) || isBot(ev.GetReview().GetUser()) {
		return Routed{}, ReasonBot, nil
	}
	if !strings.EqualFold(ev.GetReview().GetState(), "changes_requested") || !MentionsAnywhere(ev.GetReview().GetBody(), cfg.Mention) {
		return Routed{}, ReasonNoFeedback, nil
	}
	e, reason, err := prEvent("pull_request_review", ev.GetAction(), ev.Installation, ev.Repo, ev.PullRequest, ev.GetSender())
	if e == nil {
		return Routed{}, reason, err
	}
	e.Command, e.Text, e.ReviewID = EvFeedback, ev.GetReview().GetBody(), ev.GetReview().GetID()
	e.AuthorAssociation = ev.GetReview().GetAuthorAssociation()
	return Routed{Event: e}, "", nil
}

// routeReviewComment keeps inline review comments on agentgate's pull
// request for the next follow-up; one that starts with the mention asks
// for a follow-up itself.
func routeReviewComment(payload []byte, cfg Config) (Routed, string, error) {
	var ev github.PullRequestReviewCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review_comment payload: %w", err)
	}
	if ev.GetAction() != "created" {
		return Routed{}, ReasonAction, nil
	}
	if isBot(ev.GetSender()) || isBot(ev.GetComment().GetUser()) {
		return Routed{}, ReasonBot, nil
	}
	e, reason, err := prEvent("pull_request_review_comment", ev.GetAction(), ev.Installation, ev.Repo, ev.PullRequest, ev.GetSender())
	if e == nil {
		return Routed{}, reason, err
	}
	c := ev.GetComment()
	e.Command, e.Text, e.CommentID, e.ReviewID = EvReviewComment, c.GetBody(), c.GetID(), c.GetPullRequestReviewID()
	e.Path, e.Line, e.AuthorAssociation = c.GetPath(), c.GetLine(), c.GetAuthorAssociation()
	if text, ok := ParseMention(c.GetBody(), cfg.Mention); ok {
		e.Command, e.Text = EvFeedback, text
	}
	return Routed{Event: e}, "", nil
}

// routeRerun: "Re-run" on agentgate's check run (its external id is the
// run id), by a person.
func routeRerun(payload []byte, _ Config) (Routed, string, error) {
	// Only the fields needed: GitHub's own example carries timestamps in a
	// format go-github's types refuse.
	var ev struct {
		Action   string `json:"action"`
		CheckRun *struct {
			Name       string `json:"name"`
			ExternalID string `json:"external_id"`
			HeadSHA    string `json:"head_sha"`
		} `json:"check_run"`
		Repo         *github.Repository   `json:"repository"`
		Installation *github.Installation `json:"installation"`
		Sender       *github.User         `json:"sender"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: check_run payload: %w", err)
	}
	cr, repo := ev.CheckRun, ev.Repo
	if cr == nil || repo == nil {
		return Routed{}, "", fmt.Errorf("webhook: check_run payload lacks check_run or repository")
	}
	if cr.Name != "agentgate" || !validRunID(cr.ExternalID) {
		return Routed{}, ReasonNotOurs, nil
	}
	if isBot(ev.Sender) {
		return Routed{}, ReasonBot, nil
	}
	if ev.Installation.GetID() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	s := ev.Sender
	return Routed{Event: &EventJobArgs{
		Event: "check_run", Action: ev.Action, Command: EvRerun, RunID: strings.ToLower(cr.ExternalID),
		InstallationID: ev.Installation.GetID(),
		RepoID:         repo.GetID(), Owner: repo.GetOwner().GetLogin(), Repo: repo.GetName(),
		CloneURL: repo.GetCloneURL(), DefaultBranch: repo.GetDefaultBranch(),
		HeadSHA:    cr.HeadSHA,
		ActorLogin: s.GetLogin(), ActorID: s.GetID(), ActorType: s.GetType(),
	}}, "", nil
}

// routeInstallation tracks installation and installation_repositories:
// every action is recorded (bots included: GitHub itself sends some).
func routeInstallation(payload []byte, _ Config) (Routed, string, error) {
	var ev struct {
		Action       string               `json:"action"`
		Installation *github.Installation `json:"installation"`
		Repositories []RepoRef            `json:"repositories"`
		Added        []RepoRef            `json:"repositories_added"`
		Removed      []RepoRef            `json:"repositories_removed"`
		Sender       *github.User         `json:"sender"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: installation payload: %w", err)
	}
	if ev.Installation.GetID() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	e := &EventJobArgs{
		Event: "installation", Action: ev.Action, Command: EvInstallation,
		InstallationID: ev.Installation.GetID(), InstallationAccount: ev.Installation.GetAccount().GetLogin(),
		ActorLogin: ev.Sender.GetLogin(), ActorID: ev.Sender.GetID(), ActorType: ev.Sender.GetType(),
		ReposAdded: ev.Added, ReposRemoved: ev.Removed,
	}
	if ev.Added != nil || ev.Removed != nil {
		e.Event = "installation_repositories"
	} else if ev.Action == "created" {
		e.ReposAdded = ev.Repositories
	}
	return Routed{Event: e}, "", nil
}

// serveEvent commits an event job and answers 202 once it is durable.
func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request, log *slog.Logger, delivery string, e *EventJobArgs) {
	e.DeliveryID = delivery
	log = log.With("command", e.Command, "repo", e.Owner+"/"+e.Repo, "number", e.Number)
	// Issue comments share the dedupe key of a run trigger, so one comment
	// is never both.
	id := e.CommentID
	switch {
	case e.Event == "pull_request_review":
		id = e.ReviewID
	case e.Command == EvFeedbackEdited || e.Command == EvFeedbackDeleted:
		id = 0 // a comment is edited many times: only the delivery dedupes
	}
	fresh, err := s.enqueue(r.Context(), newQueued(*e, delivery, e.Event, id))
	answerEnqueued(r.Context(), w, log, fresh, err, "event", struct {
		Event string `json:"event"`
	}{e.Command})
}

// Events lists the events Route handles, sorted, for the app manifest.
// installation and installation_repositories are among them: GitHub
// delivers those to every app without a subscription.
func Events() []string {
	seen := map[string]bool{}
	var out []string
	for k := range routes {
		e, _, _ := strings.Cut(k, ".")
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}
