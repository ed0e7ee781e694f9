package gitops

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/testgit"
)

// mergeFeature commits a change on a branch and merges it into main with
// a merge commit (as GitHub's merge button); it returns the merge commit.
func mergeFeature(t *testing.T, s *testgit.Server) string {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Git(ctx, testRepo, "branch", "agentgate/1-fix", "main"); err != nil {
		t.Fatal(err)
	}
	head, err := s.Commit(ctx, testRepo, "agentgate/1-fix", "fix", []testgit.File{
		{Path: "README.md", Content: "hello\nthere\n"},
		{Path: "new/added.txt", Content: "added\n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Ref(ctx, testRepo, "refs/heads/main")
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Git(ctx, testRepo, "commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge pull request #2")
	if err != nil {
		t.Fatal(err)
	}
	merge := strings.TrimSpace(out)
	if _, err := s.Git(ctx, testRepo, "update-ref", "refs/heads/main", merge, base); err != nil {
		t.Fatal(err)
	}
	return merge
}

// gitRevertTree is the tree the real `git revert -m 1` makes of merge on
// main's head.
func gitRevertTree(t *testing.T, s *testgit.Server, merge string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	gitCLI(t, "", "clone", "-q", "--branch", "main", s.Path(testRepo), dir)
	gitCLI(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.test", "revert", "--no-edit", "-m", "1", merge)
	return strings.TrimSpace(gitCLI(t, dir, "rev-parse", "HEAD^{tree}"))
}

func TestComputeRevert(t *testing.T) {
	tests := []struct {
		name      string
		later     []testgit.File // committed on main after the merge
		wantErr   error
		conflicts []string
		files     []string
		onDisk    bool // fetch into a directory, not memory
	}{
		{name: "right after the merge", files: []string{"README.md", "new/added.txt"}},
		{name: "later work elsewhere kept", later: []testgit.File{{Path: "NOTES.md", Content: "later\n"}}, files: []string{"README.md", "new/added.txt"}, onDisk: true},
		{name: "a reverted path changed since", later: []testgit.File{{Path: "README.md", Content: "hello\nagain\n"}}, conflicts: []string{"README.md"}},
		{name: "already reverted by hand", later: []testgit.File{{Path: "README.md", Content: "hello\nworld\n"}}, files: []string{"new/added.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newServer(t)
			merge := mergeFeature(t, s)
			if tt.later != nil {
				if _, err := s.Commit(ctx, testRepo, "main", "later", tt.later); err != nil {
					t.Fatal(err)
				}
			}
			opts := RevertOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "main", Merge: merge}
			if tt.onDisk {
				opts.Dir = t.TempDir()
			}
			rv, err := ComputeRevert(ctx, opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !slices.Equal(rv.Conflicts, tt.conflicts) {
				t.Errorf("conflicts = %q, want %q", rv.Conflicts, tt.conflicts)
			}
			var paths []string
			for _, f := range rv.Files {
				paths = append(paths, f.Path)
				if f.Path == "new/added.txt" && !f.Delete {
					t.Errorf("the added file is not deleted: %+v", f)
				}
				if f.Path == "README.md" && string(f.Content) != "hello\nworld\n" {
					t.Errorf("README restored to %q", f.Content)
				}
			}
			if !slices.Equal(paths, tt.files) {
				t.Errorf("files = %q, want %q", paths, tt.files)
			}
			if len(tt.conflicts) == 0 {
				if want := gitRevertTree(t, s, merge); rv.Tree != want {
					t.Errorf("tree = %s, git revert -m 1 makes %s", rv.Tree, want)
				}
			} else if rv.Tree != "" || len(rv.Files) != 0 {
				t.Errorf("a conflicted revert still has a tree %q and files %d", rv.Tree, len(rv.Files))
			}
		})
	}
}

func TestComputeRevertRefusals(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	merge := mergeFeature(t, s)
	opts := RevertOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "main", Merge: merge}

	// Nothing left to revert: main is back where it was.
	if _, err := s.Commit(ctx, testRepo, "main", "undo", []testgit.File{{Path: "README.md", Content: "hello\nworld\n"}}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "c")
	gitCLI(t, "", "clone", "-q", "--branch", "main", s.Path(testRepo), dir)
	gitCLI(t, dir, "rm", "-q", "new/added.txt")
	gitCLI(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "rm")
	gitCLI(t, dir, "push", "-q", "origin", "main")
	if _, err := ComputeRevert(ctx, opts); !errors.Is(err, ErrNothingToRevert) {
		t.Errorf("already reverted: err = %v, want ErrNothingToRevert", err)
	}

	// A commit that is not on the branch.
	other := opts
	other.Merge = strings.Repeat("ab", 20)
	if _, err := ComputeRevert(ctx, other); !errors.Is(err, ErrMergeNotFound) {
		t.Errorf("unknown merge: err = %v, want ErrMergeNotFound", err)
	}
	// Past the fetched depth.
	deep := opts
	deep.Depth = 1
	if _, err := ComputeRevert(ctx, deep); !errors.Is(err, ErrMergeNotFound) {
		t.Errorf("depth 1: err = %v, want ErrMergeNotFound", err)
	}
	// Without read access.
	bad := opts
	bad.Token = "nobody"
	if _, err := ComputeRevert(ctx, bad); err == nil {
		t.Error("a token without access fetched the branch")
	}
}
