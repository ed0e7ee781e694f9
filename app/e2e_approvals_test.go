package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/telemetry"
)

// approveAs delivers `@agentgate approve` by login with the given
// author_association and user id.
func approveAs(t *testing.T, env *harness.Env, login, association string, id int64) {
	t.Helper()
	b, _, err := env.CommentPayloadWith("@agentgate approve", login, "User", func(m map[string]any) {
		c := m["comment"].(map[string]any)
		c["author_association"] = association
		c["user"].(map[string]any)["id"] = id
		m["sender"].(map[string]any)["id"] = id
	})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, env, "issue_comment", "approve-"+login, b)
}

// An approval is given only by someone the policy would let start the run
// themselves, who is not the requester: a maintainer missing from
// allowed_users, an outside collaborator (under
// outside-collaborators-pending) and the requester under a new login are
// each refused with a reply and the run stays pending; a listed
// maintainer's approval starts it (the positive control).
func TestEndToEndApproverStandsAsRequester(t *testing.T) {
	env := startEnv(t, func(c *app.Config) { c.Controls.OutsideCollaboratorsPending = true })
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("allowed_users: [maint, contractor, reader-renamed]\n"))
	for login, perm := range map[string]string{"reader": "read", "unlisted": "maintain", "contractor": "write", "reader-renamed": "maintain", "maint": "maintain"} {
		env.GH.SetPermission(harness.Owner, harness.Repo, login, perm)
	}
	d := comment(t, env, "@agentgate agentgate-test: write APPROVED.md approved", "reader")
	if s := wait(t, env, d.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}

	for _, tt := range []struct {
		login, association string
		id                 int64
		reply              []string
	}{
		{"unlisted", "MEMBER", harness.UserID("unlisted"), []string{"@unlisted", "allowed_users"}},
		{"contractor", "OUTSIDE_COLLABORATOR", harness.UserID("contractor"), []string{"@contractor", "outside collaborator"}},
		// The requester's account, renamed: the same user id.
		{"reader-renamed", "MEMBER", harness.UserID("reader"), []string{"@reader-renamed", "cannot be approved by the person who asked for it"}},
	} {
		approveAs(t, env, tt.login, tt.association, tt.id)
		botSaid(t, env, "the refusal of "+tt.login, tt.reply...)
		settled(t, env)
		if s := doneState(env, d.RunID); s != "pending" {
			t.Fatalf("after %s's approval: state = %q, want pending", tt.login, s)
		}
		if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunApproved); ok {
			t.Fatalf("after %s's approval: approval recorded %+v", tt.login, ev)
		}
	}

	approveAs(t, env, "maint", "MEMBER", harness.UserID("maint"))
	eventually(t, 3*time.Minute, "the approved run to finish", func() bool {
		s := doneState(env, d.RunID)
		return s != "" && s != "pending"
	})
	if s := doneState(env, d.RunID); s != "finished" {
		t.Fatalf("approved run state = %q; comments %q", s, botComments(env))
	}
	if ap, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunApproved); !ok || ap.Actor != "maint" {
		t.Errorf("approval event = %+v, %v; want one by maint", ap, ok)
	}
}

// changed turns a comment payload into its edited (with body) or deleted
// delivery: the same comment, another action.
func changed(t *testing.T, created []byte, action, body string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(created, &m); err != nil {
		t.Fatal(err)
	}
	m["action"] = action
	c := m["comment"].(map[string]any)
	if action == "edited" {
		m["changes"] = map[string]any{"body": map[string]any{"from": c["body"]}}
		c["body"] = body
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Feedback comes only from people who may start a run, and follows its
// comment: a reader's inline comment is not kept, an edited one is kept as
// edited, a deleted one is dropped. The follow-up's change shows what its
// task held: the requester's edited and asked-for files (the positive
// control), none of the others.
func TestEndToEndFeedbackFollowsItsComment(t *testing.T) {
	env := startEnv(t, func(c *app.Config) { c.Controls.FollowUpDelay = time.Second })
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr := prs[0]
	inline := func(body, login string) []byte {
		t.Helper()
		b, err := env.ReviewCommentPayload(pr.Number, pr.Head, pr.HeadSHA, body, "FIX.md", 1, login)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	deliverEvent(t, env, "pull_request_review_comment", inline("agentgate-test: write EVIL.md evil", "reader"))
	edited := inline("agentgate-test: write OLD.md old", harness.Requester)
	deliverEvent(t, env, "pull_request_review_comment", edited)
	deleted := inline("agentgate-test: write GONE.md gone", harness.Requester)
	deliverEvent(t, env, "pull_request_review_comment", deleted)
	settled(t, env)
	deliverEvent(t, env, "pull_request_review_comment", changed(t, edited, "edited", "agentgate-test: write EDITED.md edited"))
	deliverEvent(t, env, "pull_request_review_comment", changed(t, deleted, "deleted", ""))
	settled(t, env)

	b, _, err := env.PRCommentPayload(pr.Number, "@agentgate agentgate-test: write ASKED.md asked", harness.Requester, "OWNER")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", b)
	var follow string
	eventually(t, time.Minute, "a follow-up run", func() bool {
		for _, r := range runsOn(t, env, pr.Number) {
			follow = r.ID
		}
		return follow != ""
	})
	if s := wait(t, env, follow); s != "finished" {
		t.Fatalf("follow-up = %q", s)
	}
	ctx := context.Background()
	head, err := env.Git.Ref(ctx, repoName, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{"ASKED.md": true, "EDITED.md": true, "EVIL.md": false, "OLD.md": false, "GONE.md": false} {
		_, err := env.Git.ReadFile(ctx, repoName, head, f)
		if got := err == nil; got != want {
			t.Errorf("%s on the branch after the follow-up: %v, want %v", f, got, want)
		}
	}
}
