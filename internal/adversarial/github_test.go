package adversarial_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/adversarial"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
)

// The adversary, started by a real issue comment through the GitHub path
// (webhook, worker, per-run token, clone, sandbox, harvest, pull request),
// looks for the GitHub token and the LLM key everywhere it can read: its
// environment, every process's environment and command line, the task
// file and the throwaway .git. It finds the placeholder only (and the
// run's decoy canaries), never the credential the egress proxy adds for an
// inspected host.
// injectedCredential is the egress credential of the run.
const injectedCredential = "adv-injected-credential-0123456789"

func TestAdversaryFindsNoGitHubToken(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := adversarial.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	env, err := harness.Start(ctx, harness.Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Config: func(c *app.Config) {
		c.AgentImage = adversarial.Image
		c.AgentCmd = []string{"/usr/local/bin/adversary"}
		c.Network.OpenAIURL = "http://127.0.0.1:9"
		c.Network.OpenAIKey = realKey
		// A credential the egress proxy adds for an inspected host: it
		// must be nowhere the sandbox can read either.
		c.Network.Allow = append(c.Network.Allow, "inspected.example")
		c.Network.Inspect = []policy.HostRules{{Host: "inspected.example", Inject: &policy.Inject{Credential: "ADV_TOKEN"}}}
		c.EgressCredentials = map[string]string{"ADV_TOKEN": injectedCredential}
		c.EgressCredentialBindings = map[string]app.Binding{"ADV_TOKEN": {All: true}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(context.Background())

	// The adversary reads "key: value" lines from the task file: the
	// instructions of the comment carry its attack list.
	body, _, err := env.CommentPayload("@agentgate\nattacks: loot", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.Deliver(ctx, "issue_comment", fmt.Sprintf("adv-%d", time.Now().UnixNano()), body)
	if err != nil || d.Status != http.StatusAccepted {
		t.Fatalf("intake: %+v %v", d, err)
	}
	if _, err := env.WaitRun(ctx, d.RunID); err != nil {
		t.Fatal(err)
	}
	events, err := env.App.DB().Events(ctx, d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	said := verdicts{}
	for _, ev := range events {
		if ev.Kind == telemetry.KindAgentMessage {
			s, _ := ev.Attrs["text"].(string)
			said.add(s)
		}
	}
	keys := lootKeys(t, said["loot"])
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "agentgate-"+d.RunID) }) {
		t.Fatalf("the adversary did not even find the placeholder (so it could not have found a token): %q", said["loot"])
	}
	tokens := env.GH.Tokens()
	if len(tokens) == 0 {
		t.Fatal("no installation token was minted: the run did not use GitHub")
	}
	// The harvested loot (everything it read, hex-encoded) is on the
	// pull request's branch: search it whole.
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	lootHex, err := env.Git.ReadFile(ctx, harness.Owner+"/"+harness.Repo, prs[0].HeadSHA, "loot.hex")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(lootHex))
	if err != nil {
		t.Fatal(err)
	}
	loot := string(raw)
	for _, tok := range tokens {
		if strings.Contains(loot, tok.Value) || slices.Contains(keys, tok.Value) {
			t.Errorf("the sandbox could read installation token %s…", tok.Value[:8])
		}
	}
	if strings.Contains(loot, realKey) || slices.Contains(keys, realKey) {
		t.Error("the sandbox could read the real LLM key")
	}
	if strings.Contains(loot, injectedCredential) || slices.Contains(keys, injectedCredential) {
		t.Error("the sandbox could read the credential the egress proxy adds")
	}
	if !strings.Contains(loot, "SSL_CERT_FILE=/agentgate/ca-bundle.pem") || !strings.Contains(loot, "AWS_ACCESS_KEY_ID=") {
		t.Error("positive control: the loot lacks the run CA's variable or the planted canaries, so the run did not inspect")
	}
	if strings.Contains(loot, string(env.Config.WebhookSecret)) || strings.Contains(loot, "PRIVATE KEY") {
		t.Error("the sandbox could read the webhook secret or the App's private key")
	}
}
