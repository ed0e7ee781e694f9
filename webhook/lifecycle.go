package webhook

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/jobs"
)

// ReasonNoRun: an issues action that ends nothing.
const ReasonNoRun = "issue is a pull request"

// issueEndPayload is what issues.closed, .deleted and .transferred are
// read for.
type issueEndPayload struct {
	envelope
	Issue *struct {
		ID          int64           `json:"id"`
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
		// UpdatedAt is kept raw: it only makes the replay key.
		UpdatedAt json.RawMessage `json:"updated_at"`
	} `json:"issue"`
}

// routeIssueEnded routes issues.closed, .deleted and .transferred: the
// issue's run is cancelled, whoever ended it (a bot closing stale issues
// ends their runs too). The replay key is the issue as of its updated_at,
// so a close replayed after the issue was reopened and triggered again
// cancels nothing new.
func routeIssueEnded(payload []byte, _ Config) (Routed, string, error) {
	var ev issueEndPayload
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issues payload: %w", err)
	}
	if ev.Issue == nil || ev.Repo == nil {
		return Routed{}, "", fmt.Errorf("webhook: issues payload lacks issue or repository")
	}
	if ev.Installation.id() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	if len(ev.Issue.PullRequest) != 0 && string(ev.Issue.PullRequest) != "null" {
		return Routed{}, ReasonNoRun, nil
	}
	r := ev.Repo
	e := &jobs.IssueEnded{Event: jobs.Event{
		GitHubEvent: "issues", Action: ev.Action, InstallationID: ev.Installation.id(),
		RepoID: r.ID, Owner: r.Owner.Login, Repo: r.Name, CloneURL: r.CloneURL, DefaultBranch: r.DefaultBranch,
		Number:     ev.Issue.Number,
		ActorLogin: ev.Sender.login(), ActorID: ev.Sender.id(), ActorType: ev.Sender.kind(),
	}}
	key := fmt.Sprintf("issues.%s/%d/%s", ev.Action, ev.Issue.ID, capped(string(ev.Issue.UpdatedAt)))
	return Routed{Job: e, Key: key}, "", nil
}

// checkSuitePayload is what check_suite.rerequested is read for.
type checkSuitePayload struct {
	envelope
	CheckSuite *struct {
		ID         int64  `json:"id"`
		HeadBranch string `json:"head_branch"`
		HeadSHA    string `json:"head_sha"`
		App        *struct {
			ID int64 `json:"id"`
		} `json:"app"`
		// UpdatedAt is kept raw: it only makes the replay key.
		UpdatedAt json.RawMessage `json:"updated_at"`
	} `json:"check_suite"`
}

// routeSuiteRerun: "Re-run all checks" on a suite of agentgate's branch,
// by a person. Which run it is, and whether the suite is agentgate's app's,
// the worker decides (intake knows neither).
func routeSuiteRerun(payload []byte, _ Config) (Routed, string, error) {
	var ev checkSuitePayload
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: check_suite payload: %w", err)
	}
	cs, repo := ev.CheckSuite, ev.Repo
	if cs == nil || repo == nil {
		return Routed{}, "", fmt.Errorf("webhook: check_suite payload lacks check_suite or repository")
	}
	if !strings.HasPrefix(cs.HeadBranch, BranchPrefix) || cs.HeadSHA == "" {
		return Routed{}, ReasonNotOurs, nil
	}
	if isBot(ev.Sender) {
		return Routed{}, ReasonBot, nil
	}
	if ev.Installation.id() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	e := &jobs.SuiteRerun{Event: jobs.Event{
		GitHubEvent: "check_suite", Action: ev.Action, InstallationID: ev.Installation.id(),
		RepoID: repo.ID, Owner: repo.Owner.Login, Repo: repo.Name, CloneURL: repo.CloneURL, DefaultBranch: repo.DefaultBranch,
		ActorLogin: ev.Sender.login(), ActorID: ev.Sender.id(), ActorType: ev.Sender.kind(),
	}, HeadRef: cs.HeadBranch, HeadSHA: cs.HeadSHA}
	if cs.App != nil {
		e.AppID = cs.App.ID
	}
	key := fmt.Sprintf("check_suite.rerequested/%d/%d/%s", cs.ID, ev.Sender.id(), capped(string(cs.UpdatedAt)))
	return Routed{Job: e, Key: key}, "", nil
}
