package testgh

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestRepoIssueAndComments(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gh := f.client(t, f.mint(t, map[string]any{"repositories": []string{"app"}}))

	repo, _, err := gh.Repositories.Get(ctx, "octo", "app")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetDefaultBranch() != "main" || repo.GetFullName() != "octo/app" || repo.GetCloneURL() == "" {
		t.Errorf("repo = %s %s %q", repo.GetFullName(), repo.GetDefaultBranch(), repo.GetCloneURL())
	}

	is, _, err := gh.Issues.Get(ctx, "octo", "app", 1)
	if err != nil {
		t.Fatal(err)
	}
	if is.GetTitle() != "Flaky test" || is.GetUser().GetLogin() != "alice" || is.GetState() != "open" {
		t.Errorf("issue = %q by %q (%s)", is.GetTitle(), is.GetUser().GetLogin(), is.GetState())
	}

	c, resp, err := gh.Issues.CreateComment(ctx, "octo", "app", 1, &github.IssueComment{Body: github.String("on it")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || c.GetUser().GetLogin() != "agentgate[bot]" || c.GetUser().GetType() != "Bot" {
		t.Errorf("comment: status %d user %q type %q", resp.StatusCode, c.GetUser().GetLogin(), c.GetUser().GetType())
	}
	if _, _, err := gh.Issues.EditComment(ctx, "octo", "app", c.GetID(), &github.IssueComment{Body: github.String("done")}); err != nil {
		t.Fatal(err)
	}
	list, _, err := gh.Issues.ListComments(ctx, "octo", "app", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].GetBody() != "done" {
		t.Errorf("listed %d comments, first %q", len(list), list[0].GetBody())
	}
	got := f.s.Comments("octo", "app", 1)
	if len(got) != 1 || got[0].Body != "done" || got[0].Edits != 1 || got[0].User != "agentgate[bot]" || got[0].UserType != "Bot" {
		t.Errorf("state comments = %+v", got)
	}

	for _, want := range []int{http.StatusCreated, http.StatusOK} {
		_, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "octo", "app", c.GetID(), "eyes")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Errorf("comment reaction status = %d, want %d", resp.StatusCode, want)
		}
	}
	if _, _, err := gh.Reactions.CreateIssueReaction(ctx, "octo", "app", 1, "rocket"); err != nil {
		t.Fatal(err)
	}
	rs := f.s.Reactions("octo", "app")
	if len(rs) != 2 || rs[0].Subject != "comment" || rs[0].SubjectID != c.GetID() || rs[0].Content != "eyes" ||
		rs[1].Subject != "issue" || rs[1].SubjectID != 1 || rs[1].Content != "rocket" {
		t.Errorf("reactions = %+v", rs)
	}

	if _, _, err := gh.Issues.Get(ctx, "octo", "app", 99); !isStatus(err, http.StatusNotFound) {
		t.Errorf("missing issue: err = %v, want 404", err)
	}
	f.noViolations(t)
}

func TestCollaboratorPermission(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, nil)
	gh := f.client(t, tok)
	tests := []struct {
		login, role, wantPerm, wantRole string
	}{
		{"ada", "admin", "admin", "admin"},
		{"max", "maintain", "write", "maintain"},
		{"wes", "write", "write", "write"},
		{"tri", "triage", "read", "triage"},
		{"rea", "read", "read", "read"},
		{"nob", "none", "none", "none"},
		{"stranger", "", "read", "read"}, // public repository
	}
	for _, tt := range tests {
		t.Run(tt.login, func(t *testing.T) {
			if tt.role != "" {
				f.s.SetPermission("octo", "app", tt.login, tt.role)
			}
			// go-github v62 has no role_name field: read the raw answer.
			status, body := do(t, "GET", f.s.APIURL()+"repos/octo/app/collaborators/"+tt.login+"/permission", "token "+tok, nil)
			var p struct {
				Permission string `json:"permission"`
				RoleName   string `json:"role_name"`
				User       struct {
					Login string `json:"login"`
				} `json:"user"`
			}
			if err := json.Unmarshal(body, &p); status != http.StatusOK || err != nil {
				t.Fatalf("status %d, %v", status, err)
			}
			if p.Permission != tt.wantPerm || p.RoleName != tt.wantRole || p.User.Login != tt.login {
				t.Errorf("got permission %q role %q user %q", p.Permission, p.RoleName, p.User.Login)
			}
		})
	}
	p, _, err := gh.Repositories.GetPermissionLevel(context.Background(), "octo", "other", "stranger")
	if err != nil {
		t.Fatal(err)
	}
	if p.GetPermission() != "none" {
		t.Errorf("stranger on private repo = %q, want none", p.GetPermission())
	}
	f.noViolations(t)
}

func TestContents(t *testing.T) {
	f := newFixture(t)
	f.s.AddFile("octo", "app", ".github/agentgate.yml", []byte("trigger: comment\n"))
	gh := f.client(t, f.mint(t, map[string]any{"permissions": map[string]string{"contents": "read"}}))
	file, _, _, err := gh.Repositories.GetContents(context.Background(), "octo", "app", ".github/agentgate.yml", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	text, err := file.GetContent()
	if err != nil {
		t.Fatal(err)
	}
	if text != "trigger: comment\n" || file.GetPath() != ".github/agentgate.yml" || file.GetName() != "agentgate.yml" {
		t.Errorf("file %q at %q named %q", text, file.GetPath(), file.GetName())
	}
	if file.GetSHA() != blobSHA([]byte("trigger: comment\n")) {
		t.Errorf("sha %q", file.GetSHA())
	}
	_, _, _, err = gh.Repositories.GetContents(context.Background(), "octo", "app", ".github/missing.yml", nil)
	if !isStatus(err, http.StatusNotFound) {
		t.Errorf("missing file: err = %v, want 404", err)
	}
	f.noViolations(t)
}

// isStatus reports whether err is a go-github error with this status.
func isStatus(err error, status int) bool {
	var e *github.ErrorResponse
	return errors.As(err, &e) && e.Response.StatusCode == status
}

// hasViolation reports whether some violation contains all parts.
func hasViolation(vs []string, parts ...string) bool {
	for _, v := range vs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(v, p)
		}
		if all {
			return true
		}
	}
	return false
}
