package harness

import "time"

// IssueOpenedPayload is GitHub's issues.opened example for the example
// issue, opened by login with body.
func (e *Env) IssueOpenedPayload(body, login string) ([]byte, error) {
	return e.IssuePayload("opened", login, func(m map[string]any) {
		is := m["issue"].(map[string]any)
		is["body"] = body
		u := is["user"].(map[string]any)
		u["login"], u["id"] = login, UserID(login)
	})
}

// IssuePayload is issues.<action> ("closed", "deleted", "transferred" …)
// on the example issue by login, from GitHub's issues.opened example.
func (e *Env) IssuePayload(action, login string, patch func(m map[string]any)) ([]byte, error) {
	return e.eventPayload("issues.opened.json", login, func(m map[string]any) {
		m["action"] = action
		is := m["issue"].(map[string]any)
		is["number"] = IssueNumber
		is["updated_at"] = time.Now().UTC().Format(time.RFC3339Nano)
		if patch != nil {
			patch(m)
		}
	})
}

// CommentEditedPayload edits comment id (in the stand-in) to body and
// returns issue_comment.edited for it: from is the body before, created
// and edited the comment's times.
func (e *Env) CommentEditedPayload(id int64, body, from, login string, created, edited time.Time) ([]byte, error) {
	e.GH.EditComment(Owner, Repo, id, body)
	return e.payload("issue_comment.created.json", func(m map[string]any) {
		m["action"] = "edited"
		m["changes"] = map[string]any{"body": map[string]any{"from": from}}
		c := m["comment"].(map[string]any)
		c["id"], c["body"] = id, body
		c["created_at"], c["updated_at"] = created.UTC().Format(time.RFC3339), edited.UTC().Format(time.RFC3339)
		u := c["user"].(map[string]any)
		u["login"], u["id"] = login, UserID(login)
		s := m["sender"].(map[string]any)
		s["login"], s["id"] = login, UserID(login)
	})
}

// CommentDeletedPayload is issue_comment.deleted for comment id on the
// example issue, deleted by login.
func (e *Env) CommentDeletedPayload(id int64, login string) ([]byte, error) {
	return e.payload("issue_comment.created.json", func(m map[string]any) {
		m["action"] = "deleted"
		m["comment"].(map[string]any)["id"] = id
		s := m["sender"].(map[string]any)
		s["login"], s["id"] = login, UserID(login)
	})
}

// SuiteRerunPayload is check_suite.rerequested ("Re-run all checks") on
// the suite of head at sha, of the app appID, by login.
func (e *Env) SuiteRerunPayload(head, sha string, appID int64, login string) ([]byte, error) {
	return e.eventPayload("check_suite.requested.json", login, func(m map[string]any) {
		m["action"] = "rerequested"
		cs := m["check_suite"].(map[string]any)
		cs["id"], cs["head_branch"], cs["head_sha"] = nextPayloadID.Add(1), head, sha
		cs["updated_at"] = time.Now().UTC().Format(time.RFC3339Nano)
		cs["app"].(map[string]any)["id"] = appID
	})
}
