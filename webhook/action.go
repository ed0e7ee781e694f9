package webhook

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// Identifiers of the buttons agentgate puts on its check run.
const (
	// ActionApprove approves a change to protected paths (and releases CI).
	ActionApprove = "approve"
	// ActionCI releases the repository's CI on agentgate's commit.
	ActionCI = "ci"
)

// maxExternalID bounds the check run's external_id (agentgate writes a
// run id, a UUID).
const maxExternalID = 64

// ActionJobArgs is the job for a click on one of agentgate's check run
// buttons (check_run.requested_action). The worker checks everything:
// that the check run is agentgate's, who clicked, and whether the approval
// still applies.
type ActionJobArgs struct {
	DeliveryID     string `json:"delivery_id"`
	InstallationID int64  `json:"installation_id"`
	RepoID         int64  `json:"repo_id"`
	Owner          string `json:"owner"`
	Repo           string `json:"repo"`
	DefaultBranch  string `json:"default_branch"`

	CheckRunID int64  `json:"check_run_id"`
	CheckName  string `json:"check_name"`
	HeadSHA    string `json:"head_sha"`
	HeadBranch string `json:"head_branch"`
	// RunID is the check run's external_id: agentgate's run.
	RunID      string `json:"run_id"`
	AppID      int64  `json:"app_id"`
	Identifier string `json:"identifier"`

	SenderLogin string `json:"sender_login"`
	SenderID    int64  `json:"sender_id"`
	SenderType  string `json:"sender_type"`
	// Version is the arguments' version (see version.go).
	Version int `json:"v,omitempty"`
}

// Kind implements river.JobArgs.
func (ActionJobArgs) Kind() string { return "agentgate.check_action" }

// ParseCheckAction reads a check_run delivery. It returns the job for a
// requested_action on a button agentgate offers, or nil and the reason it
// is none; an error means the payload is malformed.
func ParseCheckAction(payload []byte) (*ActionJobArgs, string, error) {
	var ev checkRunEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", fmt.Errorf("webhook: check_run payload: %w", err)
	}
	if ev.Action != "requested_action" {
		return nil, ReasonAction, nil
	}
	cr, repo := ev.CheckRun, ev.Repo
	if cr == nil || repo == nil || ev.RequestedAction == nil {
		return nil, "", fmt.Errorf("webhook: check_run payload lacks check_run, repository or requested_action")
	}
	if ev.Installation.id() == 0 {
		return nil, ReasonInstallation, nil
	}
	if isBot(ev.Sender) {
		return nil, ReasonBot, nil
	}
	id := ev.RequestedAction.Identifier
	if id != ActionApprove && id != ActionCI {
		return nil, "not one of agentgate's buttons", nil
	}
	ext := cr.ExternalID
	if ext == "" || len(ext) > maxExternalID {
		return nil, "check run is not agentgate's", nil
	}
	args := &ActionJobArgs{
		InstallationID: ev.Installation.id(),
		RepoID:         repo.ID, Owner: repo.Owner.Login, Repo: repo.Name,
		DefaultBranch: repo.DefaultBranch,
		CheckRunID:    cr.ID, CheckName: cr.Name, HeadSHA: cr.HeadSHA,
		RunID: ext, Identifier: id,
		SenderLogin: ev.Sender.login(), SenderID: ev.Sender.id(), SenderType: ev.Sender.kind(),
	}
	if cr.CheckSuite != nil {
		args.HeadBranch = cr.CheckSuite.HeadBranch
	}
	if cr.App != nil {
		args.AppID = cr.App.ID
	}
	return args, "", nil
}

// serveAction commits a check run button's job.
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request, log *slog.Logger, delivery string, args *ActionJobArgs) {
	args.DeliveryID = delivery
	log = log.With("repo", args.Owner+"/"+args.Repo, "check_run", args.CheckRunID, "action", args.Identifier)
	fresh, err := s.enqueue(r.Context(), newQueued(*args, delivery, "check_run", ""))
	answerEnqueued(r.Context(), w, log, fresh, err, "check run action", nil)
}
