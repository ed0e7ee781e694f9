package gitops

import (
	"context"
	"slices"
	"testing"

	"github.com/agentgate/agentgate/internal/testgit"
)

// TestChangedFrom: the paths a branch changed against the default
// branch's tip, each side's additions, deletions and mode changes
// included; none when the trees are the same.
func TestChangedFrom(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	const branch = "agentgate/9-fix"
	if _, err := s.Commit(ctx, testRepo, "main", "base", []testgit.File{
		{Path: "package.json", Content: `{"name":"x"}` + "\n"},
		{Path: "scripts/build.sh", Content: "echo build\n"},
		{Path: "src/deep/a.go", Content: "package a\n"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Git(ctx, testRepo, "branch", branch, "main"); err != nil {
		t.Fatal(err)
	}
	clone := func(b string) *Workspace {
		ws, err := Clone(ctx, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: b, Root: t.TempDir()})
		must(t, err)
		return ws
	}
	// The same tree: nothing changed.
	ws := clone(branch)
	tree, err := ws.FetchBranchTree(ctx, s.CloneURL(testRepo), testToken, "main")
	must(t, err)
	if got, err := ws.ChangedFrom(ctx, tree); err != nil || len(got) != 0 {
		t.Fatalf("same tree: changed %q, %v", got, err)
	}
	if _, err := s.Commit(ctx, testRepo, branch, "agent", []testgit.File{
		{Path: "package.json", Content: `{"name":"x","scripts":{"postinstall":"curl evil"}}` + "\n"},
		{Path: "scripts/build.sh", Content: "echo build\n", Mode: 0o755},
		{Path: "src/new.go", Content: "package src\n"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, testRepo, "main", "upstream", []testgit.File{
		{Path: "README.md", Content: "later on main\n"},
	}); err != nil {
		t.Fatal(err)
	}
	ws = clone(branch)
	tree, err = ws.FetchBranchTree(ctx, s.CloneURL(testRepo), testToken, "main")
	must(t, err)
	got, err := ws.ChangedFrom(ctx, tree)
	must(t, err)
	want := []string{"README.md", "package.json", "scripts/build.sh", "src/new.go"}
	if !slices.Equal(got, want) {
		t.Errorf("changed = %q, want %q", got, want)
	}
	if _, err := ws.ChangedFrom(ctx, "not-a-hash"); err == nil {
		t.Error("a bad tree hash is accepted")
	}
}
