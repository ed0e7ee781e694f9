package testgh

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestPullRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gh := f.client(t, f.mint(t, map[string]any{"repositories": []string{"app"}, "permissions": map[string]string{"pull_requests": "write", "issues": "write"}}))

	pr, resp, err := gh.PullRequests.Create(ctx, "octo", "app", &github.NewPullRequest{
		Title: github.String("Fix flaky test"), Head: github.String("octo:agentgate/1-fix"), HeadRepo: github.String("octo/app"), Base: github.String("main"),
		Body: github.String("Fixes #1"), Draft: github.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || pr.GetNumber() != 2 || pr.GetHead().GetSHA() != headSHA || pr.GetBase().GetRef() != "main" || !pr.GetDraft() {
		t.Errorf("created #%d head %s base %s draft %v (status %d)", pr.GetNumber(), pr.GetHead().GetSHA(), pr.GetBase().GetRef(), pr.GetDraft(), resp.StatusCode)
	}

	// The same head again is refused, as GitHub does.
	_, _, err = gh.PullRequests.Create(ctx, "octo", "app", &github.NewPullRequest{
		Title: github.String("again"), Head: github.String("agentgate/1-fix"), Base: github.String("main"),
	})
	if !isStatus(err, http.StatusUnprocessableEntity) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate: err = %v", err)
	}
	// An unknown head branch is refused.
	_, _, err = gh.PullRequests.Create(ctx, "octo", "app", &github.NewPullRequest{
		Title: github.String("x"), Head: github.String("nope"), Base: github.String("main"),
	})
	if !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("unknown head: err = %v", err)
	}

	tests := []struct {
		name string
		opts github.PullRequestListOptions
		want int
	}{
		{"open", github.PullRequestListOptions{}, 1},
		{"by head", github.PullRequestListOptions{Head: "octo:agentgate/1-fix"}, 1},
		{"other head", github.PullRequestListOptions{Head: "octo:agentgate/2-x"}, 0},
		{"other owner", github.PullRequestListOptions{Head: "evil:agentgate/1-fix"}, 0},
		{"closed", github.PullRequestListOptions{State: "closed"}, 0},
		{"all", github.PullRequestListOptions{State: "all"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, _, err := gh.PullRequests.List(ctx, "octo", "app", &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != tt.want {
				t.Errorf("got %d pull requests, want %d", len(list), tt.want)
			}
		})
	}

	if _, _, err := gh.PullRequests.Edit(ctx, "octo", "app", 2, &github.PullRequest{Body: github.String("Fixes #1\n\nupdated"), State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	got := f.s.PullRequests("octo", "app")
	if len(got) != 1 || got[0].State != "closed" || got[0].Body != "Fixes #1\n\nupdated" || got[0].Head != "agentgate/1-fix" || got[0].User != "agentgate[bot]" {
		t.Errorf("state = %+v", got)
	}
	// A pull request is an issue too: comments go through the issues API.
	if _, _, err := gh.Issues.CreateComment(ctx, "octo", "app", 2, &github.IssueComment{Body: github.String("summary")}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.s.Comments("octo", "app", 2)); n != 1 {
		t.Errorf("comments on PR = %d", n)
	}
	f.noViolations(t)
}

func TestListPullsHeadWithoutOwnerIsViolation(t *testing.T) {
	f := newFixture(t)
	gh := f.client(t, f.mint(t, nil))
	if _, _, err := gh.PullRequests.List(context.Background(), "octo", "app", &github.PullRequestListOptions{Head: "agentgate/1-fix"}); err != nil {
		t.Fatal(err)
	}
	if !hasViolation(f.s.Violations(), "owner:branch") {
		t.Errorf("violations = %q", f.s.Violations())
	}
}

func TestCheckRuns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gh := f.client(t, f.mint(t, map[string]any{"repositories": []string{"app"}, "permissions": map[string]string{"checks": "write"}}))

	cr, _, err := gh.Checks.CreateCheckRun(ctx, "octo", "app", github.CreateCheckRunOptions{
		Name: "agentgate", HeadSHA: headSHA, Status: github.String("in_progress"), ExternalID: github.String("run-1"),
		Output: &github.CheckRunOutput{Title: github.String("Running"), Summary: github.String("started")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cr.GetStatus() != "in_progress" || cr.GetConclusion() != "" || cr.GetApp().GetID() != testAppID {
		t.Errorf("created %s/%s app %d", cr.GetStatus(), cr.GetConclusion(), cr.GetApp().GetID())
	}
	_, _, err = gh.Checks.UpdateCheckRun(ctx, "octo", "app", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "agentgate", Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("Done"), Summary: github.String("3 files changed")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A completed run without a conclusion is refused.
	_, _, err = gh.Checks.UpdateCheckRun(ctx, "octo", "app", cr.GetID(), github.UpdateCheckRunOptions{Name: "agentgate", Conclusion: github.String("stale")})
	if !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("stale conclusion: err = %v, want 422", err)
	}

	for _, ref := range []string{headSHA, "agentgate/1-fix"} {
		res, _, err := gh.Checks.ListCheckRunsForRef(ctx, "octo", "app", ref, &github.ListCheckRunsOptions{CheckName: github.String("agentgate")})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetTotal() != 1 || res.CheckRuns[0].GetConclusion() != "success" || res.CheckRuns[0].GetOutput().GetSummary() != "3 files changed" {
			t.Errorf("ref %s: total %d", ref, res.GetTotal())
		}
	}
	got := f.s.CheckRuns("octo", "app")
	if len(got) != 1 || got[0].Status != "completed" || got[0].Conclusion != "success" || got[0].Title != "Done" ||
		got[0].Summary != "3 files changed" || got[0].ExternalID != "run-1" || got[0].Updates != 1 || got[0].CompletedAt.IsZero() {
		t.Errorf("state = %+v", got)
	}
	f.noViolations(t)
}
