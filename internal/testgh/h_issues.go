package testgh

import (
	"net/http"
	"time"
)

// getIssue implements GET /repos/{owner}/{repo}/issues/{issue_number}.
func (c *call) getIssue() reply {
	is, found := c.repo.issues[int(c.intParam("issue_number"))]
	if !found {
		return notFound()
	}
	return ok(c.s.issueJSON(c.repo, is))
}

// listComments implements GET /repos/{owner}/{repo}/issues/{issue_number}/comments.
func (c *call) listComments() reply {
	n := int(c.intParam("issue_number"))
	if _, found := c.repo.issues[n]; !found {
		return notFound()
	}
	var since time.Time
	if v := c.r.URL.Query().Get("since"); v != "" {
		since, _ = time.Parse(time.RFC3339, v)
	}
	var all []*Comment
	for _, cm := range c.repo.comments {
		if cm.Issue == n && !cm.UpdatedAt.Before(since) {
			all = append(all, cm)
		}
	}
	lo, hi, links := c.paginate(len(all))
	out := []any{}
	for _, cm := range all[lo:hi] {
		out = append(out, c.s.commentJSON(c.repo, cm))
	}
	r := ok(out)
	r.headers = links
	return r
}

// createComment implements POST /repos/{owner}/{repo}/issues/{issue_number}/comments.
func (c *call) createComment() reply {
	n := int(c.intParam("issue_number"))
	if _, found := c.repo.issues[n]; !found {
		return notFound()
	}
	var req struct {
		Body string `json:"body"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	if req.Body == "" {
		return validationFailed("IssueComment", "body", "missing_field", "")
	}
	if len(req.Body) > 65536 {
		return validationFailed("IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
	}
	now := c.s.now()
	cm := &Comment{ID: c.s.st.id(), Issue: n, Body: req.Body, User: c.actor(), UserType: "Bot", CreatedAt: now, UpdatedAt: now}
	c.repo.comments = append(c.repo.comments, cm)
	return created(c.s.commentJSON(c.repo, cm))
}

// comment finds a comment of the repository by id.
func (c *call) comment() (*Comment, bool) {
	id := c.intParam("comment_id")
	for _, cm := range c.repo.comments {
		if cm.ID == id {
			return cm, true
		}
	}
	return nil, false
}

// updateComment implements PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}.
func (c *call) updateComment() reply {
	cm, found := c.comment()
	if !found {
		return notFound()
	}
	if cm.User != c.actor() {
		return notAccessible()
	}
	var req struct {
		Body string `json:"body"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	if req.Body == "" {
		return validationFailed("IssueComment", "body", "missing_field", "")
	}
	cm.Body = req.Body
	cm.Edits++
	cm.UpdatedAt = c.s.now()
	return ok(c.s.commentJSON(c.repo, cm))
}

// react adds a reaction, answering 200 with the existing one when this
// user already reacted with the same content, as GitHub does.
func (c *call) react(subject string, id int64) reply {
	var req struct {
		Content string `json:"content"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	for _, r := range c.repo.reactions {
		if r.Subject == subject && r.SubjectID == id && r.Content == req.Content && r.User == c.actor() {
			return ok(c.s.reactionJSON(r, r.CreatedAt))
		}
	}
	r := &Reaction{ID: c.s.st.id(), Subject: subject, SubjectID: id, Content: req.Content, User: c.actor(), CreatedAt: c.s.now()}
	c.repo.reactions = append(c.repo.reactions, r)
	return reply{status: http.StatusCreated, body: c.s.reactionJSON(r, r.CreatedAt)}
}

// reactToComment implements POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions.
func (c *call) reactToComment() reply {
	cm, found := c.comment()
	if !found {
		return notFound()
	}
	return c.react("comment", cm.ID)
}

// reactToIssue implements POST /repos/{owner}/{repo}/issues/{issue_number}/reactions.
func (c *call) reactToIssue() reply {
	n := c.intParam("issue_number")
	if _, found := c.repo.issues[int(n)]; !found {
		return notFound()
	}
	return c.react("issue", n)
}
