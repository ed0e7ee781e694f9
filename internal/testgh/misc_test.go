package testgh

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
	gh88 "github.com/google/go-github/v88/github"
)

func TestGhinstallationTokenFlow(t *testing.T) {
	f := newFixture(t)
	atr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, testAppID, f.key)
	atr.BaseURL = strings.TrimSuffix(f.s.APIURL(), "/")
	itr := ghinstallation.NewFromAppsTransport(atr, testInstall)
	itr.InstallationTokenOptions = &gh88.InstallationTokenOptions{
		Repositories: []string{"app"},
		Permissions:  &gh88.InstallationPermissions{Issues: gh88.Ptr("write"), Contents: gh88.Ptr("read")},
	}
	gh, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(f.s.APIURL(), f.s.URL()+"/api/uploads/")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Issues.CreateComment(context.Background(), "octo", "app", 1, &github.IssueComment{Body: github.String("hello")}); err != nil {
		t.Fatal(err)
	}
	toks := f.s.Tokens()
	if len(toks) != 1 {
		t.Fatalf("tokens = %d", len(toks))
	}
	tok := toks[0]
	if tok.InstallationID != testInstall || !slices.Equal(tok.Repositories, []string{"app"}) ||
		tok.RequestedPermissions["issues"] != "write" || tok.Permissions["contents"] != "read" || tok.Permissions["pull_requests"] != "" ||
		tok.ExpiresAt.Sub(f.clock.Now()) != time.Hour {
		t.Errorf("token = %+v", tok)
	}
	// The scoped token cannot open pull requests or touch octo/other.
	if _, _, err := gh.PullRequests.List(context.Background(), "octo", "app", nil); !isStatus(err, http.StatusForbidden) {
		t.Errorf("list pulls without pull_requests: err = %v", err)
	}
	if got := f.s.Comments("octo", "app", 1); len(got) != 1 || got[0].User != "agentgate[bot]" {
		t.Errorf("comments = %+v", got)
	}
}

func TestTokenAllows(t *testing.T) {
	f := newFixture(t)
	all := f.mint(t, nil)
	scoped := f.mint(t, map[string]any{"repositories": []string{"app"}, "permissions": map[string]string{"contents": "read"}})
	tests := []struct {
		name        string
		token, repo string
		write, want bool
	}{
		{"all repos read", all, "app", false, true},
		{"all repos write", all, "other", true, true},
		{"scoped read", scoped, "app", false, true},
		{"scoped write needs contents:write", scoped, "app", true, false},
		{"scoped other repo", scoped, "other", false, false},
		{"unknown token", "ghs_nope", "app", false, false},
		{"unknown repo", all, "nope", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.s.TokenAllows(tt.token, "octo", tt.repo, tt.write); got != tt.want {
				t.Errorf("TokenAllows = %v, want %v", got, tt.want)
			}
		})
	}
	f.clock.Add(2 * time.Hour)
	if f.s.TokenAllows(all, "octo", "app", false) {
		t.Error("expired token still allowed")
	}
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		status  int
		headers map[string]string
	}{
		{"secondary rate limit by template", "/repos/{owner}/{repo}/issues/{issue_number}/comments", http.StatusForbidden, map[string]string{"Retry-After": "1"}},
		{"429 by glob", "/repos/octo/app/issues/*/comments", http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			gh := f.client(t, f.mint(t, nil))
			f.s.FailNext("POST", tt.pattern, tt.status, tt.headers)
			_, resp, err := gh.Issues.CreateComment(context.Background(), "octo", "app", 1, &github.IssueComment{Body: github.String("x")})
			if resp == nil || resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != "1" {
				t.Fatalf("err = %v (%T)", err, err)
			}
			// go-github v62 turns a 403 (not a 429) into AbuseRateLimitError.
			var abuse *github.AbuseRateLimitError
			if tt.status == http.StatusForbidden && (!errors.As(err, &abuse) || abuse.GetRetryAfter() != time.Second) {
				t.Fatalf("err = %v (%T), want AbuseRateLimitError after 1s", err, err)
			}
			if n := len(f.s.Comments("octo", "app", 1)); n != 0 {
				t.Errorf("failed request created %d comments", n)
			}
			// A fresh client: go-github's own backoff would hold this one for 1s.
			gh = f.client(t, f.s.Tokens()[0].Value)
			if _, _, err := gh.Issues.CreateComment(context.Background(), "octo", "app", 1, &github.IssueComment{Body: github.String("x")}); err != nil {
				t.Fatalf("second try: %v", err)
			}
			if n := len(f.s.Comments("octo", "app", 1)); n != 1 {
				t.Errorf("comments after retry = %d", n)
			}
			f.noViolations(t)
		})
	}
}

func TestRateLimitHeadersAndRequests(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, nil)
	gh := f.client(t, tok)
	_, r1, err := gh.Repositories.Get(context.Background(), "octo", "app")
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := gh.Repositories.Get(context.Background(), "octo", "app")
	if err != nil {
		t.Fatal(err)
	}
	if r1.Rate.Limit != rateLimit || r2.Rate.Remaining != r1.Rate.Remaining-1 || r1.Rate.Reset.IsZero() || r1.Header.Get("X-RateLimit-Resource") != "core" {
		t.Errorf("rates %+v then %+v", r1.Rate, r2.Rate)
	}
	_, _ = http.Get(f.s.URL() + "/nowhere")
	reqs := f.s.Requests()
	want := []RequestRecord{
		{"POST", "/api/v3/app/installations/7/access_tokens", "POST /app/installations/{installation_id}/access_tokens", 201},
		{"GET", "/api/v3/repos/octo/app", "GET /repos/{owner}/{repo}", 200},
		{"GET", "/api/v3/repos/octo/app", "GET /repos/{owner}/{repo}", 200},
		{"GET", "/nowhere", "", 404},
	}
	if !slices.Equal(reqs, want) {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestResponseValidationCatchesWrongShapes(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, nil)
	// Break a handler's answer for this test only.
	orig := handlers["GET /repos/{owner}/{repo}/issues/{issue_number}"]
	t.Cleanup(func() { handlers["GET /repos/{owner}/{repo}/issues/{issue_number}"] = orig })
	h := orig
	h.fn = func(c *call) reply { return ok(map[string]any{"number": "one"}) }
	handlers["GET /repos/{owner}/{repo}/issues/{issue_number}"] = h

	do(t, "GET", f.s.APIURL()+"repos/octo/app/issues/1", "token "+tok, nil)
	if !hasViolation(f.s.Violations(), "response does not match") {
		t.Errorf("violations = %q", f.s.Violations())
	}
}

func TestFindSpec(t *testing.T) {
	root := t.TempDir()
	spec := filepath.Join(root, "shared", "github", "github-openapi-subset.json")
	if err := os.MkdirAll(filepath.Dir(spec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "repo", "internal", "testgh")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := FindSpec(deep)
	if err != nil || got != spec {
		t.Errorf("FindSpec = %q, %v; want %q", got, err, spec)
	}
	if above, err := FindSpec(os.TempDir()); err == nil {
		t.Logf("a description lies above the temporary directory (%s): the empty-tree case cannot be checked here", above)
		return
	}
	if _, err := FindSpec(t.TempDir()); err == nil {
		t.Error("FindSpec found a spec in an empty tree")
	}
}
