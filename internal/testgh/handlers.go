package testgh

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// handler is an implemented operation and the credential it needs: an app
// JWT (app) or an installation token with perm at level.
type handler struct {
	app   bool
	perm  string
	level string
	fn    func(*call) reply

	// public operations take no credential (the manifest code is one).
	public bool
	// org operations are on an organization ({org}), not a repository.
	org bool
}

// handlers maps "METHOD /template" from the description to its handler.
// Operations of the description missing here are violations.
var handlers = map[string]handler{
	"POST /app/installations/{installation_id}/access_tokens":           {app: true, fn: (*call).createToken},
	"GET /repos/{owner}/{repo}":                                         {perm: "metadata", level: "read", fn: (*call).getRepo},
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission":     {perm: "metadata", level: "read", fn: (*call).getPermission},
	"GET /repos/{owner}/{repo}/contents/{path}":                         {perm: "contents", level: "read", fn: (*call).getContent},
	"GET /repos/{owner}/{repo}/issues/{issue_number}":                   {perm: "issues", level: "read", fn: (*call).getIssue},
	"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":          {perm: "issues", level: "read", fn: (*call).listComments},
	"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":         {perm: "issues", level: "write", fn: (*call).createComment},
	"GET /repos/{owner}/{repo}/issues/comments/{comment_id}":            {perm: "issues", level: "read", fn: (*call).getComment},
	"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":          {perm: "issues", level: "write", fn: (*call).updateComment},
	"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": {perm: "issues", level: "write", fn: (*call).reactToComment},
	"POST /repos/{owner}/{repo}/issues/{issue_number}/reactions":        {perm: "issues", level: "write", fn: (*call).reactToIssue},
	"GET /repos/{owner}/{repo}/pulls":                                   {perm: "pull_requests", level: "read", fn: (*call).listPulls},
	"POST /repos/{owner}/{repo}/pulls":                                  {perm: "pull_requests", level: "write", fn: (*call).createPull},
	"PATCH /repos/{owner}/{repo}/pulls/{pull_number}":                   {perm: "pull_requests", level: "write", fn: (*call).updatePull},
	"POST /repos/{owner}/{repo}/check-runs":                             {perm: "checks", level: "write", fn: (*call).createCheckRun},
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}":             {perm: "checks", level: "write", fn: (*call).updateCheckRun},
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":                {perm: "checks", level: "read", fn: (*call).listCheckRuns},
	"GET /orgs/{org}/teams/{team_slug}/memberships/{username}":          {org: true, perm: "members", level: "read", fn: (*call).getTeamMembership},
}

// decode unmarshals the (already validated) body into v.
func (c *call) decode(v any) *reply {
	if len(c.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		r := ghError(http.StatusBadRequest, "Problems parsing JSON")
		return &r
	}
	return nil
}

// intParam returns a validated integer path parameter.
func (c *call) intParam(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

// actor is the login acting with the call's credential: the app's bot.
func (c *call) actor() string { return c.s.BotLogin() }

// paginate applies page/per_page to n items and returns the slice bounds
// and a Link header when there are more pages.
func (c *call) paginate(n int) (lo, hi int, headers map[string]string) {
	q := c.r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	lo = min((page-1)*per, n)
	hi = min(lo+per, n)
	if hi < n {
		u := *c.r.URL
		q.Set("page", strconv.Itoa(page+1))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		headers = map[string]string{"Link": fmt.Sprintf("<%s%s%s>; rel=\"next\"", c.s.URL(), apiPrefix, u.RequestURI())}
	}
	return lo, hi, headers
}

func ok(body any) reply      { return reply{status: http.StatusOK, body: body} }
func created(body any) reply { return reply{status: http.StatusCreated, body: body} }
