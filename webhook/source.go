package webhook

import (
	"time"

	"github.com/google/go-github/v62/github"
)

// Source records where a run's text came from, so the task file can say
// it: the issue (or pull request) and, for a mention, the comment, each
// with its author, address and time. Values are copied from the signed
// delivery.
type Source struct {
	IssueURL       string `json:"issue_url,omitempty"`
	IssueAuthor    string `json:"issue_author,omitempty"`
	IssueUpdatedAt string `json:"issue_updated_at,omitempty"` // RFC 3339
	CommentURL     string `json:"comment_url,omitempty"`
	CommentAuthor  string `json:"comment_author,omitempty"`
	CommentAt      string `json:"comment_at,omitempty"` // RFC 3339
}

// sourceOf fills a Source from the delivery's issue and comment (nil for
// a label trigger).
func sourceOf(issue *github.Issue, comment *github.IssueComment) *Source {
	s := &Source{
		IssueURL:       issue.GetHTMLURL(),
		IssueAuthor:    issue.GetUser().GetLogin(),
		IssueUpdatedAt: stamp(issue.GetUpdatedAt()),
	}
	if comment != nil {
		s.CommentURL = comment.GetHTMLURL()
		s.CommentAuthor = comment.GetUser().GetLogin()
		s.CommentAt = stamp(comment.GetCreatedAt())
	}
	return s
}

// stamp formats a GitHub time as RFC 3339 in UTC, "" when unset.
func stamp(t github.Timestamp) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
