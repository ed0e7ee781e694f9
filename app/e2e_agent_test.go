package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/fakellm"
	"github.com/agentgate/agentgate/internal/harness"
)

// The built-in agent in the real sandbox, driven by a scripted model behind
// the real gateway: the pull request holds the change the model's tool
// calls made, streamed in fragments.
func TestEndToEndBuiltinAgent(t *testing.T) {
	const realKey = "sk-fake-upstream-key-abcdef0123456789"
	fake := fakellm.New([]fakellm.Turn{
		{Stream: true, ToolCalls: []fakellm.ToolCall{{Name: "read_file", Arguments: `{"path":"README.md"}`}}, PromptTokens: 100, OutputTokens: 10},
		{Stream: true, ToolCalls: []fakellm.ToolCall{{Name: "write_file", Arguments: `{"path":"README.md","content":"# Hello-World\n\nMy first commit.\n"}`}}, PromptTokens: 120, OutputTokens: 30},
		{ToolCalls: []fakellm.ToolCall{{Name: "run", Arguments: `{"command":"cat README.md"}`}}, PromptTokens: 150, OutputTokens: 10},
		{ToolCalls: []fakellm.ToolCall{{Name: "finish", Arguments: `{"summary":"Fixed the typo commmit -> commit in README.md."}`}}, PromptTokens: 160, OutputTokens: 12},
	}, fakellm.WithKey(realKey), fakellm.WithFragment(3))
	defer fake.Close()
	env := startEnv(t, func(c *app.Config) {
		c.AgentPreset = "builtin"
		c.AgentModel = "test-model"
		c.Network.OpenAIURL = fake.URL
		c.Network.OpenAIKey = realKey
	})
	d, _ := trigger(t, env, "@agentgate fix the typo", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		events, all := runEvents(t, env, d.RunID)
		t.Fatalf("pull requests = %d; output:\n%s\nevents:\n%s", len(prs), outputTail(events), all)
	}
	content, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, prs[0].HeadSHA, "README.md")
	if err != nil || content != "# Hello-World\n\nMy first commit.\n" {
		t.Errorf("README on the branch = %q, %v", content, err)
	}
	if !strings.Contains(prs[0].Body, "Fixed the typo commmit") {
		t.Errorf("PR body lacks the agent's summary:\n%s", prs[0].Body)
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 || !strings.Contains(checks[0].Summary, "cat README.md") {
		t.Errorf("check run does not list the agent's command: %+v", checks)
	}
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("model requests = %d, want 4", len(reqs))
	}
	for _, r := range reqs {
		if r.Authorization != "Bearer "+realKey {
			t.Errorf("the upstream saw %q, not the real key", r.Authorization)
		}
	}
	if last := reqs[3].Messages; len(last) == 0 || !strings.Contains(last[len(last)-1].Text(), "My first commit.") {
		t.Errorf("the run tool's output did not reach the model: %+v", last)
	}
}
