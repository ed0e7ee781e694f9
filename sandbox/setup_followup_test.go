package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// A follow-up run clones the agent's branch, where the previous agent
// added a postinstall script to package.json: `npm ci` in the setup phase
// would run it with the setup secret in its environment. The setup phase
// runs without its secrets there (the secret is not in its environment),
// or not at all under on_untrusted: stop, and a setup.trust event says
// why; the same plan on the default branch, or on a branch that changed
// no setup input, still gets the secret. (The test image has no shell:
// the setup command is the test agent printing its environment.)
func TestFollowUpSetupWithoutSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const secret = "npm-followup-secret-0123456789"
	dir := t.TempDir()
	repo := initRepo(t, dir)
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name":"app"}`+"\n")
	write("src/main.js", "console.log(1)\n")
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "init")
	// The agent's branch: package.json now runs a script at install time.
	gitIn(t, repo, "checkout", "-q", "-b", "agentgate/1-leak")
	write("package.json", `{"name":"app","scripts":{"postinstall":"echo $NPM_TOKEN | base64"}}`+"\n")
	gitIn(t, repo, "commit", "-q", "-am", "agent: postinstall")
	// Another branch that only changed code the setup does not read.
	gitIn(t, repo, "checkout", "-q", "-b", "agentgate/2-code", "main")
	write("src/main.js", "console.log(2)\n")
	gitIn(t, repo, "commit", "-q", "-am", "agent: code")
	gitIn(t, repo, "checkout", "-q", "main")

	sb, db := testSandbox(ctx, t, dir, "setup-trust-test", nil)
	inputs := []string{"package.json", "package-lock.json"}
	cases := []struct {
		name, branch string
		inputs       []string
		on           string
		decision     string
		outcome      sandbox.Outcome
		secret       bool // the setup phase's environment holds NPM_TOKEN
	}{
		{"the default branch gets the secret", "main", nil, policy.SetupWithoutSecrets, "with-secrets", sandbox.OutcomeNoChange, true},
		{"the agent's package.json runs without it", "agentgate/1-leak", inputs, policy.SetupWithoutSecrets, policy.SetupWithoutSecrets, sandbox.OutcomeNoChange, false},
		{"or not at all", "agentgate/1-leak", inputs, policy.SetupStop, policy.SetupStop, sandbox.OutcomeRejected, false},
		{"a change outside the inputs keeps it", "agentgate/2-code", inputs, policy.SetupStop, "with-secrets", sandbox.OutcomeNoChange, true},
		{"every path is an input by default", "agentgate/2-code", nil, policy.SetupWithoutSecrets, policy.SetupWithoutSecrets, sandbox.OutcomeNoChange, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runID := "setup-trust-" + strconv.Itoa(i)
			pol := &sandbox.RunPolicy{
				Limits: runner.Limits{Timeout: time.Minute, OutputBytes: 1 << 20}, WorkspaceBytes: 32 << 20, Network: sandbox.NetworkConfig{Mode: "none"},
				Setup: &sandbox.SetupPlan{
					Command: []string{"testagent"}, Timeout: 30 * time.Second,
					Secrets: []string{"NPM_TOKEN=" + secret}, SecretNames: []string{"NPM_TOKEN"},
					Inputs: tc.inputs, OnUntrusted: tc.on,
				},
			}
			att, err := sb.Execute(ctx, sandbox.Task{RunID: runID, CloneURL: repo, Branch: tc.branch, DefaultBranch: "main",
				Text: "agentgate-test: env\n", Actor: "test", Policy: pol})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = att.Close() }()
			if att.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%s), want %q", att.Outcome, att.Reason, tc.outcome)
			}
			events, err := db.Events(ctx, runID)
			if err != nil {
				t.Fatal(err)
			}
			var decision, setupOut string
			setupRan := false
			for _, ev := range events {
				switch ev.Kind {
				case telemetry.KindSetupTrust:
					decision, _ = ev.Attrs["decision"].(string)
				case telemetry.KindSetupExited:
					setupRan = true
					setupOut, _ = ev.Attrs["output_tail"].(string)
				}
			}
			if decision != tc.decision {
				t.Errorf("setup.trust decision %q, want %q", decision, tc.decision)
			}
			if tc.outcome == sandbox.OutcomeRejected {
				if setupRan || !strings.Contains(att.Reason, "package.json") {
					t.Errorf("setup ran (%v) or the reason does not name the input: %s", setupRan, att.Reason)
				}
				return
			}
			if !strings.Contains(setupOut, "AGENTGATE_") {
				t.Fatalf("the setup phase printed no environment: %q", setupOut)
			}
			if got := strings.Contains(setupOut, "NPM_TOKEN="); got != tc.secret {
				t.Errorf("NPM_TOKEN in the setup phase's environment: %v, want %v\n%s", got, tc.secret, setupOut)
			}
			if strings.Contains(setupOut, secret) {
				t.Error("the setup output holds the secret")
			}
		})
	}
}
