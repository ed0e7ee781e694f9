package webhook

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// More reasons a delivery starts nothing (Route's reason).
const (
	ReasonNotOurs    = "not agentgate's branch or check"
	ReasonNoFeedback = "review does not ask the app for changes (changes requested or a comment, mentioning it)"
)

// Routed is intake's decision for one delivery: a new run, an event job,
// a check run button's job, or (all nil) nothing.
type Routed struct {
	Run    *RunJobArgs
	Event  *EventJobArgs
	Action *ActionJobArgs
	// Key is the delivery's replay key, taken from its signed body ("" for
	// none): the delivery is recorded under it as well as under its
	// delivery id, so the same body under a new delivery id does not act
	// twice. unique.go says what each key is made of.
	Key string
}

// route parses one event (or event.action) into a job. Each route decodes
// only the fields it reads (payload.go).
type route func(payload []byte, cfg Config) (Routed, string, error)

// routes is the dispatch table: "event.action" first, then "event" (every
// action of the event). To route a new event or action, add a row, then
// the event to app.yml and the row to docs/operating.md's event table
// (app.TestManifestEventsMatchIntake checks all three agree).
var routes = map[string]route{
	"issue_comment.created":               routeComment,
	"issue_comment.edited":                routeCommentChange,
	"issue_comment.deleted":               routeCommentChange,
	"issues.labeled":                      routeRun("issues"),
	"issues.opened":                       routeRun("issues"),
	"issues.closed":                       routeIssueEnded,
	"issues.deleted":                      routeIssueEnded,
	"issues.transferred":                  routeIssueEnded,
	"pull_request.closed":                 routePRClosed,
	"pull_request_review.submitted":       routeReview,
	"pull_request_review_comment.created": routeReviewComment,
	"pull_request_review_comment.edited":  routeReviewCommentChange,
	"pull_request_review_comment.deleted": routeReviewCommentChange,
	"check_run.rerequested":               routeRerun,
	"check_run.requested_action":          routeCheckAction,
	"check_suite.rerequested":             routeSuiteRerun,
	"installation":                        routeInstallation,
	"installation_repositories":           routeInstallation,
}

// RoutedActions lists what intake routes: each event with its routed
// actions, sorted; an event routed whatever its action maps to nil.
func RoutedActions() map[string][]string {
	out := map[string][]string{}
	for k := range routes {
		event, action, ok := strings.Cut(k, ".")
		if !ok {
			out[event] = nil
			continue
		}
		out[event] = append(out[event], action)
	}
	for _, actions := range out {
		slices.Sort(actions)
	}
	return out
}

// Route decides what a delivery of event starts: a run (new work on an
// issue), an event job (a command, feedback, a lifecycle event), a check
// run button's job, or nothing, with the reason. An error means the
// payload is malformed: not JSON, or a field the route reads is of the
// wrong type. Route is pure: no API call, no database; the worker applies
// authorization and the repository's configuration.
func Route(event string, payload []byte, cfg Config) (Routed, string, error) {
	cfg = cfg.withDefaults()
	var head struct {
		Action json.RawMessage `json:"action"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: %s payload: %w", event, err)
	}
	var action string
	_ = json.Unmarshal(head.Action, &action) // a route that reads it checks it
	r, ok := routes[event+"."+action]
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

// routeRun wraps parseTrigger for an event that only ever starts runs.
func routeRun(event string) route {
	return func(payload []byte, cfg Config) (Routed, string, error) {
		args, key, reason, err := parseTrigger(event, payload, cfg)
		return Routed{Run: args, Key: key}, reason, err
	}
}

// routeComment: a command after the mention is an event job; other text
// is a task on an issue (a run) or feedback on a pull request. Issue
// comments share the replay key of a run trigger, so one comment is never
// both.
func routeComment(payload []byte, cfg Config) (Routed, string, error) {
	args, key, reason, err := parseComment(payload, cfg)
	if err != nil || args == nil {
		return Routed{}, reason, err
	}
	var ev commentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	args.AuthorAssociation = ev.Comment.AuthorAssociation
	return commentRouted(args, key, ev.Comment.Body, "created", cfg), "", nil
}

// commentRouted is what an issue comment that addresses agentgate starts
// (args, from parseComment or parseCommentEdit): a command, a run on an
// issue, or feedback on a pull request.
func commentRouted(args *RunJobArgs, key, body, action string, cfg Config) Routed {
	cmd, _ := ParseCommand(body, cfg.Mention)
	if cmd.Name == "" && !args.IsPullRequest {
		return Routed{Run: args, Key: key}
	}
	e := eventFromRun(args, action)
	e.Command, e.RunID, e.Text = cmd.Name, cmd.RunID, cmd.Text
	if cmd.Name == "" {
		e.Command = EvFeedback
	}
	return Routed{Event: e, Key: key}
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

// prPayload is a pull_request, pull_request_review or
// pull_request_review_comment delivery.
type prPayload struct {
	envelope
	PullRequest *pullRequest `json:"pull_request"`
	Review      *review      `json:"review"`
	Comment     *comment     `json:"comment"`
}

// decodePR decodes a pull request delivery of event.
func decodePR(event string, payload []byte) (prPayload, error) {
	var ev prPayload
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, fmt.Errorf("webhook: %s payload: %w", event, err)
	}
	return ev, nil
}

// prEvent fills an event job from a pull request payload's common parts;
// it returns nil when the pull request is not on agentgate's branch of
// the same repository.
func prEvent(event string, ev prPayload) (*EventJobArgs, string, error) {
	repo, pr := ev.Repo, ev.PullRequest
	if repo == nil || pr == nil {
		return nil, "", fmt.Errorf("webhook: %s payload lacks repository or pull_request", event)
	}
	if ev.Installation.id() == 0 {
		return nil, ReasonInstallation, nil
	}
	headRepo := pr.Head.Repo
	if !strings.HasPrefix(pr.Head.Ref, BranchPrefix) || (headRepo != nil && headRepo.ID != repo.ID) {
		return nil, ReasonNotOurs, nil
	}
	return &EventJobArgs{
		Event: event, Action: ev.Action, InstallationID: ev.Installation.id(),
		RepoID: repo.ID, Owner: repo.Owner.Login, Repo: repo.Name,
		CloneURL: repo.CloneURL, DefaultBranch: repo.DefaultBranch,
		Number: pr.Number, IsPullRequest: true, Title: pr.Title,
		HeadRef: pr.Head.Ref, HeadSHA: pr.Head.SHA,
		ActorLogin: ev.Sender.login(), ActorID: ev.Sender.id(), ActorType: ev.Sender.kind(),
	}, "", nil
}

// routePRClosed records how agentgate's pull request ended. Bots may
// merge (a merge queue): the record is kept whoever closed it.
func routePRClosed(payload []byte, _ Config) (Routed, string, error) {
	ev, err := decodePR("pull_request", payload)
	if err != nil {
		return Routed{}, "", err
	}
	e, reason, err := prEvent("pull_request", ev)
	if e == nil {
		return Routed{}, reason, err
	}
	e.Command = EvPRClosed
	e.Merged = ev.PullRequest.Merged
	e.MergedBy = ev.PullRequest.MergedBy.login()
	return Routed{Event: e}, "", nil
}

// routeReview: a submitted review that requests changes or comments and
// mentions the app (anywhere in its prose: not in code or a quote), on
// agentgate's pull request, by a person. An approval asks for nothing.
func routeReview(payload []byte, cfg Config) (Routed, string, error) {
	ev, err := decodePR("pull_request_review", payload)
	if err != nil {
		return Routed{}, "", err
	}
	if ev.Action != "submitted" {
		return Routed{}, ReasonAction, nil
	}
	rv := ev.Review
	if rv == nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review payload lacks review")
	}
	if isBot(ev.Sender) || isBot(rv.User) {
		return Routed{}, ReasonBot, nil
	}
	state := strings.ToLower(rv.State)
	if (state != "changes_requested" && state != "commented") || !MentionsAnywhere(rv.Body, cfg.Mention) {
		return Routed{}, ReasonNoFeedback, nil
	}
	e, reason, err := prEvent("pull_request_review", ev)
	if e == nil {
		return Routed{}, reason, err
	}
	e.Command, e.Text, e.ReviewID = EvFeedback, rv.Body, rv.ID
	e.AuthorAssociation = rv.AuthorAssociation
	return Routed{Event: e, Key: commentKey("pull_request_review", rv.ID)}, "", nil
}

// routeReviewComment keeps inline review comments on agentgate's pull
// request for the next follow-up; one that addresses agentgate (a mention
// at a line's start, as for an issue comment: ParseMention) asks for a
// follow-up itself, or is a command, exactly as the same text in an issue
// comment on the pull request would be. The comments of one review each
// ask for the same follow-up, which the worker gathers into one run.
func routeReviewComment(payload []byte, cfg Config) (Routed, string, error) {
	ev, err := decodePR("pull_request_review_comment", payload)
	if err != nil {
		return Routed{}, "", err
	}
	if ev.Action != "created" {
		return Routed{}, ReasonAction, nil
	}
	c := ev.Comment
	if c == nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review_comment payload lacks comment")
	}
	if isBot(ev.Sender) || isBot(c.User) {
		return Routed{}, ReasonBot, nil
	}
	e, reason, err := prEvent("pull_request_review_comment", ev)
	if e == nil {
		return Routed{}, reason, err
	}
	e.Command, e.Text, e.CommentID, e.ReviewID = EvReviewComment, c.Body, c.ID, c.PullRequestReviewID
	e.Path, e.Line, e.AuthorAssociation = c.Path, c.Line, c.AuthorAssociation
	if cmd, ok := ParseCommand(c.Body, cfg.Mention); ok {
		e.Command, e.Text, e.RunID = EvFeedback, cmd.Text, cmd.RunID
		if cmd.Name != "" {
			e.Command = cmd.Name
		}
	}
	return Routed{Event: e, Key: commentKey("pull_request_review_comment", c.ID)}, "", nil
}

// checkRunEvent is a check_run delivery.
type checkRunEvent struct {
	envelope
	CheckRun        *checkRun `json:"check_run"`
	RequestedAction *struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
}

// routeRerun: "Re-run" on agentgate's check run (its external id is the
// run id), by a person.
func routeRerun(payload []byte, _ Config) (Routed, string, error) {
	var ev checkRunEvent
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
	if ev.Installation.id() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	s := ev.Sender
	return Routed{Event: &EventJobArgs{
		Event: "check_run", Action: ev.Action, Command: EvRerun, RunID: strings.ToLower(cr.ExternalID),
		InstallationID: ev.Installation.id(),
		RepoID:         repo.ID, Owner: repo.Owner.Login, Repo: repo.Name,
		CloneURL: repo.CloneURL, DefaultBranch: repo.DefaultBranch,
		HeadSHA:    cr.HeadSHA,
		ActorLogin: s.login(), ActorID: s.id(), ActorType: s.kind(),
	}, Key: rerunKey(cr, s)}, "", nil
}

// routeCheckAction: a click on one of agentgate's check run buttons.
func routeCheckAction(payload []byte, _ Config) (Routed, string, error) {
	args, reason, err := ParseCheckAction(payload)
	return Routed{Action: args}, reason, err
}

// routeInstallation tracks installation and installation_repositories:
// every action is recorded (bots included: GitHub itself sends some).
func routeInstallation(payload []byte, _ Config) (Routed, string, error) {
	var ev struct {
		envelope
		Repositories []RepoRef `json:"repositories"`
		Added        []RepoRef `json:"repositories_added"`
		Removed      []RepoRef `json:"repositories_removed"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: installation payload: %w", err)
	}
	if ev.Installation.id() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	e := &EventJobArgs{
		Event: "installation", Action: ev.Action, Command: EvInstallation,
		InstallationID: ev.Installation.id(), InstallationAccount: ev.Installation.Account.login(),
		ActorLogin: ev.Sender.login(), ActorID: ev.Sender.id(), ActorType: ev.Sender.kind(),
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
func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request, log *slog.Logger, delivery, key string, e *EventJobArgs) {
	e.DeliveryID = delivery
	log = log.With("command", e.Command, "repo", e.Owner+"/"+e.Repo, "number", e.Number)
	fresh, err := s.enqueue(r.Context(), newQueued(*e, delivery, e.Event, key))
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
