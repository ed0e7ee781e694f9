package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/sandbox"
)

// coverage is what one approval of protected paths covered: exactly these
// paths with this content, on this pull request, under this policy.
type coverage struct {
	Repo    int64             `json:"repo"`
	PR      int               `json:"pr"`
	Policy  string            `json:"policy"`
	Entries map[string]string `json:"entries"`
}

// prProtected judges protected paths on the pull request the push of
// commit makes or updates, not on the run's own change: every path that
// differs between the pull request's base (the default branch; for a
// first run, the commit's parent, which is the default branch's tip it
// started from) and commit, that policy protects (workflows included),
// and that no approval on the same pull request under the same policy
// already covered with the same content. It returns those paths and
// their entries at commit.
func (r *run) prProtected(ctx context.Context, ws *gitops.Workspace, commit string, info gitops.CommitInfo, policyHash string) ([]string, map[string]string, error) {
	a := r.args
	base := info.ParentTree
	if a.FollowUp != nil {
		tok, err := r.w.Clients.Token(ctx, a.InstallationID, cloneScope(a.RepoID))
		if err != nil {
			return nil, nil, err
		}
		if base, err = ws.FetchBranchTree(ctx, a.CloneURL, tok, a.DefaultBranch); err != nil {
			return nil, nil, fmt.Errorf("protected paths of the pull request: %w", err)
		}
	}
	changes, err := ws.ChangedPaths(ctx, base, commit)
	if err != nil {
		return nil, nil, fmt.Errorf("protected paths of the pull request: %w", err)
	}
	var globs []string
	if r.policy != nil {
		globs = r.policy.Protected
	}
	covered, err := r.coveredOnPR(ctx, policyHash)
	if err != nil {
		return nil, nil, err
	}
	var paths []string
	entries := map[string]string{}
	for _, c := range changes {
		if !strings.HasPrefix(c.Path, sandbox.WorkflowsDir) && !policy.MatchAny(globs, c.Path) {
			continue
		}
		if e, ok := covered[c.Path]; ok && e[c.Entry] {
			continue
		}
		paths = append(paths, c.Path)
		entries[c.Path] = c.Entry
	}
	return paths, entries, nil
}

// coveredOnPR gathers what approvals on the run's pull request (of the
// run that opened it and of its follow-ups) covered under policyHash:
// path → entries. A first run has none.
func (r *run) coveredOnPR(ctx context.Context, policyHash string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	f := r.args.FollowUp
	if f == nil || f.PR == 0 {
		return out, nil
	}
	all, err := r.w.DB.EffectsByKey(ctx, journal.ApprovalCovers)
	if err != nil {
		return nil, err
	}
	for _, v := range all {
		var c coverage
		if err := json.Unmarshal([]byte(v), &c); err != nil || c.Repo != r.args.RepoID || c.PR != f.PR || c.Policy != policyHash {
			continue
		}
		for p, e := range c.Entries {
			if out[p] == nil {
				out[p] = map[string]bool{}
			}
			out[p][e] = true
		}
	}
	return out, nil
}

// recordCoverage keeps what an approval of run runID (in repository
// repoID) covers: the entries its push left unapproved in its pull
// request, under hash.
func recordCoverage(ctx context.Context, w *Worker, runID string, repoID int64, hash string) error {
	c := coverage{Repo: repoID, Policy: hash, Entries: map[string]string{}}
	if v, ok, err := w.DB.Effect(ctx, runID, journal.PR); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if !ok {
		return nil // no pull request: nothing later can rely on it
	} else if c.PR, err = strconv.Atoi(v); err != nil {
		return fmt.Errorf("pull request number %q: %w", v, err)
	}
	if v, ok, err := w.DB.Effect(ctx, runID, journal.ProtectedEntries); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if ok {
		if err := json.Unmarshal([]byte(v), &c.Entries); err != nil {
			return fmt.Errorf("protected entries of run %s: %w", runID, err)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return w.DB.RecordEffect(ctx, runID, journal.ApprovalCovers, string(b))
}
