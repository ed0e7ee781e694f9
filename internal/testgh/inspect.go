package testgh

import (
	"maps"
	"slices"
	"sort"
)

// readRepo runs f on a repository under the lock; unknown repositories
// yield nothing.
func (s *Server) readRepo(owner, repo string, f func(*repoState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs, ok := s.st.repos[repoKey(owner, repo)]; ok {
		f(rs)
	}
}

// Comments returns the comments on one issue or pull request, oldest first.
func (s *Server) Comments(owner, repo string, issue int) []Comment {
	var out []Comment
	s.readRepo(owner, repo, func(rs *repoState) {
		for _, c := range rs.comments {
			if c.Issue == issue {
				out = append(out, *c)
			}
		}
	})
	return out
}

// Reactions returns the reactions on a repository's issues and comments, oldest first.
func (s *Server) Reactions(owner, repo string) []Reaction {
	var out []Reaction
	s.readRepo(owner, repo, func(rs *repoState) {
		for _, r := range rs.reactions {
			out = append(out, *r)
		}
	})
	return out
}

// PullRequests returns a repository's pull requests by number.
func (s *Server) PullRequests(owner, repo string) []PullRequest {
	var out []PullRequest
	s.readRepo(owner, repo, func(rs *repoState) {
		for _, p := range rs.pulls {
			out = append(out, *p)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// CheckRuns returns a repository's check runs in creation order.
func (s *Server) CheckRuns(owner, repo string) []CheckRun {
	var out []CheckRun
	s.readRepo(owner, repo, func(rs *repoState) {
		for _, c := range rs.checks {
			out = append(out, *c)
		}
	})
	return out
}

// Tokens returns every installation token minted, in no particular order.
func (s *Server) Tokens() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Token, 0, len(s.st.tokens))
	for _, t := range s.st.tokens {
		out = append(out, cloneToken(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	return out
}

func cloneToken(t *Token) Token {
	c := *t
	c.Repositories = slices.Clone(t.Repositories)
	c.RequestedRepositories = slices.Clone(t.RequestedRepositories)
	c.RequestedRepositoryIDs = slices.Clone(t.RequestedRepositoryIDs)
	c.RequestedPermissions = maps.Clone(t.RequestedPermissions)
	c.Permissions = maps.Clone(t.Permissions)
	return c
}

// Requests returns every request received, in order (no bodies, no tokens).
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.requests)
}

// Violations returns a description of every request GitHub's contract (or
// the stand-in's own rules) did not allow, in order.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.violations)
}

// MergePullRequest records pull request number as merged by login into
// merge (a commit the test made on the base branch): closed, merged,
// with merge_commit_sha. It reports whether the pull request exists.
func (s *Server) MergePullRequest(owner, repo string, number int, merge, login string) bool {
	found := false
	s.withRepo(owner, repo, func(rs *repoState) {
		for _, p := range rs.pulls {
			if p.Number == number {
				p.State, p.MergeCommitSHA, p.MergedBy, p.UpdatedAt = "closed", merge, login, s.now()
				found = true
			}
		}
	})
	return found
}
