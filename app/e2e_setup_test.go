package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// setupScript is the repository's setup command in these tests: it
// installs a "dependency", proves it read the secret (its hash into the
// work tree and its length on the output) and fetches from the registry
// through the setup phase's proxy with the test agent.
const setupScript = `set -e
mkdir -p deps/dep
echo 'dep 1.0' > deps/dep/VERSION
printf %s "$NPM_TOKEN" | sha256sum | cut -d' ' -f1 > deps/token.sha256
echo "setup saw a token of ${#NPM_TOKEN} bytes"
AGENTGATE_TASK_FILE=/workspace/setup.task testagent
`

// registry stands for a package registry outside: it counts its requests.
func registry(t *testing.T) (port string, hits *atomic.Int32) {
	t.Helper()
	hits = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "package tarball\n")
	}))
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	return port, hits
}

// commitFiles adds files to the test repository's main branch.
func commitFiles(t *testing.T, env *harness.Env, files map[string]string) {
	t.Helper()
	if _, err := env.Git.Commit(context.Background(), harness.Owner+"/"+harness.Repo, "main", "test files", testgit.Files(files)); err != nil {
		t.Fatal(err)
	}
}

// The setup phase runs first with its own allowlist and the setup secret;
// the agent then runs without either: the registry is refused, the secret
// is in neither its environment nor its processes, and the pull request
// holds only the agent's change, not what setup installed.
func TestEndToEndSetupPhase(t *testing.T) {
	const secret = "npm-setup-secret-0123456789abcdef"
	port, hits := registry(t)
	env := startEnv(t, func(c *app.Config) {
		c.Network.Allow = []string{} // the agent reaches nothing but the gateway
		c.Network.AllowPrivate = []string{"localhost"}
		c.SetupAllow = []string{"localhost:" + port}
		c.SetupSecrets = map[string]string{"NPM_TOKEN": secret}
		c.SetupSecretBindings = map[string]app.Binding{"NPM_TOKEN": {Installations: []int64{harness.InstallationID}}}
	})
	commitFiles(t, env, map[string]string{
		"setup.sh":   setupScript,
		"setup.task": "agentgate-test: proxyget http://localhost:" + port + "/dep.tgz\n",
	})
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte(fmt.Sprintf(`setup:
  command: [sh, /workspace/setup.sh]
  allow: ["localhost:%s"]
  secrets: [NPM_TOKEN]
  timeout: 1m
`, port)))
	d, _ := trigger(t, env, strings.Join([]string{
		"@agentgate add notes",
		"agentgate-test: env",
		"agentgate-test: procs",
		"agentgate-test: proxyget http://localhost:" + port + "/dep.tgz",
		"agentgate-test: write NOTES.md the agent's change",
	}, "\n"), harness.Requester)
	events, all := runEvents(t, env, d.RunID)

	var setupOut string
	for _, ev := range events {
		if ev.Kind == telemetry.KindSetupExited {
			setupOut, _ = ev.Attrs["output_tail"].(string)
			if code, _ := ev.Attrs["exit_code"].(float64); code != 0 {
				t.Fatalf("setup failed:\n%s", setupOut)
			}
		}
	}
	if !strings.Contains(setupOut, fmt.Sprintf("setup saw a token of %d bytes", len(secret))) {
		t.Errorf("setup did not get the secret:\n%s", setupOut)
	}
	if !strings.Contains(setupOut, "proxyget http://localhost:"+port+"/dep.tgz status=200") {
		t.Errorf("setup could not reach its allowlisted registry:\n%s", setupOut)
	}
	agentOut := outputTail(events)
	if !strings.Contains(agentOut, "proxyget http://localhost:"+port+"/dep.tgz status=403") {
		t.Errorf("the agent reached the setup phase's registry:\n%s", agentOut)
	}
	var setupAllowed int
	for _, ev := range events {
		if ev.Kind == "net.allowed" && ev.Attrs["phase"] == "setup" {
			setupAllowed++
			if ev.Actor != "setup" {
				t.Errorf("the setup phase's egress is recorded as %q's", ev.Actor)
			}
		}
	}
	if setupAllowed != 1 {
		t.Errorf("setup egress events = %d, want 1", setupAllowed)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("registry requests = %d, want 1 (setup's)", n)
	}
	if !strings.Contains(agentOut, "AGENTGATE_TASK_FILE=") {
		t.Fatalf("the agent's env directive printed nothing:\n%s", agentOut)
	}
	for _, leak := range []string{secret, "NPM_TOKEN", "setup.sh", "sha256sum"} {
		if strings.Contains(agentOut, leak) {
			t.Errorf("the agent saw %q (environment or processes):\n%s", leak, agentOut)
		}
	}
	if strings.Contains(all, secret) {
		t.Error("the secret is in the audit trail")
	}

	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d; events:\n%s", len(prs), all)
	}
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo
	files, err := env.Git.Git(ctx, repo, "diff", "--name-only", prs[0].HeadSHA+"^", prs[0].HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(files) != "NOTES.md" {
		t.Errorf("the pull request changes %q, want only NOTES.md", files)
	}
	// Setup really wrote into the work tree the agent used (its
	// dependency and its hash of the secret), which the pull request
	// leaves out.
	var baseline float64
	for _, ev := range events {
		if ev.Kind == telemetry.KindBaselineTaken {
			baseline, _ = ev.Attrs["paths"].(float64)
		}
	}
	if baseline != 2 {
		t.Errorf("baseline paths = %v, want 2 (deps/dep/VERSION, deps/token.sha256)", baseline)
	}
}

// A setup phase that leaves a secret in the work tree stops the run
// before the agent starts; a failing setup does too.
func TestEndToEndSetupPhaseStops(t *testing.T) {
	const secret = "npm-setup-secret-fedcba9876543210"
	tests := []struct {
		name    string
		script  string
		outcome sandbox.Outcome
		want    []string
	}{
		{"secret left in the tree", "mkdir -p cache && echo \"//registry/:_authToken=$NPM_TOKEN\" > cache/.npmrc\n",
			"rejected by policy", []string{"left setup secret NPM_TOKEN in cache/.npmrc", "the agent did not start"}},
		{"setup fails", "echo broken; exit 4\n", "failed", []string{"setup phase exited with code 4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startEnv(t, func(c *app.Config) {
				c.SetupSecrets = map[string]string{"NPM_TOKEN": secret}
				c.SetupSecretBindings = map[string]app.Binding{"NPM_TOKEN": {Installations: []int64{harness.InstallationID}}}
			})
			commitFiles(t, env, map[string]string{"setup.sh": tt.script})
			env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("setup:\n  command: [sh, /workspace/setup.sh]\n  secrets: [NPM_TOKEN]\n"))
			d, _ := trigger(t, env, "@agentgate agentgate-test: write NOTES.md x", harness.Requester)
			events, all := runEvents(t, env, d.RunID)
			for _, ev := range events {
				if ev.Kind == "sandbox.started" {
					t.Errorf("the agent started: %v", ev.Attrs)
				}
			}
			if strings.Contains(all, secret) {
				t.Error("the secret is in the audit trail")
			}
			if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
				t.Errorf("pull requests = %d", len(prs))
			}
			comments := botComments(env)
			if len(comments) != 1 {
				t.Fatalf("bot comments: %q", comments)
			}
			for _, w := range append(tt.want, string(tt.outcome)) {
				if !strings.Contains(comments[0], w) {
					t.Errorf("progress comment lacks %q:\n%s", w, comments[0])
				}
			}
		})
	}
}

// A follow-up on agentgate's pull request clones the agent's branch, where
// the first run's agent committed a package.json with a postinstall
// script: the follow-up's setup phase runs without the setup secret (a
// setup.trust event says why), while a run on the default branch with
// the same configuration still gets it.
func TestEndToEndFollowUpSetupWithoutSecrets(t *testing.T) {
	const secret = "npm-followup-secret-abcdef012345"
	env := startEnv(t, func(c *app.Config) {
		c.Controls.FollowUpDelay = 500 * time.Millisecond
		c.SetupSecrets = map[string]string{"NPM_TOKEN": secret}
		c.SetupSecretBindings = map[string]app.Binding{"NPM_TOKEN": {Installations: []int64{harness.InstallationID}}}
	})
	_, state := trigger(t, env, `@agentgate agentgate-test: write package.json {"scripts":{"postinstall":"echo $NPM_TOKEN | base64"}}`, harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if state != "finished" || len(prs) != 1 {
		t.Fatalf("first run %q, pull requests %d", state, len(prs))
	}
	pr := prs[0]
	// The repository turns on a setup phase with the secret (the test
	// image has no shell: its setup command prints its environment).
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("setup:\n  command: [testagent]\n  secrets: [NPM_TOKEN]\n  inputs: [package.json]\n  timeout: 1m\n"))
	setupOf := func(runID string) (decision, out string) {
		events, all := runEvents(t, env, runID)
		if strings.Contains(all, secret) {
			t.Errorf("run %s: the secret is in the audit trail", runID)
		}
		for _, ev := range events {
			switch ev.Kind {
			case telemetry.KindSetupTrust:
				decision, _ = ev.Attrs["decision"].(string)
			case telemetry.KindSetupExited:
				out, _ = ev.Attrs["output_tail"].(string)
			}
		}
		return decision, out
	}

	b, _, err := env.PRCommentPayload(pr.Number, "@agentgate agentgate-test: env", harness.Requester, "OWNER")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", b)
	var follow string
	eventually(t, time.Minute, "a follow-up run", func() bool {
		for _, r := range runsOn(t, env, pr.Number) {
			follow = r.ID
		}
		return follow != ""
	})
	wait(t, env, follow)
	decision, out := setupOf(follow)
	if decision != "without-secrets" {
		t.Errorf("follow-up setup.trust decision %q, want without-secrets", decision)
	}
	if !strings.Contains(out, "AGENTGATE_") || strings.Contains(out, "NPM_TOKEN") {
		t.Errorf("the follow-up's setup environment (want no NPM_TOKEN):\n%s", out)
	}

	// Positive control: a run from the default branch gets the secret.
	d, _ := trigger(t, env, "@agentgate agentgate-test: env", harness.Requester)
	decision, out = setupOf(d.RunID)
	if decision != "with-secrets" || !strings.Contains(out, "NPM_TOKEN=") {
		t.Errorf("default-branch run: decision %q, setup environment:\n%s", decision, out)
	}
}
