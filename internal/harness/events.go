package harness

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
)

// nextPayloadID numbers the comments, reviews and check runs of payloads
// built here, so each delivery is a distinct event.
var nextPayloadID atomic.Int64

func init() { nextPayloadID.Store(900000) }

// repository is the example repository object, pointed at this environment.
func (e *Env) repository() (map[string]any, error) {
	b, err := payloads.ReadFile("payloads/issue_comment.created.json")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	repo := m["repository"].(map[string]any)
	repo["clone_url"] = e.CloneURL
	repo["default_branch"] = "main"
	return repo, nil
}

// eventPayload loads an example payload, points its repository, pull
// request head repository and installation at this environment, sets the
// sender, then applies patch.
func (e *Env) eventPayload(name, login string, patch func(m map[string]any)) ([]byte, error) {
	b, err := payloads.ReadFile("payloads/" + name)
	if err != nil {
		return nil, fmt.Errorf("payload %s: %w", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("payload %s: %w", name, err)
	}
	repo, err := e.repository()
	if err != nil {
		return nil, err
	}
	m["repository"] = repo
	m["installation"] = map[string]any{"id": InstallationID, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
	delete(m, "organization")
	if s, ok := m["sender"].(map[string]any); ok {
		s["login"], s["type"], s["id"] = login, "User", UserID(login)
	}
	if pr, ok := m["pull_request"].(map[string]any); ok {
		pr["head"].(map[string]any)["repo"] = repo
		pr["base"].(map[string]any)["repo"] = repo
	}
	if patch != nil {
		patch(m)
	}
	return json.Marshal(m)
}

// PRCommentPayload posts a comment on pull request number (in the
// stand-in) and returns the issue_comment.created payload for it.
// association is the comment's author_association ("" = the example's).
func (e *Env) PRCommentPayload(number int, body, login, association string) ([]byte, int64, error) {
	id := e.GH.AddComment(Owner, Repo, number, body, login)
	b, err := e.payload("issue_comment.created.json", func(m map[string]any) {
		is := m["issue"].(map[string]any)
		is["number"] = number
		is["pull_request"] = map[string]any{"url": fmt.Sprintf("https://api.github.com/repos/%s/%s/pulls/%d", Owner, Repo, number)}
		c := m["comment"].(map[string]any)
		c["body"], c["id"] = body, id
		if association != "" {
			c["author_association"] = association
		}
		c["user"].(map[string]any)["login"] = login
		c["user"].(map[string]any)["id"] = UserID(login)
		m["sender"].(map[string]any)["login"] = login
		m["sender"].(map[string]any)["id"] = UserID(login)
	})
	return b, id, err
}

// ReviewPayload is pull_request_review.submitted on pull request number
// (head branch head at sha) with the review's state and body.
func (e *Env) ReviewPayload(number int, head, sha, state, body, login string) ([]byte, error) {
	return e.eventPayload("pull_request_review.submitted.json", login, func(m map[string]any) {
		pr := m["pull_request"].(map[string]any)
		pr["number"] = number
		h := pr["head"].(map[string]any)
		h["ref"], h["sha"] = head, sha
		rv := m["review"].(map[string]any)
		rv["id"], rv["state"], rv["body"] = nextPayloadID.Add(1), state, body
		rv["user"].(map[string]any)["login"] = login
		rv["user"].(map[string]any)["id"] = UserID(login)
	})
}

// ReviewCommentPayload is pull_request_review_comment.created: an inline
// comment on path, line.
func (e *Env) ReviewCommentPayload(number int, head, sha, body, path string, line int, login string) ([]byte, error) {
	return e.eventPayload("pull_request_review_comment.created.json", login, func(m map[string]any) {
		pr := m["pull_request"].(map[string]any)
		pr["number"] = number
		h := pr["head"].(map[string]any)
		h["ref"], h["sha"] = head, sha
		c := m["comment"].(map[string]any)
		c["id"], c["body"], c["path"], c["line"] = nextPayloadID.Add(1), body, path, line
		c["user"].(map[string]any)["login"] = login
		c["user"].(map[string]any)["id"] = UserID(login)
	})
}

// PRClosedPayload is pull_request.closed for pull request number on head,
// merged by login or closed by login unmerged.
func (e *Env) PRClosedPayload(number int, head string, merged bool, login string) ([]byte, error) {
	return e.eventPayload("pull_request.closed.merged.json", login, func(m map[string]any) {
		pr := m["pull_request"].(map[string]any)
		pr["number"], pr["merged"] = number, merged
		pr["head"].(map[string]any)["ref"] = head
		if merged {
			pr["merged_by"].(map[string]any)["login"] = login
		} else {
			pr["merged_by"] = nil
		}
	})
}

// RerunPayload is check_run.rerequested on agentgate's check of runID.
func (e *Env) RerunPayload(runID, login string) ([]byte, error) {
	return e.eventPayload("check_run.rerequested.json", login, func(m map[string]any) {
		cr := m["check_run"].(map[string]any)
		cr["name"], cr["external_id"], cr["id"] = "agentgate", runID, nextPayloadID.Add(1)
		// GitHub sends ISO 8601; the example's older format is not.
		cr["started_at"], cr["completed_at"] = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"
		for _, app := range []any{cr["app"], cr["check_suite"].(map[string]any)["app"]} {
			if a, ok := app.(map[string]any); ok {
				a["created_at"], a["updated_at"] = "2018-04-25T20:42:10Z", "2018-04-25T20:42:10Z"
			}
		}
	})
}

// InstallationReposPayload is installation_repositories.<action>
// ("added" or "removed") for the example repository.
func (e *Env) InstallationReposPayload(action, login string) ([]byte, error) {
	return e.eventPayload("installation_repositories.added.json", login, func(m map[string]any) {
		delete(m, "repository")
		ref := []any{map[string]any{"id": RepoID, "name": Repo, "full_name": Owner + "/" + Repo, "private": false}}
		m["action"] = action
		m["repositories_added"], m["repositories_removed"] = []any{}, []any{}
		m["repositories_"+action] = ref
	})
}
