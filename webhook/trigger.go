package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// Trigger kinds in RunJobArgs.Trigger.
const (
	TriggerMention = "mention"
	TriggerLabel   = "label"
)

// Why a delivery is not a trigger (ParseTrigger's reason).
const (
	ReasonEvent        = "event is not a trigger"
	ReasonAction       = "action is not a trigger"
	ReasonNoMention    = "no line starts with the mention"
	ReasonOtherLabel   = "label is not the trigger label"
	ReasonBot          = "bots never trigger runs"
	ReasonInstallation = "delivery has no installation"
)

// ParseTrigger decides whether a delivery of event with payload starts a
// run. For a trigger it returns the job with every field but RunID and
// DeliveryID filled from the payload; otherwise nil and the reason it is
// not one. An error means the payload is malformed. ParseTrigger is pure:
// the worker applies the repository's own config and authorization later.
func ParseTrigger(event string, payload []byte, cfg Config) (*RunJobArgs, string, error) {
	args, _, reason, err := parseTrigger(event, payload, cfg)
	return args, reason, err
}

// parseTrigger is ParseTrigger that also returns the trigger's replay key
// (see Routed.Key).
func parseTrigger(event string, payload []byte, cfg Config) (*RunJobArgs, string, string, error) {
	cfg = cfg.withDefaults()
	switch event {
	case "issue_comment":
		return parseComment(payload, cfg)
	case "issues":
		return parseIssues(payload, cfg)
	}
	return nil, "", ReasonEvent, nil
}

// commentEvent is an issue_comment delivery.
type commentEvent struct {
	envelope
	Issue   *issue   `json:"issue"`
	Comment *comment `json:"comment"`
}

// parseComment handles issue_comment: created, by a person, starting with
// the mention. Its replay key is the comment's id.
func parseComment(payload []byte, cfg Config) (*RunJobArgs, string, string, error) {
	var ev commentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	if ev.Action != "created" {
		return nil, "", ReasonAction, nil
	}
	if ev.Issue == nil || ev.Comment == nil || ev.Repo == nil {
		return nil, "", "", fmt.Errorf("webhook: issue_comment payload lacks issue, comment or repository")
	}
	author := ev.Comment.User
	if author == nil {
		author = ev.Sender
	}
	if isBot(ev.Sender) || isBot(author) {
		return nil, "", ReasonBot, nil
	}
	instructions, ok := ParseMention(ev.Comment.Body, cfg.Mention)
	if !ok {
		return nil, "", ReasonNoMention, nil
	}
	if ev.Installation.id() == 0 {
		return nil, "", ReasonInstallation, nil
	}
	args := baseArgs("issue_comment", TriggerMention, ev.Installation, ev.Repo, ev.Issue, author)
	args.CommentID = ev.Comment.ID
	args.Instructions = instructions
	args.Source = sourceOf(ev.Issue, ev.Comment)
	return args, commentKey("issue_comment", ev.Comment.ID), "", nil
}

// labelEvent is an issues delivery.
type labelEvent struct {
	envelope
	Issue *issue `json:"issue"`
	Label *label `json:"label"`
}

// parseIssues handles issues: labeled with the trigger label, by a
// person (its replay key is labelKey's), or opened addressing agentgate
// (parseOpened).
func parseIssues(payload []byte, cfg Config) (*RunJobArgs, string, string, error) {
	var ev labelEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", "", fmt.Errorf("webhook: issues payload: %w", err)
	}
	if ev.Action != "labeled" && ev.Action != "opened" {
		return nil, "", ReasonAction, nil
	}
	if ev.Issue == nil || ev.Repo == nil {
		return nil, "", "", fmt.Errorf("webhook: issues payload lacks issue or repository")
	}
	if ev.Action == "opened" {
		return parseOpened(ev, cfg)
	}
	if ev.Label == nil || !strings.EqualFold(ev.Label.Name, cfg.Label) {
		return nil, "", ReasonOtherLabel, nil
	}
	if isBot(ev.Sender) {
		return nil, "", ReasonBot, nil
	}
	if ev.Installation.id() == 0 {
		return nil, "", ReasonInstallation, nil
	}
	args := baseArgs("issues", TriggerLabel, ev.Installation, ev.Repo, ev.Issue, ev.Sender)
	args.Source = sourceOf(ev.Issue, nil)
	return args, labelKey(ev.Issue, ev.Label, ev.Sender), "", nil
}

// parseOpened handles issues.opened: an issue whose body addresses
// agentgate (ParseMention: the mention at a line's start, outside code
// and quotes) starts a run like a comment would, asked for by whoever
// opened it. Its replay key is the issue's id: an issue is opened once.
func parseOpened(ev labelEvent, cfg Config) (*RunJobArgs, string, string, error) {
	if isBot(ev.Sender) || isBot(ev.Issue.User) {
		return nil, "", ReasonBot, nil
	}
	instructions, ok := ParseMention(ev.Issue.Body, cfg.Mention)
	if !ok {
		return nil, "", ReasonNoMention, nil
	}
	if ev.Installation.id() == 0 {
		return nil, "", ReasonInstallation, nil
	}
	args := baseArgs("issues", TriggerMention, ev.Installation, ev.Repo, ev.Issue, ev.Sender)
	args.Instructions = instructions
	args.Source = sourceOf(ev.Issue, nil)
	return args, fmt.Sprintf("issues.opened/%d", ev.Issue.ID), "", nil
}

// baseArgs fills what every trigger shares.
func baseArgs(event, trigger string, inst *installation, repo *repository, is *issue, requester *user) *RunJobArgs {
	return &RunJobArgs{
		Event:          event,
		Trigger:        trigger,
		InstallationID: inst.id(),
		RepoID:         repo.ID,
		Owner:          repo.Owner.Login,
		Repo:           repo.Name,
		CloneURL:       repo.CloneURL,
		DefaultBranch:  repo.DefaultBranch,
		IssueNumber:    is.Number,
		IssueTitle:     is.Title,
		IssueBody:      is.Body,
		IsPullRequest:  is.PullRequest != nil,
		RequesterLogin: requester.login(),
		RequesterID:    requester.id(),
		RequesterType:  requester.kind(),
	}
}

// isBot reports whether u is a bot account (or unknown: no user at all).
func isBot(u *user) bool {
	if u == nil {
		return true
	}
	return strings.EqualFold(u.Type, "Bot") || strings.HasSuffix(strings.ToLower(u.Login), "[bot]")
}

// isSpace is unicode.IsSpace, as a func value.
func isSpace(r rune) bool { return unicode.IsSpace(r) }

// asciiEqualFold compares a and b ignoring ASCII case only, so no Unicode
// folding (the Kelvin sign, the long s) can forge a mention.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// lower lowercases an ASCII letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
