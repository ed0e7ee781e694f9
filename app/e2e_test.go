package app_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/store"
)

// requireDocker skips without an engine or root, except under CI where
// the sandbox is the product and a missing engine fails the run.
func requireDocker(t testing.TB) {
	t.Helper()
	dockertest.Client(t)
	dockertest.RequireRoot(t)
}

func startEnv(t *testing.T, adjust func(*app.Config)) *harness.Env {
	t.Helper()
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var log *slog.Logger
	if os.Getenv("AGENTGATE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	env, err := harness.Start(ctx, harness.Options{Dir: t.TempDir(), Config: adjust, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	docker := dockertest.Client(t) // env.Close closes env.Docker
	t.Cleanup(func() {
		// After every test: the stand-in saw no request GitHub's
		// description forbids, and once the service has stopped (its
		// jobs finished) no container of this worker remains.
		if v := env.GH.Violations(); len(v) > 0 {
			t.Errorf("GitHub API violations: %q", v)
		}
		env.Close(context.Background())
		leftovers := containersOf(t, docker, env.Config.WorkerID)
		if leftovers > 0 {
			t.Errorf("%d containers of worker %s left behind", leftovers, env.Config.WorkerID)
		}
		if entries, _ := os.ReadDir(env.Config.DataDir + "/runs/" + env.Config.WorkerID); len(entries) > 0 {
			t.Errorf("run directories left behind: %d", len(entries))
		}
	})
	return env
}

func containersOf(t *testing.T, cli client.APIClient, worker string) int {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", runner.LabelWorker+"="+worker))})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	return len(list)
}

// trigger sends a signed issue_comment from the requester and waits for the run.
func trigger(t *testing.T, env *harness.Env, comment, login string) (harness.Delivery, string) {
	t.Helper()
	body, _, err := env.CommentPayload(comment, login, "User")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := env.Deliver(ctx, "issue_comment", fmt.Sprintf("delivery-%d", time.Now().UnixNano()), body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != 202 || d.RunID == "" {
		t.Fatalf("intake answered %d %q, want 202 with a run id", d.Status, d.Body)
	}
	state, err := env.WaitRun(ctx, d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	return d, state
}

func botComments(env *harness.Env) []string {
	var out []string
	for _, c := range env.GH.Comments(harness.Owner, harness.Repo, harness.IssueNumber) {
		if c.User == "agentgate[bot]" && c.UserType == "Bot" {
			out = append(out, c.Body)
		}
	}
	return out
}

func TestEndToEndSuccess(t *testing.T) {
	env := startEnv(t, nil)
	d, _ := trigger(t, env, "@agentgate please fix the spelling", harness.Requester)
	commentID := env.GH.Comments(harness.Owner, harness.Repo, harness.IssueNumber)[0].ID

	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	pr := prs[0]
	if !strings.HasPrefix(pr.Body, "Fixes #1") || !strings.Contains(pr.Body, d.RunID) {
		t.Errorf("PR body does not start with Fixes #1 or lacks the run id:\n%s", pr.Body)
	}
	if pr.Head != "agentgate/1-spelling-error-in-the-readme-file" || pr.Base != "main" {
		t.Errorf("PR %s → %s", pr.Head, pr.Base)
	}
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo
	sha, err := env.Git.Ref(ctx, repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatalf("branch on the git server: %v", err)
	}
	if sha != pr.HeadSHA {
		t.Errorf("branch at %s, PR head %s", sha, pr.HeadSHA)
	}
	msg, err := env.Git.Show(ctx, repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Co-authored-by: Codertocat <", "Agentgate-Run: " + d.RunID} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message lacks %q:\n%s", want, msg)
		}
	}
	content, err := env.Git.ReadFile(ctx, repo, sha, "AGENTGATE_TEST.md")
	if err != nil || !strings.Contains(content, "Touched by agentgate test agent") {
		t.Errorf("agent's file on the branch: %q, %v", content, err)
	}

	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 {
		t.Fatalf("check runs = %d, want 1", len(checks))
	}
	cr := checks[0]
	if cr.Name != "agentgate" || cr.HeadSHA != sha || cr.Status != "completed" || cr.Conclusion != "success" {
		t.Errorf("check run = %+v", cr)
	}
	// The agent's own JSON lines became events, and the summary lists the
	// commands it ran with their exit codes.
	for _, want := range []string{"AGENTGATE_TEST.md", "exit code", "default-edit"} {
		if !strings.Contains(cr.Summary, want) {
			t.Errorf("check run summary lacks %q:\n%s", want, cr.Summary)
		}
	}

	comments := botComments(env)
	if len(comments) != 1 {
		t.Fatalf("bot comments = %d, want one progress comment edited in place: %q", len(comments), comments)
	}
	if !strings.Contains(comments[0], "done") || !strings.Contains(comments[0], fmt.Sprintf("#%d", pr.Number)) {
		t.Errorf("final progress comment:\n%s", comments[0])
	}
	var eyes bool
	for _, r := range env.GH.Reactions(harness.Owner, harness.Repo) {
		if r.Content == "eyes" && r.Subject == "comment" && r.SubjectID == commentID {
			eyes = true
		}
	}
	if !eyes {
		t.Errorf("no 👀 reaction on the trigger comment: %+v", env.GH.Reactions(harness.Owner, harness.Repo))
	}
	// The audit trail: the check run shows the chain head, the chain
	// verifies under the operator's key, and no minted token is stored.
	if !strings.Contains(cr.Summary, "**Audit chain head:** `") {
		t.Errorf("check run lacks the audit chain head:\n%s", cr.Summary)
	}
	key, err := store.LoadAuditKey(env.Config.AuditKeyPath(), false)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := env.App.DB().Verify(ctx, key.Public().(ed25519.PublicKey))
	if err != nil || !rep.OK() || rep.Events == 0 {
		t.Errorf("audit verify: %+v %v", rep, err)
	}
	_, stored := runEvents(t, env, d.RunID)
	for _, tok := range env.GH.Tokens() {
		if strings.Contains(stored, tok.Value) {
			t.Errorf("a minted token is in the audit trail")
		}
	}
	// Tokens are scoped to this one repository (the org's .github
	// repository is asked for by name, for its configuration only).
	for _, tok := range env.GH.Tokens() {
		if len(tok.RequestedRepositories) == 1 && tok.RequestedRepositories[0] == ".github" {
			continue
		}
		if len(tok.Repositories) != 1 || tok.Repositories[0] != harness.Repo {
			t.Errorf("token minted for repositories %v, want only %s", tok.Repositories, harness.Repo)
		}
	}
}

func TestEndToEndFailures(t *testing.T) {
	tests := []struct {
		name    string
		comment string
		adjust  func(*app.Config)
		want    []string // in the final progress comment
	}{
		{"agent failure", "@agentgate agentgate-test: exit 3", nil, []string{"failed", "exited with code 3"}},
		{"timeout", "@agentgate agentgate-test: sleep forever", func(c *app.Config) { c.Limits.Timeout = 3 * time.Second }, []string{"timed out", "3s"}},
		{"no change", "@agentgate agentgate-test: exit 0", nil, []string{"no change", "without changing any file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startEnv(t, tt.adjust)
			trigger(t, env, tt.comment, harness.Requester)
			if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
				t.Errorf("a failed run opened %d pull requests", len(prs))
			}
			if crs := env.GH.CheckRuns(harness.Owner, harness.Repo); len(crs) != 0 {
				t.Errorf("a failed run created %d check runs", len(crs))
			}
			if _, err := env.Git.Ref(context.Background(), harness.Owner+"/"+harness.Repo, "refs/heads/agentgate/1-spelling-error-in-the-readme-file"); err == nil {
				t.Errorf("a failed run pushed a branch")
			}
			comments := botComments(env)
			if len(comments) != 1 {
				t.Fatalf("bot comments = %d, want 1: %q", len(comments), comments)
			}
			for _, w := range tt.want {
				if !strings.Contains(comments[0], w) {
					t.Errorf("progress comment lacks %q:\n%s", w, comments[0])
				}
			}
		})
	}
}

func TestEndToEndRequesterWithoutPermission(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "mallory", "read")
	_, state := trigger(t, env, "@agentgate delete everything", "mallory")
	if state != "pending" { // until a maintainer approves (e2e_commands_test.go)
		t.Errorf("state = %q, want pending", state)
	}
	comments := botComments(env)
	if len(comments) != 1 || !strings.Contains(comments[0], "@mallory") || !strings.Contains(comments[0], "write") {
		t.Fatalf("want one polite comment naming who may trigger, got %q", comments)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d", len(prs))
	}
	for _, tok := range env.GH.Tokens() {
		if tok.Permissions["contents"] != "" {
			t.Errorf("a token with contents access was minted for a denied run: %v", tok.Permissions)
		}
	}
}

func TestEndToEndDuplicateDelivery(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	body, _, err := env.CommentPayload("@agentgate fix it", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first, err := env.Deliver(ctx, "issue_comment", "same-delivery", body)
	if err != nil || first.Status != 202 {
		t.Fatalf("first delivery: %+v %v", first, err)
	}
	second, err := env.Deliver(ctx, "issue_comment", "same-delivery", body)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status/100 != 2 || second.RunID != "" {
		t.Errorf("repeated delivery answered %d %q, want 2xx without a run", second.Status, second.Body)
	}
	if _, err := env.WaitRun(ctx, first.RunID); err != nil {
		t.Fatal(err)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want 1", len(prs))
	}
	if c := botComments(env); len(c) != 1 {
		t.Errorf("bot comments = %d, want 1", len(c))
	}
}

func TestEndToEndBadInputIsNeverEnqueued(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	ctx := context.Background()
	body, _, err := env.CommentPayload("@agentgate fix it", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 26<<20)
	copy(big, body)
	tests := []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"unsigned", body, "", 401},
		{"wrong signature", body, "sha256=" + strings.Repeat("0", 64), 401},
		{"signed with another secret", body, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", 401},
		{"oversized", big, env.Sign(big), 413},
		{"truncated", body[:len(body)/2], env.Sign(body[:len(body)/2]), 400},
	}
	for _, tt := range tests {
		d, err := env.DeliverRaw(ctx, "issue_comment", "bad-"+tt.name, tt.body, tt.sig)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d.Status != tt.want || d.RunID != "" {
			t.Errorf("%s: %d %q, want %d", tt.name, d.Status, d.Body, tt.want)
		}
	}
	// A bot's comment is answered and ignored.
	bot, _, err := env.CommentPayload("@agentgate fix it", "agentgate[bot]", "Bot")
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.Deliver(ctx, "issue_comment", "bot-delivery", bot)
	if err != nil || d.Status/100 != 2 || d.RunID != "" {
		t.Errorf("bot comment: %+v %v", d, err)
	}
	time.Sleep(500 * time.Millisecond)
	for _, rq := range env.GH.Requests() {
		// The worker's start-up clock check (app/clock.go) is the one
		// request that is not about a delivery.
		if rq.Operation != "GET /app/hook/deliveries" {
			t.Errorf("bad input reached GitHub: %s %s", rq.Method, rq.Path)
		}
	}
}
