package testgh

// Endpoints for commands and follow-ups, registered beside the others.
func init() {
	handlers["GET /repos/{owner}/{repo}/pulls/{pull_number}"] = handler{perm: "pull_requests", level: "read", fn: (*call).getPull}
}

// getPull implements GET /repos/{owner}/{repo}/pulls/{pull_number}.
func (c *call) getPull() reply {
	p, found := c.repo.pulls[int(c.intParam("pull_number"))]
	if !found {
		return notFound()
	}
	return ok(c.s.pullJSON(c.repo, p))
}
