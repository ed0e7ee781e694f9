package webhook

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
func sourceOf(is *issue, c *comment) *Source {
	s := &Source{
		IssueURL:       is.HTMLURL,
		IssueAuthor:    is.User.login(),
		IssueUpdatedAt: is.UpdatedAt.stamp(),
	}
	if c != nil {
		s.CommentURL = c.HTMLURL
		s.CommentAuthor = c.User.login()
		s.CommentAt = c.CreatedAt.stamp()
	}
	return s
}
