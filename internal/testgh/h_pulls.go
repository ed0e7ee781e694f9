package testgh

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// listPulls implements GET /repos/{owner}/{repo}/pulls with the state,
// head (owner:branch), base and direction filters.
func (c *call) listPulls() reply {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	headOwner, headBranch := "", ""
	if h := q.Get("head"); h != "" {
		var found bool
		headOwner, headBranch, found = strings.Cut(h, ":")
		if !found {
			c.violation = "head filter " + fmt.Sprintf("%q", h) + " is not owner:branch (GitHub ignores it)"
			headOwner, headBranch = "", ""
		}
	}
	base := q.Get("base")
	var all []*PullRequest
	for _, p := range c.repo.pulls {
		switch {
		case state != "all" && p.State != state:
		case headBranch != "" && (!strings.EqualFold(headOwner, c.repo.repo.Owner) || p.Head != headBranch):
		case base != "" && p.Base != base:
		default:
			all = append(all, p)
		}
	}
	asc := q.Get("direction") == "asc"
	sort.Slice(all, func(i, j int) bool { return (all[i].Number < all[j].Number) == asc })
	lo, hi, links := c.paginate(len(all))
	out := []any{}
	for _, p := range all[lo:hi] {
		out = append(out, c.s.pullJSON(c.repo, p))
	}
	r := ok(out)
	r.headers = links
	return r
}

// createPull implements POST /repos/{owner}/{repo}/pulls for branches of
// the same repository (known through SetBranch or Options.ResolveRef).
func (c *call) createPull() reply {
	var req struct {
		Title               string `json:"title"`
		Head                string `json:"head"`
		HeadRepo            string `json:"head_repo"`
		Base                string `json:"base"`
		Body                string `json:"body"`
		MaintainerCanModify *bool  `json:"maintainer_can_modify"`
		Draft               bool   `json:"draft"`
		Issue               int    `json:"issue"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	rs := c.repo
	head := req.Head
	if owner, branch, found := strings.Cut(head, ":"); found {
		if !strings.EqualFold(owner, rs.repo.Owner) {
			return validationFailed("PullRequest", "head", "invalid", "")
		}
		head = branch
	}
	if req.HeadRepo != "" && !strings.EqualFold(req.HeadRepo, rs.repo.FullName()) {
		return validationFailed("PullRequest", "head_repo", "invalid", "")
	}
	var is *issue
	if req.Issue != 0 {
		var found bool
		if is, found = rs.issues[req.Issue]; !found || is.isPR {
			return validationFailed("PullRequest", "issue", "invalid", "")
		}
		req.Title, req.Body = is.title, is.body
	}
	if req.Title == "" {
		return validationFailed("PullRequest", "title", "missing_field", "")
	}
	headSHA, found := c.s.resolveBranch(rs, head)
	if !found {
		return validationFailed("PullRequest", "head", "invalid", "")
	}
	baseSHA, found := c.s.resolveBranch(rs, req.Base)
	if !found && req.Base != rs.repo.DefaultBranch {
		return validationFailed("PullRequest", "base", "invalid", "")
	}
	if head == req.Base || (baseSHA != "" && headSHA == baseSHA) {
		return validationFailed("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", req.Base, head))
	}
	for _, p := range rs.pulls {
		if p.State == "open" && p.Head == head && p.Base == req.Base {
			return validationFailed("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", rs.repo.Owner, head))
		}
	}
	now := c.s.now()
	if is == nil {
		is = &issue{number: rs.nextNumber, id: c.s.st.id(), title: req.Title, body: req.Body, user: c.actor(), state: "open", createdAt: now}
		rs.nextNumber++
		rs.issues[is.number] = is
	}
	is.isPR, is.updatedAt = true, now
	p := &PullRequest{
		ID: c.s.st.id(), Number: is.number, Title: req.Title, Body: req.Body,
		Head: head, HeadSHA: headSHA, Base: req.Base, BaseSHA: baseSHA,
		Draft: req.Draft, State: "open", MaintainerCanModify: req.MaintainerCanModify == nil || *req.MaintainerCanModify,
		User: c.actor(), Issue: req.Issue, CreatedAt: now, UpdatedAt: now,
	}
	rs.pulls[p.Number] = p
	return reply{status: http.StatusCreated, body: c.s.pullJSON(rs, p)}
}

// updatePull implements PATCH /repos/{owner}/{repo}/pulls/{pull_number}.
func (c *call) updatePull() reply {
	p, found := c.repo.pulls[int(c.intParam("pull_number"))]
	if !found {
		return notFound()
	}
	var req struct {
		Title               *string `json:"title"`
		Body                *string `json:"body"`
		State               *string `json:"state"`
		Base                *string `json:"base"`
		MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	if req.Base != nil && *req.Base != c.repo.repo.DefaultBranch {
		if _, found := c.s.resolveBranch(c.repo, *req.Base); !found {
			return validationFailed("PullRequest", "base", "invalid", "")
		}
	}
	is := c.repo.issues[p.Number]
	if req.Title != nil {
		p.Title, is.title = *req.Title, *req.Title
	}
	if req.Body != nil {
		p.Body, is.body = *req.Body, *req.Body
	}
	if req.State != nil {
		p.State, is.state = *req.State, *req.State
	}
	if req.Base != nil {
		p.Base = *req.Base
	}
	if req.MaintainerCanModify != nil {
		p.MaintainerCanModify = *req.MaintainerCanModify
	}
	p.UpdatedAt = c.s.now()
	is.updatedAt = p.UpdatedAt
	return ok(c.s.pullJSON(c.repo, p))
}
