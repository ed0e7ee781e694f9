package testgh

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/internal/testgit"
)

// gitFixture is a stand-in whose octo/app is a real bare repository of
// the test git server.
func gitFixture(t *testing.T) (*fixture, *testgit.Server, string) {
	t.Helper()
	g, err := testgit.New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	if _, err := g.CreateRepo(context.Background(), "octo/app", map[string]string{"README.md": "hello\n"}); err != nil {
		t.Fatal(err)
	}
	main, err := g.Ref(context.Background(), "octo/app", "refs/heads/main")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	key := keys()[0]
	s, err := New(Options{AppID: testAppID, AppPublicKey: &key.PublicKey, ValidateResponses: true, Now: clk.Now,
		GitDir: func(owner, repo string) (string, bool) { return g.Path(owner + "/" + repo), true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddInstallation(testInstall, "octo")
	s.AddRepo(Repo{Owner: "octo", Name: "app"})
	return &fixture{s: s, clock: clk, key: key}, g, main
}

func TestGitDataCommitIsRealAndVerified(t *testing.T) {
	f, g, main := gitFixture(t)
	ctx := context.Background()
	gh := f.client(t, f.mint(t, map[string]any{"repositories": []string{"app"}, "permissions": map[string]string{"contents": "write"}}))

	blob, _, err := gh.Git.CreateBlob(ctx, "octo", "app", &github.Blob{Content: github.String("aGkK"), Encoding: github.String("base64")})
	if err != nil {
		t.Fatal(err)
	}
	baseRef, _, err := gh.Git.GetRef(ctx, "octo", "app", "heads/main")
	if err != nil || baseRef.GetObject().GetSHA() != main {
		t.Fatalf("get main: %v %v", baseRef, err)
	}
	baseTree := strings.TrimSpace(mustGit(t, g, "rev-parse", main+"^{tree}"))
	tree, _, err := gh.Git.CreateTree(ctx, "octo", "app", baseTree, []*github.TreeEntry{
		{Path: github.String("docs/hi.txt"), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA},
		{Path: github.String("README.md"), Mode: github.String("100644"), Type: github.String("blob")}, // deleted
	})
	if err != nil {
		t.Fatal(err)
	}
	commit, _, err := gh.Git.CreateCommit(ctx, "octo", "app", &github.Commit{
		Message: github.String("add hi [skip ci]\n"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.String(main)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !commit.GetVerification().GetVerified() {
		t.Errorf("commit not verified: %+v", commit.GetVerification())
	}
	if _, _, err := gh.Git.CreateRef(ctx, "octo", "app", &github.Reference{Ref: github.String("refs/heads/agentgate/1-hi"), Object: &github.GitObject{SHA: commit.SHA}}); err != nil {
		t.Fatal(err)
	}
	// The branch is real: the git server serves it, with the file.
	if got, _ := g.ReadFile(ctx, "octo/app", "agentgate/1-hi", "docs/hi.txt"); got != "hi\n" {
		t.Errorf("docs/hi.txt = %q", got)
	}
	if _, err := g.ReadFile(ctx, "octo/app", "agentgate/1-hi", "README.md"); err == nil {
		t.Error("README.md was not deleted")
	}
	if !f.s.GitCommits("octo", "app")[commit.GetSHA()].Verified {
		t.Error("stand-in did not record the verified commit")
	}

	// A sibling commit (same tree, same parent) is no fast-forward.
	sib, _, err := gh.Git.CreateCommit(ctx, "octo", "app", &github.Commit{
		Message: github.String("add hi\n"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.String(main)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Git.UpdateRef(ctx, "octo", "app", &github.Reference{Ref: github.String("refs/heads/agentgate/1-hi"), Object: &github.GitObject{SHA: sib.SHA}}, false)
	if !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("non-fast-forward without force: err = %v", err)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "octo", "app", &github.Reference{Ref: github.String("refs/heads/agentgate/1-hi"), Object: &github.GitObject{SHA: sib.SHA}}, true); err != nil {
		t.Fatal(err)
	}
	if head, _ := g.Ref(ctx, "octo/app", "refs/heads/agentgate/1-hi"); head != sib.GetSHA() {
		t.Errorf("branch head = %s, want %s", head, sib.GetSHA())
	}
	f.noViolations(t)

	// A workflow change is refused without the workflows permission.
	wf, _, err := gh.Git.CreateTree(ctx, "octo", "app", tree.GetSHA(), []*github.TreeEntry{
		{Path: github.String(".github/workflows/ci.yml"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("on: push\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wfc, _, err := gh.Git.CreateCommit(ctx, "octo", "app", &github.Commit{Message: github.String("wf"), Tree: &github.Tree{SHA: wf.SHA}, Parents: []*github.Commit{{SHA: sib.SHA}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Git.UpdateRef(ctx, "octo", "app", &github.Reference{Ref: github.String("refs/heads/agentgate/1-hi"), Object: &github.GitObject{SHA: wfc.SHA}}, false)
	if !isStatus(err, http.StatusForbidden) || !strings.Contains(err.Error(), "workflows") {
		t.Errorf("workflow change: err = %v", err)
	}
	// Writing outside agentgate's branches is a violation.
	_, _, _ = gh.Git.CreateRef(ctx, "octo", "app", &github.Reference{Ref: github.String("refs/heads/main2"), Object: &github.GitObject{SHA: sib.SHA}})
	if v := f.s.Violations(); len(v) != 1 || !strings.Contains(v[0], "outside its own branches") {
		t.Errorf("violations = %q", v)
	}
}

func TestReviewersAndLabels(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.s.SetPermission("octo", "app", "bob", "write")
	gh := f.client(t, f.mint(t, map[string]any{"repositories": []string{"app"}, "permissions": map[string]string{"pull_requests": "write", "issues": "write"}}))
	pr, _, err := gh.PullRequests.Create(ctx, "octo", "app", &github.NewPullRequest{Title: github.String("t"), Head: github.String("agentgate/1-fix"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := gh.PullRequests.RequestReviewers(ctx, "octo", "app", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"bob"}, TeamReviewers: []string{"core"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RequestedReviewers) != 1 || got.RequestedReviewers[0].GetLogin() != "bob" || len(got.RequestedTeams) != 1 {
		t.Errorf("answer: %+v %+v", got.RequestedReviewers, got.RequestedTeams)
	}
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "octo", "app", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"stranger"}}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("non-collaborator: err = %v", err)
	}
	// GitHub's description allows only the {"labels": [...]} form (go-github's
	// AddLabelsToIssue sends a bare list).
	req, err := gh.NewRequest("POST", "repos/octo/app/issues/2/labels", map[string]any{"labels": []string{"agentgate", "needs-review"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Do(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	users, teams := f.s.RequestedReviewers("octo", "app", pr.GetNumber())
	if len(users) != 1 || len(teams) != 1 || teams[0] != "core" {
		t.Errorf("reviewers %q teams %q", users, teams)
	}
	if l := f.s.Labels("octo", "app", pr.GetNumber()); len(l) != 2 {
		t.Errorf("labels = %q", l)
	}
	f.noViolations(t)
}

func mustGit(t *testing.T, g *testgit.Server, args ...string) string {
	t.Helper()
	out, err := g.Git(context.Background(), "octo/app", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
