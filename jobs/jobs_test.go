package jobs

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/riverqueue/river"
)

// TestJobsCarryVersion: every family's arguments are written with "v":
// Version, under their own kind, on QueueEvents.
func TestJobsCarryVersion(t *testing.T) {
	kinds := map[string]bool{}
	for _, j := range []Job{Command{}, Rerun{}, SuiteRerun{}, Feedback{}, FeedbackChange{}, FollowUp{}, PRClosed{},
		IssueEnded{}, CommentDeleted{}, Installation{}, CheckAction{}} {
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"v":1`) {
			t.Errorf("%T: %s lacks the version", j, b)
		}
		if kinds[j.Kind()] || !strings.HasPrefix(j.Kind(), "agentgate.") || j.Kind() == (Legacy{}).Kind() {
			t.Errorf("%T: kind %q repeated or not agentgate's own", j, j.Kind())
		}
		kinds[j.Kind()] = true
		if q, ok := j.(interface{ InsertOpts() river.InsertOpts }); !ok || q.InsertOpts().Queue != QueueEvents {
			t.Errorf("%T: not on the events queue", j)
		}
	}
	if !Newer(Version+1) || Newer(Version) || Newer(0) {
		t.Error("Newer is wrong about the current, the next or an unversioned job")
	}
}

// TestLegacyRows: rows of the single "agentgate.event" kind, as earlier
// versions wrote them, become their family's job with every field the
// family reads.
func TestLegacyRows(t *testing.T) {
	base := `"delivery_id":"d-1","installation_id":7,"repo_id":9,"owner":"o","repo":"r","number":3,"actor_login":"alice","actor_id":5,"actor_type":"User","v":1`
	ev := func(event, action string, comment int64, pr bool) Event {
		return Event{DeliveryID: "d-1", GitHubEvent: event, Action: action, InstallationID: 7, RepoID: 9, Owner: "o", Repo: "r",
			Number: 3, IsPullRequest: pr, CommentID: comment, ActorLogin: "alice", ActorID: 5, ActorType: "User", Version: 1}
	}
	tests := []struct {
		row  string
		want Job
	}{
		{`{"event":"issue_comment","action":"created","command":"approve","run_id":"run-1","comment_id":11,` + base + `}`,
			Command{Event: ev("issue_comment", "created", 11, false), Name: "approve", RunID: "run-1"}},
		{`{"event":"issue_comment","action":"created","command":"feedback","text":"use a map","is_pull_request":true,"comment_id":11,"title":"t",` + base + `}`,
			Feedback{Event: ev("issue_comment", "created", 11, true), AsksFollowUp: true, Text: "use a map"}},
		{`{"event":"pull_request_review_comment","action":"created","command":"review_comment","text":"x","path":"a.go","line":4,"review_id":2,"head_ref":"agentgate/3-x","head_sha":"abc","is_pull_request":true,` + base + `}`,
			Feedback{Event: ev("pull_request_review_comment", "created", 0, true), Text: "x", Path: "a.go", Line: 4, ReviewID: 2, HeadRef: "agentgate/3-x", HeadSHA: "abc"}},
		{`{"event":"issue_comment","action":"deleted","command":"feedback_deleted","is_pull_request":true,"comment_id":11,` + base + `}`,
			FeedbackChange{Event: ev("issue_comment", "deleted", 11, true), Dropped: true}},
		{`{"event":"issue_comment","action":"edited","command":"feedback_edited","text":"y","is_pull_request":true,"comment_id":11,` + base + `}`,
			FeedbackChange{Event: ev("issue_comment", "edited", 11, true), Text: "y"}},
		{`{"event":"pull_request_review","action":"submitted","command":"followup","head_ref":"agentgate/3-x","head_sha":"abc","is_pull_request":true,` + base + `}`,
			FollowUp{Event: ev("pull_request_review", "submitted", 0, true), HeadRef: "agentgate/3-x", HeadSHA: "abc"}},
		{`{"event":"check_run","action":"rerequested","command":"rerun","run_id":"run-1","head_sha":"abc",` + base + `}`,
			Rerun{Event: ev("check_run", "rerequested", 0, false), RunID: "run-1", HeadSHA: "abc"}},
		{`{"event":"check_suite","action":"rerequested","command":"suite_rerun","head_ref":"agentgate/3-x","head_sha":"abc","app_id":42,` + base + `}`,
			SuiteRerun{Event: ev("check_suite", "rerequested", 0, false), HeadRef: "agentgate/3-x", HeadSHA: "abc", AppID: 42}},
		{`{"event":"pull_request","action":"closed","command":"pr_closed","merged":true,"merged_by":"bob","head_ref":"agentgate/3-x","head_sha":"abc","is_pull_request":true,` + base + `}`,
			PRClosed{Event: ev("pull_request", "closed", 0, true), Merged: true, MergedBy: "bob", HeadRef: "agentgate/3-x", HeadSHA: "abc"}},
		{`{"event":"issues","action":"closed","command":"issue_ended",` + base + `}`, IssueEnded{Event: ev("issues", "closed", 0, false)}},
		{`{"event":"issue_comment","action":"deleted","command":"comment_deleted","comment_id":11,` + base + `}`,
			CommentDeleted{Event: ev("issue_comment", "deleted", 11, false)}},
		{`{"event":"installation_repositories","action":"added","command":"installation","installation_account":"o","repos_added":[{"id":9,"full_name":"o/r"}],` + base + `}`,
			Installation{Event: ev("installation_repositories", "added", 0, false), Account: "o", ReposAdded: []RepoRef{{ID: 9, FullName: "o/r"}}}},
	}
	for _, tt := range tests {
		var l Legacy
		if err := json.Unmarshal([]byte(tt.row), &l); err != nil {
			t.Fatal(err)
		}
		got, err := l.Job([]string{"approve", "cancel", "help", "retry", "revert", "status"})
		if err != nil {
			t.Fatalf("%s: %v", tt.row, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tt.row, got, tt.want)
		}
	}
	var l Legacy
	if err := json.Unmarshal([]byte(`{"command":"dance",`+base+`}`), &l); err != nil {
		t.Fatal(err)
	}
	if j, err := l.Job([]string{"help"}); err == nil {
		t.Errorf("unknown command became %#v", j)
	}
}

// TestCheckActionRowsKeepTheirShape: the check button's kind and JSON are
// those earlier versions wrote, so their queued rows decode as they are.
func TestCheckActionRowsKeepTheirShape(t *testing.T) {
	row := `{"delivery_id":"d-2","installation_id":7,"repo_id":9,"owner":"o","repo":"r","default_branch":"main",` +
		`"check_run_id":55,"check_name":"agentgate","head_sha":"abc","head_branch":"agentgate/3-x","run_id":"run-1",` +
		`"app_id":42,"identifier":"approve","sender_login":"bob","sender_id":6,"sender_type":"User","v":1}`
	var a CheckAction
	if err := json.Unmarshal([]byte(row), &a); err != nil {
		t.Fatal(err)
	}
	want := CheckAction{DeliveryID: "d-2", InstallationID: 7, RepoID: 9, Owner: "o", Repo: "r", DefaultBranch: "main",
		CheckRunID: 55, CheckName: "agentgate", HeadSHA: "abc", HeadBranch: "agentgate/3-x", RunID: "run-1",
		AppID: 42, Identifier: ActionApprove, SenderLogin: "bob", SenderID: 6, SenderType: "User", Version: 1}
	if a != want || a.Kind() != "agentgate.check_action" {
		t.Errorf("decoded %+v (kind %s), want %+v", a, a.Kind(), want)
	}
	back, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m1, m2 map[string]any
	if err := json.Unmarshal(back, &m1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(row), &m2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m1, m2) {
		t.Errorf("written again as %s, want %s", back, row)
	}
}
