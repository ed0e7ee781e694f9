package testgh

// getComment implements GET /repos/{owner}/{repo}/issues/comments/{comment_id}.
func (c *call) getComment() reply {
	cm, found := c.comment()
	if !found {
		return notFound()
	}
	return ok(c.s.commentJSON(c.repo, cm))
}

// EditComment changes a comment's text as its author would on GitHub; it
// reports whether the comment exists.
func (s *Server) EditComment(owner, repo string, id int64, body string) bool {
	found := false
	s.withRepo(owner, repo, func(rs *repoState) {
		for _, cm := range rs.comments {
			if cm.ID == id {
				cm.Body, cm.UpdatedAt, found = body, s.now(), true
			}
		}
	})
	return found
}
