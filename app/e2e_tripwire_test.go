package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/telemetry"
)

// tripwireImage is the test agent under a tag of these tests' own.
const tripwireImage = "agentgate/testagent:tripwire"

// exfilEvent is the run's egress.exfiltration event, or nil.
func exfilEvent(events []telemetry.Event) *telemetry.Event {
	return eventOf(events, telemetry.KindEgressExfiltration)
}

// The setup phase's inspected requests are scanned too: for every secret
// but the setup secrets it is given. Its own secret goes out to its
// registry (the control), an operator credential it found in the
// repository stops it, and the run ends there: the agent never starts,
// no pull request, an action_required check run.
func TestEndToEndSetupTripwire(t *testing.T) {
	const setupSecret = "npm-setup-secret-0123456789abcdef"
	api := startInternalAPI(t)
	env := startInspectEnvImage(t, api, tripwireImage, func(c *app.Config) {
		c.SetupAllow = []string{"localhost:" + api.port}
		c.SetupSecrets = map[string]string{"NPM_TOKEN": setupSecret}
		c.SetupSecretBindings = map[string]app.Binding{"NPM_TOKEN": {Installations: []int64{harness.InstallationID}}}
	})
	base := "https://localhost:" + api.port
	// The setup command sends a real secret that reached the repository
	// (an operator credential) in a request's path.
	commitFiles(t, env, map[string]string{
		"setup.task": strings.Join([]string{
			"agentgate-test: proxyget " + base + "/v1/packages/ok",              // control
			"agentgate-test: proxyleak " + base + "/v1/packages/held NPM_TOKEN", // its own secret: allowed
			"agentgate-test: proxyget " + base + "/v1/packages/" + injectedToken,
			"agentgate-test: sleep 30",
		}, "\n") + "\n",
	})
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", fmt.Appendf(nil, `setup:
  command: [testagent, /workspace/setup.task]
  allow: ["localhost:%s"]
  secrets: [NPM_TOKEN]
  timeout: 1m
`, api.port))
	start := time.Now()
	d, state := trigger(t, env, "@agentgate add notes\nagentgate-test: write NOTES.md the agent's change", harness.Requester)
	events, all := runEvents(t, env, d.RunID)
	seen := api.requests()
	if len(seen) != 2 || !strings.HasPrefix(seen[0], "GET /v1/packages/ok auth=Bearer "+injectedToken) ||
		seen[1] != "GET /v1/packages/held auth=Bearer "+injectedToken+" debug="+setupSecret {
		t.Errorf("the internal API saw %q, want the control and the setup secret's request", seen)
	}
	hit := exfilEvent(events)
	if hit == nil || hit.Attrs["secret"] != "credential:API_TOKEN" || hit.Attrs["where"] != "url" ||
		hit.Attrs["phase"] != "setup" || hit.Actor != "setup" {
		t.Fatalf("egress.exfiltration event %+v; events:\n%s", hit, all)
	}
	if ex := eventOf(events, telemetry.KindSetupExited); ex == nil || ex.Attrs["stopped"] == nil || time.Since(start) > 25*time.Second {
		t.Errorf("the setup sandbox was not stopped: %+v", ex)
	}
	if ex := eventOf(events, telemetry.KindSandboxExited); ex != nil {
		t.Errorf("the agent ran: %+v", ex)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d, want none", len(prs))
	}
	if strings.Contains(all, injectedToken) || strings.Contains(all, setupSecret) {
		t.Error("a secret's value is in the run's events")
	}
	if state != "finished" {
		t.Errorf("state %q", state)
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 || checks[0].Conclusion != "action_required" ||
		!strings.Contains(checks[0].Summary, "the setup phase") || !strings.Contains(checks[0].Summary, "operator credential (API_TOKEN)") {
		t.Errorf("check runs %+v, want one action_required explaining the stop", checks)
	}
}

// The verify command runs the agent's code: its inspected requests are
// scanned for every secret. A clean request goes out (the control); one
// that carries an operator credential is refused, stops the command, and
// the verify check asks for a maintainer's action.
func TestEndToEndVerifyTripwire(t *testing.T) {
	api := startInternalAPI(t)
	env := startInspectEnvImage(t, api, tripwireImage)
	base := "https://localhost:" + api.port
	commitFiles(t, env, map[string]string{
		"verify.task": strings.Join([]string{
			"agentgate-test: proxyget " + base + "/echo", // control
			"agentgate-test: proxyget " + base + "/v1/packages/" + injectedToken,
			"agentgate-test: sleep 30",
		}, "\n") + "\n",
	})
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", fmt.Appendf(nil, `verify:
  command: [testagent, /workspace/verify.task]
  allow: ["localhost:%s"]
  timeout: 1m
`, api.port))
	d, state := trigger(t, env, "@agentgate fix\nagentgate-test: write README.md fixed", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	events, all := runEvents(t, env, d.RunID)
	seen := api.requests()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "GET /echo ") {
		t.Errorf("the internal API saw %q, want only the control", seen)
	}
	hit := exfilEvent(events)
	if hit == nil || hit.Attrs["secret"] != "credential:API_TOKEN" || hit.Attrs["where"] != "url" ||
		hit.Attrs["phase"] != "verify" || hit.Actor != "verify" {
		t.Fatalf("egress.exfiltration event %+v; events:\n%s", hit, all)
	}
	v := checksNamed(env, app.VerifyCheckName)
	if len(v) != 1 || v[0].Conclusion != "action_required" || !strings.Contains(v[0].Summary, "the verify command") ||
		!strings.Contains(v[0].Summary, "operator credential (API_TOKEN)") {
		t.Errorf("verify check %+v, want action_required explaining the stop", v)
	}
	if fin, _ := lastEvent(events, telemetry.KindVerifyFinished); fin.Attrs["stopped"] == nil {
		t.Errorf("verify.finished = %+v", fin.Attrs)
	}
	if strings.Contains(all, injectedToken) || (len(v) == 1 && strings.Contains(v[0].Summary, injectedToken)) {
		t.Error("the credential's value is in the run's events or the check run")
	}
}

// TestEndToEndVerifyTripwireCanary: the agent commits the decoy GitHub
// token its sandbox held into the verify command's input; the verify
// command (the agent's code, in a later sandbox) sends it out. The run's
// canaries are kept (its seed, in the effects journal), so verify's
// tripwire knows them: the request is refused and the check holds the
// pull request.
func TestEndToEndVerifyTripwireCanary(t *testing.T) {
	api := startInternalAPI(t)
	env := startInspectEnvImage(t, api, tripwireImage)
	base := "https://localhost:" + api.port
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", fmt.Appendf(nil, `verify:
  command: [testagent, /workspace/verify.task]
  allow: ["localhost:%s"]
  timeout: 1m
`, api.port))
	task := "@agentgate fix\nagentgate-test: writeenv verify.task GITHUB_TOKEN agentgate-test: proxyget " + base +
		"/echo\\nagentgate-test: proxyget " + base + "/v1/packages/{}\\nagentgate-test: sleep 30\\n"
	d, state := trigger(t, env, task, harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	events, all := runEvents(t, env, d.RunID)
	if seen := api.requests(); len(seen) != 1 || !strings.HasPrefix(seen[0], "GET /echo ") {
		t.Errorf("the internal API saw %q, want only the control", seen)
	}
	hit := exfilEvent(events)
	if hit == nil || hit.Attrs["secret"] != "canary:github-token" || hit.Attrs["phase"] != "verify" {
		t.Fatalf("egress.exfiltration event %+v; events:\n%s", hit, all)
	}
	if v := checksNamed(env, app.VerifyCheckName); len(v) != 1 || v[0].Conclusion != "action_required" {
		t.Errorf("verify check %+v, want action_required", v)
	}
}
