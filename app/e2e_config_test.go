package app_test

import (
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/harness"
)

// The repository's .github/agentgate.yml is applied: an invalid file gets
// one comment naming the line and no run; a stricter minimum permission
// refuses a writer; protected paths reject the change.
func TestEndToEndRepositoryConfig(t *testing.T) {
	tests := []struct {
		name      string
		config    string
		requester string
		comment   string
		state     string
		want      []string // in the one bot comment
	}{
		{
			name:      "invalid config",
			config:    "# agentgate\nlimits:\n  memory: lots\n",
			requester: harness.Requester,
			comment:   "@agentgate fix",
			state:     "denied",
			want:      []string{".github/agentgate.yml:3", "limits.memory", "not a size"},
		},
		{
			name:      "unknown key",
			config:    "draft: true\nagent:\n  presett: codex\n",
			requester: harness.Requester,
			comment:   "@agentgate fix",
			state:     "denied",
			want:      []string{".github/agentgate.yml:3", "presett"},
		},
		{
			name:      "stricter minimum permission",
			config:    "min_permission: maintain\n",
			requester: "writer",
			comment:   "@agentgate fix",
			state:     "denied",
			want:      []string{"@writer", "**maintain** permission"},
		},
		{
			name:      "protected path",
			config:    "max_files: 10\n",
			requester: harness.Requester,
			comment:   "@agentgate agentgate-test: write .github/workflows/ci.yml on: push",
			state:     "finished",
			want:      []string{"rejected by policy", ".github/workflows/ci.yml is a protected path"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startEnv(t, nil)
			env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte(tt.config))
			env.GH.SetPermission(harness.Owner, harness.Repo, "writer", "write")
			_, state := trigger(t, env, tt.comment, tt.requester)
			if state != tt.state {
				t.Errorf("state = %q, want %q", state, tt.state)
			}
			comments := botComments(env)
			if len(comments) != 1 {
				t.Fatalf("bot comments = %d, want 1: %q", len(comments), comments)
			}
			for _, w := range tt.want {
				if !strings.Contains(comments[0], w) {
					t.Errorf("comment lacks %q:\n%s", w, comments[0])
				}
			}
			if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
				t.Errorf("pull requests = %d, want none", len(prs))
			}
		})
	}
}
