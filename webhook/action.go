package webhook

import (
	"encoding/json"
	"fmt"

	"github.com/agentgate/agentgate/jobs"
)

// maxExternalID bounds the check run's external_id (agentgate writes a
// run id, a UUID).
const maxExternalID = 64

// ParseCheckAction reads a check_run delivery. It returns the job for a
// requested_action on a button agentgate offers, or nil and the reason it
// is none; an error means the payload is malformed.
func ParseCheckAction(payload []byte) (*jobs.CheckAction, string, error) {
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
	if id != jobs.ActionApprove && id != jobs.ActionCI {
		return nil, "not one of agentgate's buttons", nil
	}
	ext := cr.ExternalID
	if ext == "" || len(ext) > maxExternalID {
		return nil, "check run is not agentgate's", nil
	}
	args := &jobs.CheckAction{
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
