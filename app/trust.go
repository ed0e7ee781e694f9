package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/webhook"
)

// person is someone the policy judges: a requester, an approver, the
// author of feedback.
type person struct {
	Login string
	ID    int64
	// Association is the author_association of their comment ("" when
	// the event has none, e.g. a check run button).
	Association string
}

// sameUser reports whether a and b are one GitHub account: by user id
// when both ids are known (a login can be renamed, and then taken by
// someone else), otherwise by login.
func sameUser(a, b person) bool {
	if a.ID != 0 && b.ID != 0 {
		return a.ID == b.ID
	}
	return strings.EqualFold(a.Login, b.Login)
}

// isOutsideCollaborator reports whether association is GitHub's
// OUTSIDE_COLLABORATOR.
func isOutsideCollaborator(association string) bool {
	return strings.EqualFold(association, "OUTSIDE_COLLABORATOR")
}

// standing judges p as the policy judges someone who starts a run
// without a maintainer's approval: the trigger permission (the
// operator's, or the repository configuration's when stricter; at least
// least when given), the outside-collaborator rule, and allowed_users /
// allowed_teams. It returns p's role and the permission required, and a
// reason when p does not qualify ("" when p does). An approver, and the
// author of feedback, must qualify: an approval or a comment can never
// give more than the policy would let its author start.
func (i *issue) standing(ctx context.Context, p person, least string) (role, min, reason string, err error) {
	role, err = i.permissionOf(ctx, p.Login)
	if err != nil {
		return "", "", "", err
	}
	min = i.w.Config.MinPermission
	if least != "" && policy.Allows(least, min) {
		min = least
	}
	if !policy.Allows(role, min) {
		return role, min, fmt.Sprintf("@%s has %s permission; %s or more is required", p.Login, role, min), nil
	}
	rc, err := i.loadConfig(ctx)
	var cerr *policy.ConfigError
	if errors.As(err, &cerr) {
		return role, min, "the repository's configuration is invalid", nil
	}
	if err != nil {
		return "", "", "", fmt.Errorf("configuration: %w", err)
	}
	if policy.Allows(rc.Effective.MinPermission, min) {
		min = rc.Effective.MinPermission
	}
	if !policy.Allows(role, min) {
		return role, min, fmt.Sprintf("@%s has %s permission; %s or more is required", p.Login, role, min), nil
	}
	if i.w.Config.Controls.OutsideCollaboratorsPending && isOutsideCollaborator(p.Association) {
		return role, min, fmt.Sprintf("@%s is an outside collaborator, whose own runs wait for a maintainer", p.Login), nil
	}
	if users, teams := rc.Effective.AllowedUsers, rc.Effective.AllowedTeams; len(users) > 0 || len(teams) > 0 {
		listed, err := i.allowedByList(ctx, p.Login, users, teams)
		if err != nil {
			return "", "", "", err
		}
		if !listed {
			return role, min, fmt.Sprintf("@%s is not in the configuration's allowed_users nor an active member of its allowed_teams", p.Login), nil
		}
	}
	return role, min, "", nil
}

// actor is the event's actor as a person.
func (ev *eventJob) actor() person {
	return person{Login: ev.a.ActorLogin, ID: ev.a.ActorID, Association: ev.a.AuthorAssociation}
}

// mayApprove judges the actor as an approver of a run on this issue: they
// must stand as a requester would (standing). A refused approver gets a
// reaction and at most one reply per issue.
func (ev *eventJob) mayApprove(ctx context.Context) (bool, string, error) {
	role, min, reason, err := ev.standing(ctx, ev.actor(), "")
	if err != nil {
		return false, "", err
	}
	if reason == "" {
		return true, role, nil
	}
	ev.log.Info("approval refused", "reason", reason)
	if !policy.Allows(role, min) {
		return false, role, ev.refuse(ctx, fmt.Sprintf("Sorry @%s, `%s %s` needs **%s** permission or more on this repository.", ev.a.ActorLogin, ev.w.Config.Mention, webhook.CmdApprove, min))
	}
	return false, role, ev.refuse(ctx, fmt.Sprintf("Sorry @%s, you cannot approve this run: %s. An approval can only come from someone this repository's policy lets start the run themselves.", ev.a.ActorLogin, reason))
}
