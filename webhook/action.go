package webhook

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/go-github/v62/github"
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
}

// Kind implements river.JobArgs.
func (ActionJobArgs) Kind() string { return "agentgate.check_action" }

// ParseCheckAction reads a check_run delivery. It returns the job for a
// requested_action on a button agentgate offers, or nil and the reason it
// is none; an error means the payload is malformed.
func ParseCheckAction(payload []byte) (*ActionJobArgs, string, error) {
	var ev github.CheckRunEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", fmt.Errorf("webhook: check_run payload: %w", err)
	}
	if ev.GetAction() != "requested_action" {
		return nil, ReasonAction, nil
	}
	cr, repo := ev.GetCheckRun(), ev.GetRepo()
	if cr == nil || repo == nil || ev.RequestedAction == nil {
		return nil, "", fmt.Errorf("webhook: check_run payload lacks check_run, repository or requested_action")
	}
	if ev.GetInstallation().GetID() == 0 {
		return nil, ReasonInstallation, nil
	}
	if isBot(ev.GetSender()) {
		return nil, ReasonBot, nil
	}
	id := ev.RequestedAction.Identifier
	if id != ActionApprove && id != ActionCI {
		return nil, "not one of agentgate's buttons", nil
	}
	ext := cr.GetExternalID()
	if ext == "" || len(ext) > maxExternalID {
		return nil, "check run is not agentgate's", nil
	}
	return &ActionJobArgs{
		InstallationID: ev.GetInstallation().GetID(),
		RepoID:         repo.GetID(), Owner: repo.GetOwner().GetLogin(), Repo: repo.GetName(),
		DefaultBranch: repo.GetDefaultBranch(),
		CheckRunID:    cr.GetID(), CheckName: cr.GetName(), HeadSHA: cr.GetHeadSHA(),
		HeadBranch: cr.GetCheckSuite().GetHeadBranch(),
		RunID:      ext, AppID: cr.GetApp().GetID(), Identifier: id,
		SenderLogin: ev.GetSender().GetLogin(), SenderID: ev.GetSender().GetID(), SenderType: ev.GetSender().GetType(),
	}, "", nil
}

// serveAction handles the deliveries that are not run triggers but jobs
// of their own (a click on a check run button). It reports whether it
// answered the request.
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request, log *slog.Logger, event, delivery string, body []byte) bool {
	if event != "check_run" {
		return false
	}
	args, reason, err := ParseCheckAction(body)
	if err != nil {
		log.WarnContext(r.Context(), "webhook: malformed payload", "err", err)
		reply(w, http.StatusBadRequest, "malformed payload")
		return true
	}
	if args == nil {
		if reason == ReasonAction {
			// Not a button click: another handler (e.g. a re-run
			// request) may still want the delivery.
			return false
		}
		reply(w, http.StatusOK, "ignored: "+reason)
		return true
	}
	args.DeliveryID = delivery
	log = log.With("repo", args.Owner+"/"+args.Repo, "check_run", args.CheckRunID, "action", args.Identifier)
	fresh, err := s.enqueue(r.Context(), newQueued(*args, delivery, "check_run", 0))
	answerEnqueued(r.Context(), w, log, fresh, err, "check run action", nil)
	return true
}
