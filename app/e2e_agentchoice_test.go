package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/stubagent"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/telemetry"
)

// orgFile is the org's defaults: the presets and images repositories may
// pick from.
const orgFile = `presets: [codex, custom]
images: [agentgate/stub:dev, agentgate/testagent:dev, other/agent:1]
`

// startChoiceEnv starts an environment whose operator allows the stub and
// test agent images, with the org's lists in its .github repository.
func startChoiceEnv(t *testing.T) *harness.Env {
	t.Helper()
	requireDocker(t)
	ctx := context.Background()
	if _, err := stubagent.EnsureImage(ctx, dockertest.Client(t)); err != nil {
		t.Fatal(err)
	}
	env := startEnv(t, func(c *app.Config) {
		c.AgentImages = []string{stubagent.Image, testagent.Image}
	})
	env.GH.AddRepo(testgh.Repo{Owner: harness.Owner, Name: ".github", DefaultBranch: "main"})
	env.GH.AddFile(harness.Owner, ".github", ".github/agentgate.yml", []byte(orgFile))
	return env
}

// The repository's configuration picks the agent from what the org and
// the operator allow: first codex (here the stub image, which records how
// it was started), then a custom agent that makes the pull request.
func TestEndToEndRepositoryPicksAgent(t *testing.T) {
	env := startChoiceEnv(t)
	repo := harness.Owner + "/" + harness.Repo

	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("agent:\n  preset: codex\n  image: agentgate/stub:dev\n"))
	d, _ := trigger(t, env, "@agentgate fix the typo", harness.Requester)
	events, all := runEvents(t, env, d.RunID)
	started := eventOf(events, telemetry.KindSandboxStarted)
	if started == nil || started.Attrs["agent"] != "codex" || started.Attrs["image"] != stubagent.Image {
		t.Fatalf("sandbox.started = %+v; events:\n%s", started, all)
	}
	out := outputTail(events)
	if !strings.Contains(out, `"codex","exec","--json","--dangerously-bypass-approvals-and-sandbox"`) || !strings.Contains(out, `"cwd":"/workspace"`) { // the tail of the stub's record
		t.Errorf("the codex preset's command did not run:\n%s", out)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Fatalf("the stub changed nothing, yet %d pull requests", len(prs))
	}

	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte(
		"agent:\n  preset: custom\n  image: agentgate/testagent:dev\n  command: [/usr/local/bin/testagent]\n"))
	d, _ = trigger(t, env, "@agentgate agentgate-test: write PICKED.md custom agent", harness.Requester)
	events, all = runEvents(t, env, d.RunID)
	started = eventOf(events, telemetry.KindSandboxStarted)
	if started == nil || started.Attrs["agent"] != "custom" || started.Attrs["image"] != testagent.Image {
		t.Fatalf("sandbox.started = %+v; events:\n%s", started, all)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d; events:\n%s", len(prs), all)
	}
	if got, err := env.Git.ReadFile(context.Background(), repo, prs[0].HeadSHA, "PICKED.md"); err != nil || got != "custom agent" {
		t.Errorf("PICKED.md = %q, %v", got, err)
	}
}

// A repository that picks what the org or the operator does not allow, or
// an agent that does not exist, gets one comment naming the line, and no
// run.
func TestEndToEndRepositoryAgentRefused(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"preset not in the org's list", "draft: true\nagent:\n  preset: aider\n",
			[]string{".github/agentgate.yml:3", "agent.preset", `"aider" is not one of the org's presets (codex, custom)`}},
		{"unknown preset", "agent:\n  preset: gpt-engineer\n",
			[]string{".github/agentgate.yml:2", "agent.preset"}},
		{"image not in the org's list", "agent:\n  preset: custom\n  image: evil/agent:1\n  command: [x]\n",
			[]string{".github/agentgate.yml:3", "agent.image", `"evil/agent:1" is not one of the org's images`}},
		{"image the operator does not run", "agent:\n  preset: codex\n  image: other/agent:1\n",
			[]string{".github/agentgate.yml:3", "agent.image", `image "other/agent:1" is not one this agentgate runs`}},
		{"setup secret the operator lacks", "setup:\n  command: make deps\n  secrets: [AWS_SECRET]\n",
			[]string{".github/agentgate.yml:3", "setup.secrets[0]", "AWS_SECRET is not a setup secret this agentgate provides"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startChoiceEnv(t)
			env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte(tt.config))
			d, state := trigger(t, env, "@agentgate fix", harness.Requester)
			if state != "denied" {
				t.Errorf("state = %q, want denied", state)
			}
			comments := botComments(env)
			if len(comments) != 1 {
				t.Fatalf("bot comments = %q", comments)
			}
			for _, w := range tt.want {
				if !strings.Contains(comments[0], w) {
					t.Errorf("comment lacks %q:\n%s", w, comments[0])
				}
			}
			events, _ := runEvents(t, env, d.RunID)
			if eventOf(events, telemetry.KindSandboxStarted) != nil {
				t.Error("a sandbox started")
			}
		})
	}
}

func eventOf(events []telemetry.Event, kind string) *telemetry.Event {
	for i := range events {
		if events[i].Kind == kind {
			return &events[i]
		}
	}
	return nil
}
