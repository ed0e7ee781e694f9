package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/internal/ghretry"
	"github.com/agentgate/agentgate/internal/testgh"
)

// retryFixture is the stand-in with installation 7 on octo, octo/app with
// issue 1, and Clients whose transport waits milliseconds and abandons an
// attempt after 300ms.
func retryFixture(t *testing.T) (*testgh.Server, *Clients, int64) {
	t.Helper()
	block, _ := pem.Decode([]byte(testKey))
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := testgh.New(testgh.Options{AppID: 99, AppPublicKey: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	gh.AddInstallation(7, "octo")
	repo := gh.AddRepo(testgh.Repo{Owner: "octo", Name: "app"})
	gh.AddIssue("octo", "app", 1, "Flaky", "It fails.", "alice")
	tr := &ghretry.Transport{BaseBackoff: time.Millisecond, SecondaryBackoff: 5 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}
	c, err := NewClients(99, []byte(testKey), gh.APIURL(), tr)
	if err != nil {
		t.Fatal(err)
	}
	return gh, c, repo.ID
}

func countOps(gh *testgh.Server, op string) int {
	n := 0
	for _, r := range gh.Requests() {
		if r.Operation == op {
			n++
		}
	}
	return n
}

const opComment = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"

// TestClientsRetryAgainstStandIn: each GitHub failure the stand-in
// injects is retried where that is safe and returned where it is not,
// and never becomes a duplicate comment.
func TestClientsRetryAgainstStandIn(t *testing.T) {
	ctx := context.Background()
	comment := func(cl *github.Client) error {
		_, _, err := cl.Issues.CreateComment(ctx, "octo", "app", 1, &github.IssueComment{Body: github.String("hi")})
		return err
	}
	getIssue := func(cl *github.Client) error {
		_, _, err := cl.Issues.Get(ctx, "octo", "app", 1)
		return err
	}
	tests := []struct {
		name     string
		inject   func(gh *testgh.Server)
		call     func(cl *github.Client) error
		wantErr  string // "" = success
		comments int    // comments on issue 1 afterwards (-1: not checked)
	}{
		{"secondary rate limit 403 without Retry-After, twice", func(gh *testgh.Server) {
			gh.FailNextN("POST", opComment[5:], 403, nil, 2)
		}, comment, "", 1},
		{"502 outage on a read", func(gh *testgh.Server) {
			gh.FailNextN("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 502, nil, 3)
		}, getIssue, "", -1},
		{"connection dropped on a read", func(gh *testgh.Server) {
			gh.FailNextN("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 0, nil, 1)
		}, getIssue, "", -1},
		{"slow read abandoned and sent again", func(gh *testgh.Server) {
			gh.SlowNext("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 2*time.Second, 1)
		}, getIssue, "", -1},
		{"token minting 503", func(gh *testgh.Server) {
			gh.FailNextN("POST", "/app/installations/{installation_id}/access_tokens", 503, nil, 2)
		}, getIssue, "", -1},
		{"502 on a comment is not repeated", func(gh *testgh.Server) {
			gh.FailNextN("POST", opComment[5:], 502, nil, 1)
		}, comment, "502", 0},
		{"slow comment is not sent twice", func(gh *testgh.Server) {
			gh.SlowNext("POST", opComment[5:], time.Second, 1)
		}, comment, "deadline exceeded", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh, c, repoID := retryFixture(t)
			cl, err := c.Installation(7, apiScope(repoID))
			if err != nil {
				t.Fatal(err)
			}
			tt.inject(gh)
			err = tt.call(cl)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want success after retries", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
			}
			if tt.comments >= 0 {
				if n := len(gh.Comments("octo", "app", 1)); n != tt.comments {
					t.Errorf("comments = %d, want %d", n, tt.comments)
				}
			}
			if tt.name == "slow comment is not sent twice" {
				time.Sleep(1200 * time.Millisecond) // the stand-in finishes it, as GitHub would
				if n := countOps(gh, opComment); n != 1 {
					t.Errorf("comment requests = %d, want 1 (never repeated)", n)
				}
			}
			if v := gh.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

// TestPermissionErrorNotRetried: a 403 that is a permission error (a token
// without issues: write) is answered at once, not waited on.
func TestPermissionErrorNotRetried(t *testing.T) {
	gh, c, repoID := retryFixture(t)
	cl, err := c.Installation(7, Scope{RepoID: repoID, Issues: "read"})
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := cl.Issues.CreateComment(context.Background(), "octo", "app", 1, &github.IssueComment{Body: github.String("hi")})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("err = %v, want a 403", err)
	}
	if n := countOps(gh, opComment); n != 1 {
		t.Errorf("comment requests = %d, want 1", n)
	}
}
