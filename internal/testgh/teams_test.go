package testgh

import (
	"context"
	"net/http"
	"testing"
)

func TestTeamMembership(t *testing.T) {
	f := newFixture(t)
	f.s.AddTeamMember("octo", "core", "ada", "")
	f.s.AddTeamMember("octo", "core", "pen", "pending")
	f.s.AddTeamMember("other", "core", "max", "")
	gh := f.client(t, f.mint(t, nil))
	tests := []struct {
		org, team, login string
		wantStatus       int
		wantState        string
	}{
		{"octo", "core", "ada", http.StatusOK, "active"},
		{"OCTO", "Core", "ADA", http.StatusOK, "active"}, // slugs and logins are case-insensitive
		{"octo", "core", "pen", http.StatusOK, "pending"},
		{"octo", "core", "bob", http.StatusNotFound, ""},
		{"octo", "ops", "ada", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.org+"/"+tt.team+"/"+tt.login, func(t *testing.T) {
			m, resp, err := gh.Teams.GetTeamMembershipBySlug(context.Background(), tt.org, tt.team, tt.login)
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %v (%v), want %d", resp, err, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK && (err != nil || m.GetState() != tt.wantState || m.GetRole() != "member") {
				t.Errorf("membership = %+v, %v; want state %q", m, err, tt.wantState)
			}
		})
	}
	f.noViolations(t)

	// Another organization's teams are not the installation's to read.
	if _, resp, _ := gh.Teams.GetTeamMembershipBySlug(context.Background(), "other", "core", "max"); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("other org: %v, want 404", resp)
	}
	if v := f.s.Violations(); len(v) != 1 {
		t.Errorf("violations = %q, want the other-org read", v)
	}

	// A token without members:read is refused.
	f2 := newFixture(t)
	f2.s.AddTeamMember("octo", "core", "ada", "")
	narrow := f2.client(t, f2.mint(t, map[string]any{"permissions": map[string]string{"issues": "read"}}))
	if _, resp, _ := narrow.Teams.GetTeamMembershipBySlug(context.Background(), "octo", "core", "ada"); resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("without members:read: %v, want 403", resp)
	}
}
