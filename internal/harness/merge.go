package harness

import (
	"context"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/internal/testgh"
)

// MergePR merges pull request pr as GitHub's "Create a merge commit" does:
// a commit with the head's tree (the base has not moved past the pull
// request's base) and parents base, head on the git server, the base
// branch moved to it, and the stand-in's pull request marked merged by
// login. It returns the merge commit.
func (e *Env) MergePR(ctx context.Context, pr testgh.PullRequest, login string) (string, error) {
	name := Owner + "/" + Repo
	base, err := e.Git.Ref(ctx, name, "refs/heads/"+pr.Base)
	if err != nil {
		return "", fmt.Errorf("merge #%d: base: %w", pr.Number, err)
	}
	head, err := e.Git.Ref(ctx, name, "refs/heads/"+pr.Head)
	if err != nil {
		return "", fmt.Errorf("merge #%d: head: %w", pr.Number, err)
	}
	msg := fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", pr.Number, Owner, pr.Head, pr.Title)
	out, err := e.Git.Git(ctx, name, "-c", "user.name="+login, "-c", "user.email="+login+"@example.com",
		"commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", msg)
	if err != nil {
		return "", fmt.Errorf("merge #%d: commit: %w", pr.Number, err)
	}
	merge := strings.TrimSpace(out)
	if _, err := e.Git.Git(ctx, name, "update-ref", "refs/heads/"+pr.Base, merge, base); err != nil {
		return "", fmt.Errorf("merge #%d: move %s: %w", pr.Number, pr.Base, err)
	}
	if !e.GH.MergePullRequest(Owner, Repo, pr.Number, merge, login) {
		return "", fmt.Errorf("merge #%d: no such pull request", pr.Number)
	}
	return merge, nil
}
