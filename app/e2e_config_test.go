package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/policy"
)

// The repository's .github/agentgate.yml is applied: an invalid file gets
// one comment naming the line and no run; a stricter minimum permission
// refuses a writer; a workflow change is not pushed.
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
			state:     "pending",
			want:      []string{"@writer", "**maintain** permission"},
		},
		{
			name:      "protected path",
			config:    "max_files: 10\n",
			requester: harness.Requester,
			comment:   "@agentgate agentgate-test: write .github/workflows/ci.yml on: push",
			state:     "finished",
			want:      []string{"rejected by policy", "`.github/workflows/ci.yml`", "was not pushed"},
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

// Learning mode enforces exactly as always and proposes, as its own pull
// request, the refused destinations that the operator and the org allow.
func TestEndToEndLearningMode(t *testing.T) {
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi\n") }))
	defer outside.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(outside.URL, "http://"))
	env := startEnv(t, func(c *app.Config) {
		c.Network.Allow = []string{"localhost:" + port}
		c.Network.AllowPrivate = []string{"localhost"}
	})
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("# the repository allows nothing yet\nnetwork:\n  mode: learn\n  allow: []\n"))
	d, _ := trigger(t, env, strings.Join([]string{
		"@agentgate fetch things",
		"agentgate-test: proxyget http://localhost:" + port + "/",
		"agentgate-test: proxyget http://beyond-the-operator.invalid/",
		"agentgate-test: write OUT.md done",
	}, "\n"), harness.Requester)

	events, _ := runEvents(t, env, d.RunID)
	if out := outputTail(events); !strings.Contains(out, "proxyget http://localhost:"+port+"/ status=403") {
		t.Errorf("learning mode let the request through:\n%s", out)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 2 {
		t.Fatalf("pull requests = %d, want the change and the allowlist proposal", len(prs))
	}
	var proposal *testgh.PullRequest
	for i := range prs {
		if prs[i].Head == "agentgate/1-allowlist" {
			proposal = &prs[i]
		}
	}
	if proposal == nil {
		t.Fatalf("no allowlist proposal among %+v", prs)
	}
	if !strings.Contains(proposal.Body, "localhost:"+port) || strings.Contains(proposal.Body, "beyond-the-operator") {
		t.Errorf("proposal body:\n%s", proposal.Body)
	}
	cfg, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, proposal.HeadSHA, ".github/agentgate.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cfg, "# the repository allows nothing yet") || !strings.Contains(cfg, "mode: learn") {
		t.Errorf("proposed configuration lost the file's content:\n%s", cfg)
	}
	parsed, err := policy.Parse(".github/agentgate.yml", []byte(cfg))
	if err != nil {
		t.Fatalf("proposed configuration does not validate: %v", err)
	}
	if parsed.Network == nil || strings.Join(parsed.Network.Allow, " ") != "localhost:"+port {
		t.Errorf("proposed allowlist = %+v, want only localhost:%s:\n%s", parsed.Network, port, cfg)
	}
	if c := botComments(env); len(c) != 1 || !strings.Contains(c[0], fmt.Sprintf("Learning mode: #%d", proposal.Number)) {
		t.Errorf("progress comment does not point at the proposal: %q", c)
	}
}
