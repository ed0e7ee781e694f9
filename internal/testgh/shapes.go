package testgh

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// The functions below render state in the shapes of GitHub's response
// schemas (simple-user, repository, issue, issue-comment, reaction,
// pull-request, check-run, content-file). Callers hold mu.

func (s *Server) api() string { return s.URL() + apiPrefix }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func strOrNil(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s%d", kind, id))
}

// userJSON renders a simple-user; logins ending in [bot] are of type Bot.
func (s *Server) userJSON(login string) map[string]any {
	id := s.st.userID(login)
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	u := s.api() + "/users/" + login
	return map[string]any{
		"login": login, "id": id, "node_id": nodeID("User", id),
		"avatar_url":          s.URL() + "/avatars/u/" + fmt.Sprint(id),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            s.URL() + "/" + login,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                typ,
		"site_admin":          false,
	}
}

// repoJSON renders a repository (full adds full-repository's extra fields).
func (s *Server) repoJSON(rs *repoState, full bool) map[string]any {
	r := rs.repo
	u := s.api() + "/repos/" + r.FullName()
	html := s.URL() + "/" + r.FullName()
	open := 0
	for _, is := range rs.issues {
		if is.state == "open" {
			open++
		}
	}
	m := map[string]any{
		"id": r.ID, "node_id": nodeID("Repository", r.ID), "name": r.Name, "full_name": r.FullName(),
		"owner": s.userJSON(r.Owner), "private": r.Private, "html_url": html, "description": nil,
		"fork": false, "url": u,
		"archive_url":       u + "/{archive_format}{/ref}",
		"assignees_url":     u + "/assignees{/user}",
		"blobs_url":         u + "/git/blobs{/sha}",
		"branches_url":      u + "/branches{/branch}",
		"collaborators_url": u + "/collaborators{/collaborator}",
		"comments_url":      u + "/comments{/number}",
		"commits_url":       u + "/commits{/sha}",
		"compare_url":       u + "/compare/{base}...{head}",
		"contents_url":      u + "/contents/{+path}",
		"contributors_url":  u + "/contributors",
		"deployments_url":   u + "/deployments",
		"downloads_url":     u + "/downloads",
		"events_url":        u + "/events",
		"forks_url":         u + "/forks",
		"git_commits_url":   u + "/git/commits{/sha}",
		"git_refs_url":      u + "/git/refs{/sha}",
		"git_tags_url":      u + "/git/tags{/sha}",
		"git_url":           "git://" + strings.TrimPrefix(s.URL(), "http://") + "/" + r.FullName() + ".git",
		"issue_comment_url": u + "/issues/comments{/number}",
		"issue_events_url":  u + "/issues/events{/number}",
		"issues_url":        u + "/issues{/number}",
		"keys_url":          u + "/keys{/key_id}",
		"labels_url":        u + "/labels{/name}",
		"languages_url":     u + "/languages",
		"merges_url":        u + "/merges",
		"milestones_url":    u + "/milestones{/number}",
		"notifications_url": u + "/notifications{?since,all,participating}",
		"pulls_url":         u + "/pulls{/number}",
		"releases_url":      u + "/releases{/id}",
		"ssh_url":           "git@" + strings.TrimPrefix(s.URL(), "http://") + ":" + r.FullName() + ".git",
		"stargazers_url":    u + "/stargazers",
		"statuses_url":      u + "/statuses/{sha}",
		"subscribers_url":   u + "/subscribers",
		"subscription_url":  u + "/subscription",
		"tags_url":          u + "/tags",
		"teams_url":         u + "/teams",
		"trees_url":         u + "/git/trees{/sha}",
		"clone_url":         r.CloneURL,
		"mirror_url":        nil,
		"hooks_url":         u + "/hooks",
		"svn_url":           html,
		"homepage":          nil,
		"language":          nil,
		"forks":             0, "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
		"size": 0, "default_branch": r.DefaultBranch,
		"open_issues_count": open, "open_issues": open,
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false,
		"has_downloads": false, "has_discussions": false, "archived": false, "disabled": false,
		"visibility": map[bool]string{true: "private", false: "public"}[r.Private],
		"license":    nil,
		"pushed_at":  ts(rs.created), "created_at": ts(rs.created), "updated_at": ts(rs.created),
	}
	if full {
		m["network_count"] = 0
		m["subscribers_count"] = 0
	}
	return m
}

// issueJSON renders an issue (pull requests carry a pull_request link).
func (s *Server) issueJSON(rs *repoState, is *issue) map[string]any {
	repoURL := s.api() + "/repos/" + rs.repo.FullName()
	u := fmt.Sprintf("%s/issues/%d", repoURL, is.number)
	comments := 0
	for _, c := range rs.comments {
		if c.Issue == is.number {
			comments++
		}
	}
	closedAt := any(nil)
	if is.state == "closed" {
		closedAt = ts(is.updatedAt)
	}
	m := map[string]any{
		"id": is.id, "node_id": nodeID("Issue", is.id), "url": u, "repository_url": repoURL,
		"labels_url": u + "/labels{/name}", "comments_url": u + "/comments", "events_url": u + "/events",
		"html_url": fmt.Sprintf("%s/%s/issues/%d", s.URL(), rs.repo.FullName(), is.number),
		"number":   is.number, "state": is.state, "title": is.title, "body": is.body,
		"user": s.userJSON(is.user), "labels": []any{}, "assignee": nil, "assignees": []any{},
		"milestone": nil, "locked": false, "comments": comments, "closed_at": closedAt,
		"created_at": ts(is.createdAt), "updated_at": ts(is.updatedAt),
		"author_association": s.association(rs, is.user),
	}
	if is.isPR {
		pu := fmt.Sprintf("%s/pulls/%d", repoURL, is.number)
		ph := fmt.Sprintf("%s/%s/pull/%d", s.URL(), rs.repo.FullName(), is.number)
		m["pull_request"] = map[string]any{"url": pu, "html_url": ph, "diff_url": ph + ".diff", "patch_url": ph + ".patch", "merged_at": nil}
	}
	return m
}

// association is the author_association of login on rs.
func (s *Server) association(rs *repoState, login string) string {
	switch {
	case strings.EqualFold(login, rs.repo.Owner):
		return "OWNER"
	case strings.HasSuffix(login, "[bot]"):
		return "NONE"
	}
	switch rs.perms[strings.ToLower(login)] {
	case "admin", "maintain", "write", "triage":
		return "COLLABORATOR"
	}
	return "NONE"
}

// commentJSON renders an issue-comment.
func (s *Server) commentJSON(rs *repoState, c *Comment) map[string]any {
	repoURL := s.api() + "/repos/" + rs.repo.FullName()
	return map[string]any{
		"id": c.ID, "node_id": nodeID("IssueComment", c.ID),
		"url":                fmt.Sprintf("%s/issues/comments/%d", repoURL, c.ID),
		"html_url":           fmt.Sprintf("%s/%s/issues/%d#issuecomment-%d", s.URL(), rs.repo.FullName(), c.Issue, c.ID),
		"issue_url":          fmt.Sprintf("%s/issues/%d", repoURL, c.Issue),
		"body":               c.Body,
		"user":               s.userJSON(c.User),
		"created_at":         ts(c.CreatedAt),
		"updated_at":         ts(c.UpdatedAt),
		"author_association": s.association(rs, c.User),
	}
}

// reactionJSON renders a reaction.
func (s *Server) reactionJSON(r *Reaction, created time.Time) map[string]any {
	return map[string]any{
		"id": r.ID, "node_id": nodeID("Reaction", r.ID), "user": s.userJSON(r.User),
		"content": r.Content, "created_at": ts(created),
	}
}

// branchJSON renders a pull request's head or base.
func (s *Server) branchJSON(rs *repoState, ref, sha string) map[string]any {
	return map[string]any{
		"label": rs.repo.Owner + ":" + ref, "ref": ref, "sha": sha,
		"user": s.userJSON(rs.repo.Owner), "repo": s.repoJSON(rs, false),
	}
}

// pullJSON renders a pull-request.
func (s *Server) pullJSON(rs *repoState, p *PullRequest) map[string]any {
	repoURL := s.api() + "/repos/" + rs.repo.FullName()
	u := fmt.Sprintf("%s/pulls/%d", repoURL, p.Number)
	html := fmt.Sprintf("%s/%s/pull/%d", s.URL(), rs.repo.FullName(), p.Number)
	issueURL := fmt.Sprintf("%s/issues/%d", repoURL, p.Number)
	link := func(h string) map[string]any { return map[string]any{"href": h} }
	comments := 0
	for _, c := range rs.comments {
		if c.Issue == p.Number {
			comments++
		}
	}
	closedAt := any(nil)
	if p.State == "closed" {
		closedAt = ts(p.UpdatedAt)
	}
	mergedAt, mergeSHA, mergedBy := any(nil), any(nil), any(nil)
	if p.MergeCommitSHA != "" {
		mergedAt, mergeSHA, mergedBy = ts(p.UpdatedAt), p.MergeCommitSHA, s.userJSON(p.MergedBy)
	}
	headSHA, baseSHA := p.HeadSHA, p.BaseSHA
	if sha, ok := s.resolveBranch(rs, p.Head); ok {
		headSHA = sha
	}
	if sha, ok := s.resolveBranch(rs, p.Base); ok {
		baseSHA = sha
	}
	return map[string]any{
		"url": u, "id": p.ID, "node_id": nodeID("PullRequest", p.ID), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issueURL,
		"commits_url": u + "/commits", "review_comments_url": u + "/comments",
		"review_comment_url": repoURL + "/pulls/comments{/number}", "comments_url": issueURL + "/comments",
		"statuses_url": repoURL + "/statuses/" + headSHA,
		"number":       p.Number, "state": p.State, "locked": false, "title": p.Title, "body": p.Body,
		"user": s.userJSON(p.User), "labels": []any{}, "milestone": nil,
		"created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt), "closed_at": closedAt,
		"merged_at": mergedAt, "merge_commit_sha": mergeSHA, "assignee": nil, "assignees": []any{},
		"requested_reviewers": []any{}, "requested_teams": []any{},
		"head": s.branchJSON(rs, p.Head, headSHA), "base": s.branchJSON(rs, p.Base, baseSHA),
		"_links": map[string]any{
			"self": link(u), "html": link(html), "issue": link(issueURL), "comments": link(issueURL + "/comments"),
			"review_comments": link(u + "/comments"), "review_comment": link(repoURL + "/pulls/comments{/number}"),
			"commits": link(u + "/commits"), "statuses": link(repoURL + "/statuses/" + headSHA),
		},
		"author_association": s.association(rs, p.User), "auto_merge": nil, "draft": p.Draft,
		"merged": p.MergeCommitSHA != "", "mergeable": nil, "rebaseable": nil, "mergeable_state": "unknown", "merged_by": mergedBy,
		"comments": comments, "review_comments": 0, "maintainer_can_modify": p.MaintainerCanModify,
		"commits": 1, "additions": 0, "deletions": 0, "changed_files": 0,
	}
}

// appJSON renders the app (integration) that owns check runs.
func (s *Server) appJSON() map[string]any {
	now := ts(time.Unix(0, 0))
	return map[string]any{
		"id": s.opts.AppID, "slug": s.opts.AppSlug, "node_id": nodeID("Integration", s.opts.AppID),
		"owner": s.userJSON(s.opts.AppSlug), "name": s.opts.AppSlug, "description": nil,
		"external_url": s.URL(), "html_url": s.URL() + "/apps/" + s.opts.AppSlug,
		"created_at": now, "updated_at": now, "permissions": DefaultInstallationPermissions, "events": []string{},
	}
}

// checkRunJSON renders a check-run.
func (s *Server) checkRunJSON(rs *repoState, c *CheckRun) map[string]any {
	u := fmt.Sprintf("%s/repos/%s/check-runs/%d", s.api(), rs.repo.FullName(), c.ID)
	var prs []any
	for _, p := range rs.pulls {
		if p.State == "open" && (p.HeadSHA == c.HeadSHA || s.branchIs(rs, p.Head, c.HeadSHA)) {
			pu := fmt.Sprintf("%s/repos/%s/pulls/%d", s.api(), rs.repo.FullName(), p.Number)
			ref := func(name, sha string) map[string]any {
				return map[string]any{"ref": name, "sha": sha, "repo": map[string]any{"id": rs.repo.ID, "url": s.api() + "/repos/" + rs.repo.FullName(), "name": rs.repo.Name}}
			}
			prs = append(prs, map[string]any{"id": p.ID, "number": p.Number, "url": pu, "head": ref(p.Head, c.HeadSHA), "base": ref(p.Base, p.BaseSHA)})
		}
	}
	if prs == nil {
		prs = []any{}
	}
	return map[string]any{
		"id": c.ID, "node_id": nodeID("CheckRun", c.ID), "head_sha": c.HeadSHA, "name": c.Name,
		"external_id": c.ExternalID, "url": u,
		"html_url":    fmt.Sprintf("%s/%s/runs/%d", s.URL(), rs.repo.FullName(), c.ID),
		"details_url": strOrNil(c.DetailsURL), "status": c.Status, "conclusion": strOrNil(c.Conclusion),
		"started_at": tsOrNil(c.StartedAt), "completed_at": tsOrNil(c.CompletedAt),
		"output": map[string]any{
			"title": strOrNil(c.Title), "summary": strOrNil(c.Summary), "text": strOrNil(c.Text),
			"annotations_count": 0, "annotations_url": u + "/annotations",
		},
		"check_suite": map[string]any{"id": c.ID + 1},
		"app":         s.appJSON(), "pull_requests": prs,
	}
}

func (s *Server) branchIs(rs *repoState, branch, sha string) bool {
	got, ok := s.resolveBranch(rs, branch)
	return ok && got == sha
}

// contentJSON renders a content-file, base64 in 60-character lines as GitHub sends it.
func (s *Server) contentJSON(rs *repoState, p string, data []byte, sha string) map[string]any {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	b.WriteString(enc + "\n")
	u := fmt.Sprintf("%s/repos/%s/contents/%s?ref=%s", s.api(), rs.repo.FullName(), p, rs.repo.DefaultBranch)
	git := fmt.Sprintf("%s/repos/%s/git/blobs/%s", s.api(), rs.repo.FullName(), sha)
	html := fmt.Sprintf("%s/%s/blob/%s/%s", s.URL(), rs.repo.FullName(), rs.repo.DefaultBranch, p)
	name := p[strings.LastIndex(p, "/")+1:]
	return map[string]any{
		"type": "file", "encoding": "base64", "size": len(data), "name": name, "path": p,
		"content": b.String(), "sha": sha, "url": u, "git_url": git, "html_url": html,
		"download_url": fmt.Sprintf("%s/raw/%s/%s/%s", s.URL(), rs.repo.FullName(), rs.repo.DefaultBranch, p),
		"_links":       map[string]any{"self": u, "git": git, "html": html},
	}
}
