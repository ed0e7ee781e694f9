package policy

import "testing"

func TestAllows(t *testing.T) {
	tests := []struct {
		role, min string
		want      bool
	}{
		{"admin", "write", true},
		{"maintain", "write", true},
		{"write", "write", true},
		{"triage", "write", false},
		{"read", "write", false},
		{"none", "read", false},
		{"", "read", false},
		{"admin", "bogus", false},
		{"superuser", "read", false},
		{"triage", "triage", true},
	}
	for _, tt := range tests {
		if got := Allows(tt.role, tt.min); got != tt.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", tt.role, tt.min, got, tt.want)
		}
	}
}

func TestEffective(t *testing.T) {
	tests := []struct{ perm, role, want string }{
		{"write", "maintain", "maintain"},
		{"read", "triage", "triage"},
		{"write", "custom-role", "write"},
		{"admin", "", "admin"},
		{"weird", "", "none"},
	}
	for _, tt := range tests {
		if got := Effective(tt.perm, tt.role); got != tt.want {
			t.Errorf("Effective(%q, %q) = %q, want %q", tt.perm, tt.role, got, tt.want)
		}
	}
}

func TestIsBot(t *testing.T) {
	tests := []struct {
		login, typ string
		bot        bool
	}{
		{"octocat", "User", false},
		{"dependabot[bot]", "Bot", true},
		{"agentgate[bot]", "User", true},
		{"renovate", "Bot", true},
		{"AGENTGATE[bot]", "User", true},
		{"agentgate", "User", false},
	}
	for _, tt := range tests {
		if got := IsBot(tt.login, tt.typ, "agentgate[bot]") != nil; got != tt.bot {
			t.Errorf("IsBot(%q, %q) = %v, want %v", tt.login, tt.typ, got, tt.bot)
		}
	}
}
