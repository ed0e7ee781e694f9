package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// prClosed records how agentgate's pull request ended, on the run that
// opened it: pr.merged (and by whom) or pr.closed. That is the approval
// record: agentgate itself never merges.
func (ev *eventJob) prClosed(ctx context.Context, a jobs.PRClosed) error {
	r, err := ev.w.DB.RunForPR(ctx, a.RepoID, a.Number)
	if errors.Is(err, store.ErrNotFound) {
		ev.log.Info("closed pull request was not opened by agentgate: ignored")
		return nil
	}
	if err != nil {
		return err
	}
	kind, actor := telemetry.KindPRClosed, a.ActorLogin
	attrs := map[string]any{"number": a.Number, "head_sha": a.HeadSHA, "branch": a.HeadRef}
	if a.Merged {
		kind = telemetry.KindPRMerged
		if a.MergedBy != "" {
			actor = a.MergedBy
		}
		attrs["merged_by"] = actor
	} else {
		attrs["closed_by"] = actor
	}
	if err := ev.auditOnce(ctx, r.ID, kind, actor, attrs); err != nil {
		return err
	}
	return ev.w.DB.RecordEffect(ctx, r.ID, journal.PREnd, kind)
}

// installation tracks installation and installation_repositories events:
// a repository the app no longer has gets no more runs (refused before any
// API call).
func (ev *eventJob) installation(ctx context.Context, a jobs.Installation) error {
	db := ev.w.DB
	var err error
	switch a.Action {
	case "created", "new_permissions_accepted", "unsuspend":
		err = db.SetInstallation(ctx, a.InstallationID, a.Account, store.StateActive)
	case "deleted":
		err = errors.Join(db.SetInstallation(ctx, a.InstallationID, a.Account, store.StateRemoved),
			db.RemoveInstallationRepos(ctx, a.InstallationID))
	case "suspend":
		err = db.SetInstallation(ctx, a.InstallationID, a.Account, store.StateSuspended)
	}
	if err != nil {
		return err
	}
	for _, r := range a.ReposAdded {
		if err := db.SetInstallationRepo(ctx, a.InstallationID, r.ID, r.FullName, store.StateActive); err != nil {
			return err
		}
	}
	for _, r := range a.ReposRemoved {
		if err := db.SetInstallationRepo(ctx, a.InstallationID, r.ID, r.FullName, store.StateRemoved); err != nil {
			return err
		}
	}
	added, removed := make([]string, 0, len(a.ReposAdded)), make([]string, 0, len(a.ReposRemoved))
	for _, r := range a.ReposAdded {
		added = append(added, r.FullName)
	}
	for _, r := range a.ReposRemoved {
		removed = append(removed, r.FullName)
	}
	return ev.auditOnce(ctx, "installation:"+strconv.FormatInt(a.InstallationID, 10), telemetry.KindInstallation, a.ActorLogin, map[string]any{
		"event": a.GitHubEvent, "action": a.Action, "account": a.Account,
		"repos_added": added, "repos_removed": removed, "summary": fmt.Sprintf("%s %s", a.GitHubEvent, a.Action),
	})
}
