package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"
)

// teamsScope reads team memberships of the installation's organization.
func teamsScope(repoID int64) Scope { return Scope{RepoID: repoID, Members: "read"} }

// allowedByList reports whether login may trigger under the
// configuration's allowed_users and allowed_teams: listed by login, or an
// active member of one of the teams. Teams are slugs of the repository's
// organization or "org/slug" naming it; a team of another organization is
// not the installation's to read and never matches.
func (i *issue) allowedByList(ctx context.Context, login string, users, teams []string) (bool, error) {
	if containsFold(users, login) {
		return true, nil
	}
	if len(teams) == 0 {
		return false, nil
	}
	gh, err := i.w.Clients.Installation(i.installationID, teamsScope(i.repoID))
	if err != nil {
		return false, err
	}
	for _, t := range teams {
		org, slug, found := strings.Cut(t, "/")
		if !found {
			org, slug = i.owner, t
		}
		if !strings.EqualFold(org, i.owner) || slug == "" {
			i.log.Warn("allowed_teams: team of another organization ignored", "team", t)
			continue
		}
		m, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			var er *github.ErrorResponse
			if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
				continue // not a member, or no such team
			}
			// Fail closed: an installation that has not granted
			// members:read, or GitHub failing, admits nobody by team.
			i.log.Warn("allowed_teams: membership lookup failed; treated as not a member", "team", t, "err", err)
			continue
		}
		if m.GetState() == "active" {
			return true, nil
		}
	}
	return false, nil
}
