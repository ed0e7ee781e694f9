package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/telemetry"
)

// afterCheck is what follows the check run on a pushed change: the
// configured reviewers and labels, then the verification.
func (r *run) afterCheck(ctx context.Context, num, sha, branch string) error {
	n, err := strconv.Atoi(num)
	if err != nil {
		return fmt.Errorf("pull request number %q: %w", num, err)
	}
	if err := r.requestReview(ctx, n); err != nil {
		return err
	}
	return r.verify(ctx, sha, branch)
}

// requestReview asks the configured reviewers and teams for a review and
// puts the configured labels on the pull request, once per run. GitHub
// refuses some requests for good reasons (a reviewer who is no
// collaborator, the author): that is recorded and reported, and does not
// fail the run.
func (r *run) requestReview(ctx context.Context, number int) error {
	e := r.effective()
	a := r.args
	if len(e.Reviewers) > 0 || len(e.TeamReviewers) > 0 {
		if _, err := r.once(ctx, journal.Reviewers, func() (string, error) {
			_, _, err := r.gh.PullRequests.RequestReviewers(ctx, a.Owner, a.Repo, number, github.ReviewersRequest{
				Reviewers: e.Reviewers, TeamReviewers: e.TeamReviewers,
			})
			if err != nil {
				if !clientError(err) {
					return "", fmt.Errorf("request reviewers: %w", err)
				}
				return "refused", r.auditEvent(ctx, telemetry.KindReviewFailed, "agentgate", map[string]any{"what": "reviewers", "error": err.Error()})
			}
			return "1", r.auditEvent(ctx, telemetry.KindReviewRequested, "agentgate", map[string]any{
				"reviewers": strings.Join(e.Reviewers, " "), "team_reviewers": strings.Join(e.TeamReviewers, " "), "pull_request": number,
			})
		}); err != nil {
			return err
		}
	}
	if len(e.Labels) > 0 {
		if _, err := r.once(ctx, journal.Labels, func() (string, error) {
			// GitHub's description allows only {"labels": [...]}; go-github's
			// AddLabelsToIssue sends a bare list.
			req, err := r.gh.NewRequest("POST", fmt.Sprintf("repos/%s/%s/issues/%d/labels", a.Owner, a.Repo, number), map[string]any{"labels": e.Labels})
			if err != nil {
				return "", fmt.Errorf("labels request: %w", err)
			}
			if _, err := r.gh.Do(ctx, req, nil); err != nil {
				if !clientError(err) {
					return "", fmt.Errorf("add labels: %w", err)
				}
				return "refused", r.auditEvent(ctx, telemetry.KindReviewFailed, "agentgate", map[string]any{"what": "labels", "error": err.Error()})
			}
			return "1", r.auditEvent(ctx, telemetry.KindLabeled, "agentgate", map[string]any{"labels": strings.Join(e.Labels, " "), "pull_request": number})
		}); err != nil {
			return err
		}
	}
	return nil
}

// clientError is true for GitHub's 4xx answers other than rate limits:
// asking again would get the same answer.
func clientError(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return false
	}
	c := er.Response.StatusCode
	return c >= 400 && c < 500 && c != 429 && c != 403
}
