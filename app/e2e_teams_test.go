package app_test

import (
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/harness"
)

// allowed_teams admits an active member of a listed team of the
// repository's organization, looked up with the installation's
// members:read; anybody else, a pending invitee included, is refused with
// the not-listed comment and no pull request.
func TestEndToEndTeamMembership(t *testing.T) {
	tests := []struct {
		name   string
		config string
		team   string // the team the requester is in, "" for none
		status string // membership state
		state  string
	}{
		{"member of an allowed team", "allowed_users: [someone-else]\nallowed_teams: [core]\n", "core", "active", "finished"},
		{"member by org/slug", "allowed_teams: [" + harness.Owner + "/core]\n", "core", "active", "finished"},
		{"member of another team", "allowed_teams: [core]\n", "docs", "active", "denied"},
		{"pending invitation", "allowed_teams: [core]\n", "core", "pending", "denied"},
		{"in no team", "allowed_teams: [core, ops]\n", "", "", "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := startFakeEnv(t, nil)
			env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte(tt.config))
			if tt.team != "" {
				env.GH.AddTeamMember(harness.Owner, tt.team, harness.Requester, tt.status)
			}
			_, state := trigger(t, env, "@agentgate please fix the spelling", harness.Requester)
			if state != tt.state {
				t.Fatalf("state = %q, want %q; comments %q", state, tt.state, botComments(env))
			}
			prs := env.GH.PullRequests(harness.Owner, harness.Repo)
			refused := false
			for _, c := range botComments(env) {
				refused = refused || strings.Contains(c, "does not list you")
			}
			if tt.state == "denied" {
				if !refused || len(prs) != 0 {
					t.Errorf("refused comment %v, pull requests %d; want the comment and none", refused, len(prs))
				}
				return
			}
			if refused || len(prs) != 1 {
				t.Errorf("refused comment %v, pull requests %d; want no refusal and 1", refused, len(prs))
			}
		})
	}
}
