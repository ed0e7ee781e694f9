package testgh

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// repoExt is the state of the review and Git Data endpoints.
type repoExt struct {
	reviewers map[int][]string // pull number -> requested users
	teams     map[int][]string // pull number -> requested team slugs
	labels    map[int][]string // issue or pull number -> label names
	commits   map[string]GitCommit
}

func (e *repoExt) init() {
	if e.reviewers == nil {
		e.reviewers, e.teams, e.labels, e.commits = map[int][]string{}, map[int][]string{}, map[int][]string{}, map[string]GitCommit{}
	}
}

func init() {
	handlers["POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"] = handler{perm: "pull_requests", level: "write", fn: (*call).requestReviewers}
	handlers["POST /repos/{owner}/{repo}/issues/{issue_number}/labels"] = handler{perm: "issues", level: "write", fn: (*call).addLabels}
}

// requestReviewers implements POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers.
// Like GitHub it refuses (422) a reviewer who is not a collaborator or who
// wrote the pull request.
func (c *call) requestReviewers() reply {
	var req struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if r := c.decode(&req); r != nil {
		return *r
	}
	p, ok := c.repo.pulls[int(c.intParam("pull_number"))]
	if !ok {
		return notFound()
	}
	for _, u := range req.Reviewers {
		if strings.EqualFold(u, p.User) {
			return validationFailed("PullRequest", "reviewers", "invalid", "Review cannot be requested from pull request author.")
		}
		if role := c.repo.perms[strings.ToLower(u)]; role == "" || role == "none" {
			return validationFailed("PullRequest", "reviewers", "invalid", "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the "+c.repo.repo.FullName()+" repository.")
		}
	}
	c.repo.ext.init()
	add := func(m map[int][]string, names []string) {
		for _, n := range names {
			if !slices.ContainsFunc(m[p.Number], func(x string) bool { return strings.EqualFold(x, n) }) {
				m[p.Number] = append(m[p.Number], n)
			}
		}
	}
	add(c.repo.ext.reviewers, req.Reviewers)
	add(c.repo.ext.teams, req.TeamReviewers)
	body := c.s.pullJSON(c.repo, p)
	users, teams := []any{}, []any{}
	for _, u := range c.repo.ext.reviewers[p.Number] {
		users = append(users, c.s.userJSON(u))
	}
	for _, t := range c.repo.ext.teams[p.Number] {
		teams = append(teams, c.s.teamJSON(c.repo, t))
	}
	body["requested_reviewers"], body["requested_teams"] = users, teams
	return created(body)
}

func (s *Server) teamJSON(rs *repoState, slug string) map[string]any {
	id := s.st.userID("team:" + rs.repo.Owner + "/" + slug)
	u := fmt.Sprintf("%s/orgs/%s/teams/%s", s.api(), rs.repo.Owner, slug)
	return map[string]any{
		"id": id, "node_id": nodeID("Team", id), "url": u, "html_url": s.URL() + "/orgs/" + rs.repo.Owner + "/teams/" + slug,
		"name": slug, "slug": slug, "description": nil, "privacy": "closed", "notification_setting": "notifications_enabled",
		"type": "organization", "permission": "pull", "members_url": u + "/members{/member}", "repositories_url": u + "/repos", "parent": nil,
	}
}

// addLabels implements POST /repos/{owner}/{repo}/issues/{issue_number}/labels:
// the body is {"labels": [...]} or a plain list of names; missing labels are created.
func (c *call) addLabels() reply {
	var names []string
	if err := unmarshalLabels(c.body, &names); err != nil {
		return ghError(http.StatusBadRequest, "Problems parsing JSON")
	}
	n := int(c.intParam("issue_number"))
	if _, ok := c.repo.issues[n]; !ok {
		return notFound()
	}
	c.repo.ext.init()
	for _, l := range names {
		if !slices.Contains(c.repo.ext.labels[n], l) {
			c.repo.ext.labels[n] = append(c.repo.ext.labels[n], l)
		}
	}
	out := []any{}
	for _, l := range c.repo.ext.labels[n] {
		id := c.s.st.userID("label:" + c.repo.repo.FullName() + ":" + l)
		out = append(out, map[string]any{
			"id": id, "node_id": nodeID("Label", id), "url": c.s.api() + "/repos/" + c.repo.repo.FullName() + "/labels/" + l,
			"name": l, "description": nil, "color": "ededed", "default": false,
		})
	}
	return ok(out)
}

// RequestedReviewers returns the users and teams requested on a pull request.
func (s *Server) RequestedReviewers(owner, repo string, number int) (users, teams []string) {
	s.readRepo(owner, repo, func(rs *repoState) {
		users, teams = slices.Clone(rs.ext.reviewers[number]), slices.Clone(rs.ext.teams[number])
	})
	return users, teams
}

// Labels returns the labels put on an issue or pull request.
func (s *Server) Labels(owner, repo string, number int) []string {
	var out []string
	s.readRepo(owner, repo, func(rs *repoState) { out = slices.Clone(rs.ext.labels[number]) })
	return out
}

// TokenHasPermission reports whether token is live, covers owner/repo and
// grants perm at level (e.g. "workflows", "write").
func (s *Server) TokenHasPermission(token, owner, repo, perm, level string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.liveToken(token)
	if !ok {
		return false
	}
	rs, ok := s.st.repos[repoKey(owner, repo)]
	return ok && s.tokenCovers(t, rs) && grants(t.Permissions, perm, level)
}

// unmarshalLabels reads either {"labels": [names]} or [names].
func unmarshalLabels(body []byte, out *[]string) error {
	var obj struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(body, &obj); err == nil {
		*out = obj.Labels
		return nil
	}
	return json.Unmarshal(body, out)
}
