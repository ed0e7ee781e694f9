package policy

import "testing"

func TestMatchPath(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{".github/workflows/**", ".github/workflows/ci.yml", true},
		{".github/workflows/**", ".github/workflows/sub/x.yml", true},
		{".github/workflows/**", ".github/workflowsx/ci.yml", false},
		{".github/workflows/**", ".github/other.yml", false},
		{"CODEOWNERS", "CODEOWNERS", true},
		{"CODEOWNERS", "docs/CODEOWNERS", true},
		{"CODEOWNERS", "CODEOWNERS.md", false},
		{"*.pem", "a/b/key.pem", true},
		{"deploy/*.yml", "deploy/a.yml", true},
		{"deploy/*.yml", "deploy/x/a.yml", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{".github/agentgate.yml", ".github/agentgate.yml", true},
		{".github/agentgate.yml", "x/.github/agentgate.yml", false},
	}
	for _, tt := range tests {
		if got := MatchPath(tt.glob, tt.path); got != tt.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
	if !MatchAny(DefaultProtectedPaths, ".github/workflows/release.yaml") || MatchAny(DefaultProtectedPaths, "main.go") {
		t.Error("MatchAny on the defaults")
	}
}

func TestHostAllowed(t *testing.T) {
	allow := []string{"*.golang.org", "github.com", "registry.npmjs.org:8443"}
	tests := []struct {
		host string
		port int
		want bool
	}{
		{"proxy.golang.org", 443, true},
		{"PROXY.golang.org.", 80, true},
		{"golang.org", 443, false},
		{"evilgolang.org", 443, false},
		{"github.com", 443, true},
		{"github.com", 22, false},
		{"registry.npmjs.org", 8443, true},
		{"registry.npmjs.org", 443, false},
	}
	for _, tt := range tests {
		if got := HostAllowed(allow, tt.host, tt.port); got != tt.want {
			t.Errorf("HostAllowed(%q, %d) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
}

func TestCoveredBy(t *testing.T) {
	org := []string{"*.example.com", "api.github.com", "x.org:8080"}
	tests := []struct {
		entry string
		want  bool
	}{
		{"a.example.com", true},
		{"*.cdn.example.com", true},
		{"*.example.com", true},
		{"example.com", false},
		{"api.github.com:443", true},
		{"*.github.com", false},
		{"x.org:8080", true},
		{"x.org", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if got := coveredBy(org, tt.entry); got != tt.want {
			t.Errorf("coveredBy(%q) = %v, want %v", tt.entry, got, tt.want)
		}
	}
}
