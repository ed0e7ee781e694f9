package gitops

import (
	"context"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/testgit"
)

// TestChangedPathsIsThePullRequestsChange: the paths a branch changes
// against the default branch, over all its commits (not only the last
// one), with the entry each has at the branch head; a path changed and
// changed back is no change.
func TestChangedPathsIsThePullRequestsChange(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	const branch = "agentgate/7-fix"
	if _, err := s.Commit(ctx, testRepo, "main", "base", []testgit.File{
		{Path: "KEEP.md", Content: "same\n"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Git(ctx, testRepo, "branch", branch, "main"); err != nil {
		t.Fatal(err)
	}
	for _, files := range [][]testgit.File{
		{{Path: "CODEOWNERS", Content: "* @mallory\n"}, {Path: "KEEP.md", Content: "changed\n"}},
		{{Path: "notes.md", Content: "trivial\n"}, {Path: "KEEP.md", Content: "same\n"}},
	} {
		if _, err := s.Commit(ctx, testRepo, branch, "step", files); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := Clone(ctx, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: branch, Root: t.TempDir()})
	must(t, err)
	tree, err := ws.FetchBranchTree(ctx, s.CloneURL(testRepo), testToken, "main")
	must(t, err)
	got, err := ws.ChangedPaths(ctx, tree, ws.BaseCommit)
	must(t, err)
	var paths []string
	for _, c := range got {
		paths = append(paths, c.Path)
		if !strings.HasPrefix(c.Entry, "100644 ") || len(c.Entry) != len("100644 ")+40 {
			t.Errorf("%s: entry %q", c.Path, c.Entry)
		}
	}
	if strings.Join(paths, " ") != "CODEOWNERS notes.md" {
		t.Errorf("changed paths = %q, want CODEOWNERS and notes.md", paths)
	}
	// Against the branch's own tree nothing changed.
	own, err := ws.FetchBranchTree(ctx, s.CloneURL(testRepo), testToken, branch)
	must(t, err)
	if got, err := ws.ChangedPaths(ctx, own, ws.BaseCommit); err != nil || len(got) != 0 {
		t.Errorf("against its own tree: %v %v", got, err)
	}
	if _, err := ws.ChangedPaths(ctx, "not-a-hash", ws.BaseCommit); err == nil {
		t.Error("a bad tree hash was accepted")
	}
}
