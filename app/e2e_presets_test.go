package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/stubagent"
	"github.com/agentgate/agentgate/telemetry"
)

// Each preset, run end to end with its contract stub (agentgate/stub:dev,
// which refuses a command line or environment its CLI at the pinned
// version would not start with) through the real sandbox, relay and
// gateway to a pull request: the stub sends its CLI's request shape, the
// upstream sees the real key and never the placeholder, the change is in
// the pull request, the agent's events reach the audit trail, and the
// image's version label matches the preset's, so the check run carries no
// version warning.
func TestEndToEndPresetsWithContractStubs(t *testing.T) {
	const (
		openAIKey    = "sk-fake-openai-upstream-0123456789abcdef"
		anthropicKey = "sk-ant-fake-anthropic-upstream-0123456789"
		readme       = "# Hello-World\n\nMy first commit.\n"
	)
	requireDocker(t)
	if _, err := stubagent.EnsureImage(context.Background(), dockertest.Client(t)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		preset, model string
		paths         []string // upstream paths, in order
		summary       string   // in the check run
		event         func(evs []telemetry.Event) bool
	}{
		{"codex", "gpt-5-codex", []string{"/v1/responses"}, "cat README.md", func(evs []telemetry.Event) bool {
			return slices.ContainsFunc(evs, func(ev telemetry.Event) bool {
				return ev.Kind == telemetry.KindLLMUsage && ev.Actor == "agent" && attrInt(ev, "cached_input_tokens") == 1000
			})
		}},
		{"claude-code", "claude-sonnet-4-5", []string{"/v1/messages/count_tokens", "/v1/messages"}, "", func(evs []telemetry.Event) bool {
			return slices.ContainsFunc(evs, func(ev telemetry.Event) bool {
				return ev.Kind == telemetry.KindLLMUsage && ev.Actor == "agent" && attrInt(ev, "input_tokens") == 26+5321+95090
			})
		}},
		{"aider", "gpt-4.1", []string{"/v1/chat/completions"}, "", func(evs []telemetry.Event) bool {
			out := outputTail(evs)
			return strings.Contains(out, "Applied edit to README.md") && strings.Contains(out, "Run shell command? (Y)es/(N)o [Yes]: n") &&
				!strings.Contains(out, "Your Name") && !strings.Contains(out, "what's new")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			up := stubagent.NewUpstream(readme)
			defer up.Close()
			env := startEnv(t, func(c *app.Config) {
				c.AgentImages = []string{stubagent.Image}
				c.AgentModel = tc.model
				c.Network.OpenAIURL, c.Network.OpenAIKey = up.URL, openAIKey
				c.Network.AnthropicURL, c.Network.AnthropicKey = up.URL, anthropicKey
			})
			env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml",
				[]byte("agent:\n  preset: "+tc.preset+"\n  image: "+stubagent.Image+"\n"))
			d, _ := trigger(t, env, "@agentgate fix the typo "+stubagent.WriteDirective+"README.md", harness.Requester)
			events, all := runEvents(t, env, d.RunID)
			prs := env.GH.PullRequests(harness.Owner, harness.Repo)
			if len(prs) != 1 {
				t.Fatalf("pull requests = %d; output:\n%s\nevents:\n%s", len(prs), outputTail(events), all)
			}
			content, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, prs[0].HeadSHA, "README.md")
			if err != nil || content != readme {
				t.Errorf("README on the branch = %q, %v", content, err)
			}
			var paths []string
			for _, r := range up.Requests() {
				paths = append(paths, r.Path)
				auth := r.Header.Get("Authorization") + r.Header.Get("X-Api-Key")
				if auth != "Bearer "+openAIKey && auth != anthropicKey {
					t.Errorf("%s reached the upstream with %q, not the real key", r.Path, auth)
				}
			}
			if !slices.Equal(paths, tc.paths) {
				t.Errorf("upstream requests %q, want %q", paths, tc.paths)
			}
			started := eventOf(events, telemetry.KindSandboxStarted)
			if started == nil || started.Attrs["agent"] != tc.preset || started.Attrs["agent_version_warning"] != nil ||
				!strings.Contains(attrString(*started, "agent_version"), attrString(*started, "agent_version_checked")) {
				t.Errorf("sandbox.started = %+v", started)
			}
			if !tc.event(events) {
				t.Errorf("the agent's events are missing; events:\n%s", all)
			}
			checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
			if len(checks) != 1 || strings.Contains(checks[0].Summary, "Warning") || !strings.Contains(checks[0].Summary, tc.summary) {
				t.Errorf("check run: %+v", checks)
			}
		})
	}
}

func attrInt(ev telemetry.Event, key string) int {
	switch v := ev.Attrs[key].(type) {
	case int:
		return v
	case float64:
		return int(v)
	case int64:
		return int(v)
	}
	return -1
}

func attrString(ev telemetry.Event, key string) string {
	s, _ := ev.Attrs[key].(string)
	return s
}
