package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/gitops"
)

// Bounds of a change committed through GitHub's Git Data API under
// commits.method auto: one request per changed file, so larger changes
// go through a git push (unsigned, but one round trip).
const (
	apiMaxFiles = 100
	apiMaxBytes = 4 << 20 // of new content, in total
	// apiMaxBlob is the largest blob sent through the API at all.
	apiMaxBlob = 50 << 20
)

// Commit methods.
const (
	methodAPI = "api"
	methodGit = "git"
)

// commitMethod decides how the change reaches GitHub: the Git Data API
// (GitHub signs the commit: verified) when configured, which auto does
// for a change within the bounds above; a go-git push otherwise.
func commitMethod(configured string, ch *gitops.Change) string {
	switch configured {
	case methodAPI, methodGit:
		return configured
	}
	var total int64
	for _, f := range ch.Files {
		total += f.Size
	}
	if len(ch.Files) <= apiMaxFiles && total <= apiMaxBytes {
		return methodAPI
	}
	return methodGit
}

// apiCommit creates the commit info describes (the harvested change on
// top of its parent) through the Git Data API and points branch at it.
// It returns GitHub's commit sha. The tree GitHub builds must be the tree
// agentgate built locally, or nothing is pushed.
func apiCommit(ctx context.Context, gh *github.Client, owner, repo string, ws *gitops.Workspace, ch *gitops.Change, info gitops.CommitInfo, message, branch string) (string, error) {
	entries := make([]*github.TreeEntry, 0, len(ch.Files))
	for _, f := range ch.Files {
		if f.Op == "deleted" {
			mode := f.OldMode
			if mode == "" {
				mode = "100644"
			}
			// No sha and no content: go-github sends "sha": null, a deletion.
			entries = append(entries, &github.TreeEntry{Path: github.String(f.Path), Mode: github.String(mode), Type: github.String("blob")})
			continue
		}
		data, err := ws.ReadBlob(f.Blob, apiMaxBlob)
		if err != nil {
			return "", fmt.Errorf("git data: %w", err)
		}
		blob, _, err := gh.Git.CreateBlob(ctx, owner, repo, &github.Blob{
			Content: github.String(base64.StdEncoding.EncodeToString(data)), Encoding: github.String("base64"),
		})
		if err != nil {
			return "", fmt.Errorf("git data: create blob for %s: %w", f.Path, err)
		}
		if blob.GetSHA() != f.Blob {
			return "", fmt.Errorf("git data: blob of %s is %s on GitHub, %s here", f.Path, blob.GetSHA(), f.Blob)
		}
		entries = append(entries, &github.TreeEntry{Path: github.String(f.Path), Mode: github.String(f.Mode), Type: github.String("blob"), SHA: blob.SHA})
	}
	tree, _, err := gh.Git.CreateTree(ctx, owner, repo, info.ParentTree, entries)
	if err != nil {
		return "", fmt.Errorf("git data: create tree: %w", err)
	}
	if tree.GetSHA() != info.Tree {
		return "", fmt.Errorf("git data: tree is %s on GitHub, %s here", tree.GetSHA(), info.Tree)
	}
	return apiCommitTree(ctx, gh, owner, repo, info.Tree, info.Parent, message, branch)
}

// apiCommitTree creates a commit of an existing tree and parent with
// message (no author: the app's, signed by GitHub) and force-moves
// branch to it, creating the branch when it does not exist.
func apiCommitTree(ctx context.Context, gh *github.Client, owner, repo, tree, parent, message, branch string) (string, error) {
	c, _, err := gh.Git.CreateCommit(ctx, owner, repo, &github.Commit{
		Message: github.String(message), Tree: &github.Tree{SHA: github.String(tree)},
		Parents: []*github.Commit{{SHA: github.String(parent)}},
	}, nil)
	if err != nil {
		return "", fmt.Errorf("git data: create commit: %w", err)
	}
	ref := &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: c.SHA}}
	_, _, err = gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		if _, _, err := gh.Git.CreateRef(ctx, owner, repo, ref); err != nil {
			return "", fmt.Errorf("git data: create branch %s: %w", branch, err)
		}
	case err != nil:
		return "", fmt.Errorf("git data: read branch %s: %w", branch, err)
	default:
		if _, _, err := gh.Git.UpdateRef(ctx, owner, repo, ref, true); err != nil {
			return "", fmt.Errorf("git data: move branch %s: %w", branch, err)
		}
	}
	return c.GetSHA(), nil
}

// branchHead is the commit branch points at on GitHub ("" when it does not exist).
func branchHead(ctx context.Context, gh *github.Client, owner, repo, branch string) (string, error) {
	ref, _, err := gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read branch %s: %w", branch, err)
	}
	return ref.GetObject().GetSHA(), nil
}
