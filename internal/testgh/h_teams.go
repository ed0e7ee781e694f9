package testgh

import (
	"fmt"
	"strings"
)

// teamKey is the key of a team membership: lower-case "org/slug/login".
func teamKey(org, slug, login string) string {
	return strings.ToLower(org + "/" + slug + "/" + login)
}

// membership is one user's membership of a team.
type membership struct {
	role  string // "member" or "maintainer"
	state string // "active" or "pending"
}

// AddTeamMember makes login a member of the team org/slug; state is
// "active" or "pending" (an invitation not yet accepted), "" for active.
func (s *Server) AddTeamMember(org, slug, login, state string) {
	if state == "" {
		state = "active"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.teams == nil {
		s.st.teams = map[string]membership{}
	}
	s.st.teams[teamKey(org, slug, login)] = membership{role: "member", state: state}
}

// RemoveTeamMember ends login's membership of the team org/slug.
func (s *Server) RemoveTeamMember(org, slug, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.st.teams, teamKey(org, slug, login))
}

// authorizeOrg checks an installation token on an organization
// operation: the installation must be on {org} and the token must carry
// the handler's permission. Caller holds mu.
func (s *Server) authorizeOrg(c *call, t *Token, h handler) *rejection {
	inst, ok := s.st.installations[t.InstallationID]
	if !ok || !strings.EqualFold(inst.account, c.params["org"]) {
		return reject(notFound(), "installation token is not for organization "+c.params["org"])
	}
	if !grants(t.Permissions, h.perm, h.level) {
		return reject(notAccessible(), fmt.Sprintf("installation token lacks %s:%s", h.perm, h.level))
	}
	return nil
}

// getTeamMembership implements
// GET /orgs/{org}/teams/{team_slug}/memberships/{username}: 404 when the
// user is not a member (GitHub does not tell a missing team apart).
func (c *call) getTeamMembership() reply {
	org, slug, login := c.params["org"], c.params["team_slug"], c.params["username"]
	m, found := c.s.st.teams[teamKey(org, slug, login)]
	if !found {
		return notFound()
	}
	return ok(map[string]any{
		"url":   fmt.Sprintf("%s/organizations/%s/team/%s/memberships/%s", c.s.api(), org, slug, login),
		"role":  m.role,
		"state": m.state,
	})
}
