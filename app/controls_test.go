package app

import (
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

func TestControlSettings(t *testing.T) {
	env := map[string]string{
		"AGENTGATE_UNTRUSTED":                     "deny",
		"AGENTGATE_OUTSIDE_COLLABORATORS_PENDING": "true",
		"AGENTGATE_ON_BUSY":                       "restart",
		"AGENTGATE_MAX_FOLLOW_UPS":                "2",
		"AGENTGATE_FOLLOW_UP_DELAY":               "3s",
		"AGENTGATE_PAUSED":                        "true",
		"AGENTGATE_RUNS_PER_REQUESTER_HOUR":       "4",
		"AGENTGATE_RUNS_PER_REQUESTER_DAY":        "10",
		"AGENTGATE_RUNS_PER_REPO_DAY":             "50",
		"AGENTGATE_TOKENS_PER_REPO_DAY":           "1000000",
		"AGENTGATE_AGENT_TIME_PER_REPO_DAY":       "2h",
	}
	cfg, _, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Controls{
		Untrusted: "deny", OutsideCollaboratorsPending: true, OnBusy: "restart", MaxFollowUps: 2,
		FollowUpDelay: 3 * time.Second, Paused: true, RunsPerRequesterHour: 4, RunsPerRequesterDay: 10,
		RunsPerRepoDay: 50, TokensPerRepoDay: 1_000_000, AgentTimePerRepoDay: 2 * time.Hour,
	}
	if cfg.Controls != want {
		t.Errorf("controls = %+v\nwant %+v", cfg.Controls, want)
	}
	if d := DefaultConfig().Controls; d.Untrusted != "pending" || d.OnBusy != "refuse" || d.MaxFollowUps != 5 || d.Paused {
		t.Errorf("defaults = %+v", d)
	}
	for _, bad := range []struct{ key, value string }{
		{"untrusted", "maybe"}, {"on-busy", "queue"}, {"max-follow-ups", "-1"}, {"follow-up-delay", "soon"},
		{"paused", "perhaps"}, {"runs-per-repo-day", "many"}, {"tokens-per-repo-day", "-5"},
	} {
		_, _, err := LoadConfig("serve", []string{"--" + bad.key, bad.value}, func(string) string { return "" }, nil)
		if err == nil || !strings.Contains(err.Error(), bad.key) {
			t.Errorf("--%s %q: err = %v, want one naming the setting", bad.key, bad.value, err)
		}
	}
}

func TestFeedbackInTask(t *testing.T) {
	a := webhook.RunJobArgs{
		RunID: "r", Owner: "o", Repo: "r", IssueNumber: 9, IssueTitle: "Fix it", IssueBody: "body",
		FollowUp: &webhook.FollowUp{PR: 9, Issue: 3, Branch: "agentgate/3-fix-it", Iteration: 2, Feedback: []webhook.Feedback{
			{Author: "ann", Body: "use a map"},
			{Author: "bob", Body: "typo here", Path: "a.go", Line: 12},
		}},
	}
	got := taskText(a)
	for _, want := range []string{"## Follow-up 2 on pull request #9", "`agentgate/3-fix-it`", "### From @ann\n\nuse a map", "### From @bob on `a.go` line 12\n\ntypo here"} {
		if !strings.Contains(got, want) {
			t.Errorf("task lacks %q:\n%s", want, got)
		}
	}
	if body := prBody(a, "", ""); !strings.HasPrefix(body, "Fixes #3") {
		t.Errorf("a follow-up's pull request body fixes the wrong issue: %q", body[:20])
	}
	a.FollowUp = nil
	if strings.Contains(taskText(a), "Follow-up") {
		t.Error("a first run's task mentions a follow-up")
	}
}

// Tokens are what the gateway measured (llm.request), never what the
// agent claims (llm.usage).
func TestRunUsage(t *testing.T) {
	evs := []telemetry.Event{
		{Kind: telemetry.KindSandboxExited, Attrs: map[string]any{"duration_ms": float64(1500)}},
		{Kind: telemetry.KindLLMRequest, Attrs: map[string]any{"input_tokens": float64(100), "output_tokens": float64(20)}},
		{Kind: telemetry.KindSandboxExited, Attrs: map[string]any{"duration_ms": int64(500)}},
		{Kind: telemetry.KindLLMUsage, Attrs: map[string]any{"input_tokens": float64(1), "output_tokens": float64(1)}},
	}
	tokens, d := runUsage(evs)
	if d != 2*time.Second {
		t.Errorf("agent time = %s, want 2s", d)
	}
	if tokens != 120 {
		t.Errorf("tokens = %d, want 120", tokens)
	}
}

func TestHelpTextNamesEveryCommand(t *testing.T) {
	h := helpText("@bot")
	for _, c := range []string{webhook.CmdHelp, webhook.CmdStatus, webhook.CmdCancel, webhook.CmdRetry, webhook.CmdApprove, webhook.CmdRevert} {
		if !strings.Contains(h, "`@bot` "+c) {
			t.Errorf("help lacks %s:\n%s", c, h)
		}
	}
}
