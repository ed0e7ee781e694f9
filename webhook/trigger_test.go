package webhook

import (
	"reflect"
	"testing"
)

func TestParseMention(t *testing.T) {
	tests := []struct {
		body, mention string
		want          string
		ok            bool
	}{
		{"@agentgate fix the flaky test", "@agentgate", "fix the flaky test", true},
		{"@agentgate", "@agentgate", "", true},
		{"  \n  @agentgate  do it  \n", "@agentgate", "do it", true},
		{"  \n\t@agentgate  a tab indents a code block  \n", "@agentgate", "", false},
		{"@AgentGate please", "@agentgate", "please", true},
		{"@agentgate\nline one\nline two", "@agentgate", "line one\nline two", true},
		{"@agentgate\u00a0nbsp", "@agentgate", "nbsp", true},
		{"@agentgatex do it", "@agentgate", "", false},
		{"@agentgate-bot do it", "@agentgate", "", false},
		{"@agentgate, do it", "@agentgate", "do it", true},
		{"@agentgate: do it", "@agentgate", "do it", true},
		{"@agentgate;do it", "@agentgate", "", false},
		{"please @agentgate do it", "@agentgate", "", false},
		{"Thanks!\n@agentgate please fix this", "@agentgate", "please fix this", true},
		{"Thanks!\r\n\r\n  @agentgate: please fix this\r\n", "@agentgate", "please fix this", true},
		{"- @agentgate in a list item", "@agentgate", "", false},
		{"first\n- item\n  @agentgate continues the item", "@agentgate", "continues the item", true},
		{"> @agentgate quoted", "@agentgate", "", false},
		{"> quoted\n@agentgate lazy continuation of the quote", "@agentgate", "", false},
		{"> quoted\n\n@agentgate after the quote", "@agentgate", "after the quote", true},
		{"`@agentgate` code", "@agentgate", "", false},
		{"see `x\n@agentgate y` code span over two lines", "@agentgate", "", false},
		{"```\n@agentgate fenced\n```", "@agentgate", "", false},
		{"~~~sh\n@agentgate fenced\n~~~\n", "@agentgate", "", false},
		{"```\n@agentgate unclosed fence", "@agentgate", "", false},
		{"text\n\n    @agentgate indented code", "@agentgate", "", false},
		{"    @agentgate indented code", "@agentgate", "", false},
		{"<!--\n@agentgate in an HTML comment\n-->", "@agentgate", "", false},
		{"```\n@agentgate fenced\n```\n@agentgate real one", "@agentgate", "real one", true},
		{"> @agentgate quoted\n\n@agentgate: the real one", "@agentgate", "the real one", true},
		{"# @agentgate heading", "@agentgate", "", false},
		{"@agentgat", "@agentgate", "", false},
		{"", "@agentgate", "", false},
		{"@agentgate do", "", "", false},
		{"@a\u212Agentgate Kelvin sign", "@akgentgate", "", false},
		{"@mybot go", "@MyBot", "go", true},
	}
	for _, tt := range tests {
		got, ok := ParseMention(tt.body, tt.mention)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMention(%q, %q) = %q, %v; want %q, %v", tt.body, tt.mention, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseTrigger(t *testing.T) {
	commentJob := &RunJobArgs{
		Event: "issue_comment", Trigger: TriggerMention, InstallationID: 1,
		RepoID: 186853002, Owner: "Codertocat", Repo: "Hello-World",
		CloneURL: "https://github.com/Codertocat/Hello-World.git", DefaultBranch: "master",
		IssueNumber: 1, IssueTitle: "Spelling error in the README file",
		IssueBody: "It looks like you accidently spelled 'commit' with two 't's.",
		CommentID: 492700400, Instructions: "fix the flaky test",
		RequesterLogin: "Codertocat", RequesterID: 21031067, RequesterType: "User",
		Source: &Source{
			IssueURL: "https://github.com/Codertocat/Hello-World/issues/1", IssueAuthor: "Codertocat", IssueUpdatedAt: "2019-05-15T15:20:21Z",
			CommentURL: "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400", CommentAuthor: "Codertocat", CommentAt: "2019-05-15T15:20:21Z",
		},
	}
	labelJob := *commentJob
	labelJob.Event, labelJob.Trigger, labelJob.CommentID, labelJob.Instructions, labelJob.InstallationID = "issues", TriggerLabel, 0, "", 42
	labelJob.Source = &Source{IssueURL: "https://github.com/Codertocat/Hello-World/issues/1", IssueAuthor: "Codertocat", IssueUpdatedAt: "2019-05-15T15:20:18Z"}
	openedJob := labelJob
	openedJob.Trigger, openedJob.Instructions = TriggerMention, "fix the spelling"
	openedJob.IssueBody = "The README misspells commit.\r\n\r\n@agentgate: fix the spelling"
	prJob := &RunJobArgs{
		Event: "issue_comment", Trigger: TriggerMention, InstallationID: 7,
		RepoID: 199540710, Owner: "chhsia0", Repo: "knative-route-demo",
		CloneURL: "https://github.com/chhsia0/knative-route-demo.git", DefaultBranch: "master",
		IssueNumber: 3, IssueTitle: "Updated to v2.", IsPullRequest: true,
		CommentID: 546616131, Instructions: "address the review",
		RequesterLogin: "chhsia0", RequesterID: 4643017, RequesterType: "User",
		Source: &Source{
			IssueURL: "https://github.com/chhsia0/knative-route-demo/pull/3", IssueAuthor: "chhsia0", IssueUpdatedAt: "2019-10-26T16:09:23Z",
			CommentURL: "https://github.com/chhsia0/knative-route-demo/pull/3#issuecomment-546616131", CommentAuthor: "chhsia0", CommentAt: "2019-10-26T16:09:23Z",
		},
	}
	const mention = "@agentgate fix the flaky test"
	tests := []struct {
		name       string
		event      string
		payload    []byte
		cfg        Config
		want       *RunJobArgs
		wantReason string
		wantErr    bool
	}{
		{name: "mention on issue", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention), want: commentJob},
		{name: "mention on pull request", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "comment.body", "@agentgate address the review", "installation.id", 7), want: prJob},
		{name: "custom mention", event: "issue_comment", cfg: Config{Mention: "@helper"},
			payload: payload(t, "issue_comment.created.json", "comment.body", "@HELPER fix the flaky test"), want: commentJob},
		{name: "default mention not used with custom", event: "issue_comment", cfg: Config{Mention: "@helper"},
			payload: payload(t, "issue_comment.created.json", "comment.body", mention), wantReason: ReasonNoMention},
		{name: "comment without mention", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json"), wantReason: ReasonNoMention},
		{name: "longer name is not a mention", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", "@agentgatex fix"), wantReason: ReasonNoMention},
		{name: "edited comment", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "action", "edited", "comment.body", mention), wantReason: ReasonAction},
		{name: "deleted comment", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "action", "deleted", "comment.body", mention), wantReason: ReasonAction},
		{name: "bot sender", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention, "sender.type", "Bot"), wantReason: ReasonBot},
		{name: "bot comment user", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention, "comment.user.type", "Bot"), wantReason: ReasonBot},
		{name: "bot login suffix", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention, "comment.user.login", "agentgate[bot]"), wantReason: ReasonBot},
		{name: "sender login suffix", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention, "sender.login", "Renovate[BOT]"), wantReason: ReasonBot},
		{name: "no installation", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention, "installation", nil), wantReason: ReasonInstallation},
		{name: "comment lacks issue", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", mention, "issue", nil), wantErr: true},
		{name: "comment wrong type", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.id", "not a number"), wantErr: true},
		{name: "comment truncated", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json")[:500], wantErr: true},
		{name: "trigger label", event: "issues",
			payload: payload(t, "issues.labeled.json", "label.name", "agentgate", "installation.id", 42), want: &labelJob},
		{name: "trigger label other case", event: "issues",
			payload: payload(t, "issues.labeled.json", "label.name", "AgentGate", "installation.id", 42), want: &labelJob},
		{name: "custom label", event: "issues", cfg: Config{Label: "ai: fix"},
			payload: payload(t, "issues.labeled.json", "label.name", "ai: fix", "installation.id", 42), want: &labelJob},
		{name: "other label", event: "issues",
			payload: payload(t, "issues.labeled.json", "installation.id", 42), wantReason: ReasonOtherLabel},
		{name: "label prefix is not the label", event: "issues",
			payload: payload(t, "issues.labeled.json", "label.name", "agentgate-later", "installation.id", 42), wantReason: ReasonOtherLabel},
		{name: "label by bot", event: "issues",
			payload: payload(t, "issues.labeled.json", "label.name", "agentgate", "installation.id", 42, "sender.type", "Bot"), wantReason: ReasonBot},
		{name: "label without installation", event: "issues",
			payload: payload(t, "issues.labeled.json", "label.name", "agentgate"), wantReason: ReasonInstallation},
		{name: "unlabeled", event: "issues",
			payload: payload(t, "issues.labeled.json", "action", "unlabeled", "label.name", "agentgate", "installation.id", 42), wantReason: ReasonAction},
		{name: "issue opened without the mention", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 42), wantReason: ReasonNoMention},
		{name: "issue opened addressing agentgate", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 42, "issue.body", "The README misspells commit.\r\n\r\n@agentgate: fix the spelling"), want: &openedJob},
		{name: "issue opened quoting the mention", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 42, "issue.body", "> @agentgate fix the spelling\n\nsomeone said"), wantReason: ReasonNoMention},
		{name: "issue opened by a bot", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 42, "issue.body", "@agentgate fix", "sender.type", "Bot"), wantReason: ReasonBot},
		{name: "issue closed is no trigger", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 42, "action", "closed", "issue.body", "@agentgate fix"), wantReason: ReasonAction},
		{name: "issues malformed", event: "issues", payload: []byte(`{"action":"labeled","issue":[]}`), wantErr: true},
		{name: "ping", event: "ping", payload: payload(t, "ping.json"), wantReason: ReasonEvent},
		{name: "pull request", event: "pull_request", payload: payload(t, "pull_request.opened.json"), wantReason: ReasonEvent},
		{name: "unknown event with garbage", event: "whatever", payload: []byte("{"), wantReason: ReasonEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := ParseTrigger(tt.event, tt.payload, tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("job:\n got %+v\nwant %+v", got, tt.want)
			}
			if got != nil && (got.RunID != "" || got.DeliveryID != "") {
				t.Errorf("ParseTrigger filled RunID/DeliveryID: %+v", got)
			}
		})
	}
}

func FuzzParseTrigger(f *testing.F) {
	seeds := []struct{ event, file string }{
		{"issue_comment", "issue_comment.created.json"},
		{"issue_comment", "issue_comment.created.pull_request.json"},
		{"issues", "issues.labeled.json"},
		{"issues", "issues.opened.json"},
		{"ping", "ping.json"},
	}
	for _, s := range seeds {
		f.Add(s.event, payload(f, s.file))
	}
	f.Add("issue_comment", payload(f, "issue_comment.created.json", "comment.body", "@agentgate go"))
	f.Add("issues", payload(f, "issues.labeled.json", "label.name", "agentgate", "installation.id", 1))
	f.Add("issue_comment", []byte(`{"action":"created","comment":null}`))
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		job, reason, err := ParseTrigger(event, body, Config{})
		switch {
		case err != nil && (job != nil || reason != ""):
			t.Fatalf("error %v with job %v / reason %q", err, job, reason)
		case err == nil && (job == nil) == (reason == ""):
			t.Fatalf("job %v and reason %q: exactly one must be set", job, reason)
		case job != nil && (job.InstallationID == 0 || job.RequesterType == "Bot"):
			t.Fatalf("job without installation or from a bot: %+v", job)
		}
	})
}
