package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestRepoAccess(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	check := func(inst, repo int64, want string) {
		t.Helper()
		got, err := db.RepoAccess(ctx, inst, repo)
		if err != nil || got != want {
			t.Fatalf("RepoAccess(%d, %d) = %q, %v; want %q", inst, repo, got, err, want)
		}
	}
	check(1, 10, "") // never heard of: allowed
	if err := db.SetInstallation(ctx, 1, "acme", StateActive); err != nil {
		t.Fatal(err)
	}
	if err := db.SetInstallationRepo(ctx, 1, 10, "acme/a", StateActive); err != nil {
		t.Fatal(err)
	}
	check(1, 10, "")
	if err := db.SetInstallationRepo(ctx, 1, 10, "acme/a", StateRemoved); err != nil {
		t.Fatal(err)
	}
	check(1, 10, StateRemoved)
	check(1, 11, "")
	if err := db.SetInstallation(ctx, 1, "acme", StateSuspended); err != nil {
		t.Fatal(err)
	}
	check(1, 11, StateSuspended)
	if err := db.SetInstallation(ctx, 1, "acme", StateActive); err != nil {
		t.Fatal(err)
	}
	if err := db.SetInstallationRepo(ctx, 1, 11, "acme/b", StateActive); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveInstallationRepos(ctx, 1); err != nil {
		t.Fatal(err)
	}
	check(1, 11, StateRemoved)
}

func TestClaimReplyOnce(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	for i, want := range []bool{true, false, false} {
		got, err := db.ClaimReply(ctx, "denied:acme/a#1:mallory")
		if err != nil || got != want {
			t.Fatalf("claim %d = %v, %v; want %v", i, got, err, want)
		}
	}
	if got, _ := db.ClaimReply(ctx, "denied:acme/a#1:eve"); !got {
		t.Fatal("another person's first claim was refused")
	}
}

func TestFeedbackCoalesced(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	for _, it := range []FeedbackItem{{Key: "c1", Author: "ann", Body: "one"}, {Key: "c2", Author: "bob", Body: "two", Path: "a.go", Line: 3}, {Key: "c1", Author: "ann", Body: "dup"}} {
		if err := db.AddFeedback(ctx, "acme/a#5", it); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.ClaimFeedback(ctx, "acme/a#5", "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Body != "one" || got[1].Path != "a.go" || got[1].Line != 3 {
		t.Fatalf("claimed %+v", got)
	}
	// A retry of the same run sees the same items; another run none.
	if again, _ := db.ClaimFeedback(ctx, "acme/a#5", "run-1"); len(again) != 2 {
		t.Fatalf("retry claimed %d items", len(again))
	}
	if other, _ := db.ClaimFeedback(ctx, "acme/a#5", "run-2"); len(other) != 0 {
		t.Fatalf("second run claimed %+v", other)
	}
}

func TestRunQueries(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	clock := base
	db.now = func() time.Time { return clock }
	// Repository ids: acme/a is 101 in installation 1; acme/b is 102 in
	// installation 2; 201 is a repository that took the name acme/a after
	// the first was renamed or deleted, in another installation.
	ids := map[string][2]int64{"r1": {101, 1}, "r2": {101, 1}, "r3": {102, 2}, "r4": {201, 3}}
	add := func(id, repo string, issue int, requester, state string) {
		t.Helper()
		clock = clock.Add(time.Minute)
		if _, err := db.EnsureRun(ctx, Run{ID: id, DeliveryID: "d-" + id, Repo: repo, RepoID: ids[id][0], InstallationID: ids[id][1],
			Issue: issue, Requester: requester, State: state}); err != nil {
			t.Fatal(err)
		}
	}
	add("r1", "acme/a", 1, "Ann", "finished")
	add("r2", "acme/a", 1, "bob", "denied")
	add("r3", "acme/b", 2, "ann", "running")
	add("r4", "acme/a", 1, "mallory", "running")
	if r, err := db.GetRun(ctx, "r1"); err != nil || r.RepoID != 101 || r.InstallationID != 1 {
		t.Fatalf("GetRun = %+v, %v: ids not kept", r, err)
	}
	runs, err := db.RunsOnIssue(ctx, 101, 1)
	if err != nil || len(runs) != 2 || runs[0].ID != "r2" {
		t.Fatalf("RunsOnIssue = %+v, %v", runs, err)
	}
	// The repository that took the name sees none of the first one's runs.
	if runs, err := db.RunsOnIssue(ctx, 201, 1); err != nil || len(runs) != 1 || runs[0].ID != "r4" {
		t.Fatalf("RunsOnIssue(new owner of the name) = %+v, %v", runs, err)
	}
	if _, err := db.RunsOnIssue(ctx, 0, 1); err == nil {
		t.Fatal("RunsOnIssue without a repository id succeeded")
	}
	tests := []struct {
		f    RunSelect
		want []string
	}{
		{RunSelect{Since: base}, []string{"r1", "r2", "r3", "r4"}},
		{RunSelect{Requester: "ANN", Since: base}, []string{"r1", "r3"}},
		{RunSelect{Requester: "ANN", InstallationID: 1, Since: base}, []string{"r1"}},
		{RunSelect{InstallationID: 2, Since: base}, []string{"r3"}},
		{RunSelect{RepoID: 101, Since: base, States: []string{"finished", "running"}}, []string{"r1"}},
		{RunSelect{Since: base.Add(2 * time.Minute)}, []string{"r2", "r3", "r4"}},
	}
	for _, tt := range tests {
		got, err := db.RunIDs(ctx, tt.f)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("RunIDs(%+v) = %v, %v; want %v", tt.f, got, err, tt.want)
		}
	}
	if err := db.RecordEffect(ctx, "r1", "pr.number", "7"); err != nil {
		t.Fatal(err)
	}
	if r, err := db.RunForPR(ctx, 101, 7); err != nil || r.ID != "r1" {
		t.Fatalf("RunForPR = %+v, %v", r, err)
	}
	if _, err := db.RunForPR(ctx, 201, 7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RunForPR in the repository that took the name = %v", err)
	}
	if _, err := db.RunForPR(ctx, 102, 7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RunForPR in another repository = %v", err)
	}
	if _, _, err := db.AcquireLease(ctx, "issue:1#1", "r1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if h, err := db.ActiveLeaseHolder(ctx, "issue:1#1"); err != nil || h != "r1" {
		t.Fatalf("LeaseHolder = %q, %v", h, err)
	}
	clock = clock.Add(2 * time.Hour)
	if h, _ := db.ActiveLeaseHolder(ctx, "issue:1#1"); h != "" {
		t.Fatalf("expired lease still held by %q", h)
	}
}

func TestOperatorSetting(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	if v, err := db.OperatorSetting(ctx, "paused"); err != nil || v != "" {
		t.Fatalf("unset = %q, %v", v, err)
	}
	for _, v := range []string{"true", "false"} {
		if err := db.SetOperatorSetting(ctx, "paused", v); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.OperatorSetting(ctx, "paused"); got != v {
			t.Fatalf("paused = %q, want %q", got, v)
		}
	}
}
