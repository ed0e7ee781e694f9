package gitops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// harvestCommit makes one change in ws and commits it.
func harvestCommit(t *testing.T, ws *Workspace, file, content string) string {
	t.Helper()
	write(t, ws.WorkTree, file, content, 0o644)
	ch, err := ws.Harvest(context.Background(), HarvestOptions{})
	must(t, err)
	c, err := ws.Commit(context.Background(), ch, "change "+file, Signature{Name: "bot", Email: "bot@example.test", When: time.Unix(1700000000, 0)})
	must(t, err)
	return c
}

func TestPush(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ws := cloneWS(t, s)
	first := harvestCommit(t, ws, "one.txt", "1\n")
	url := s.CloneURL(testRepo)

	// main moves on after the clone: the shallow workspace still pushes.
	_, err := s.Commit(ctx, testRepo, "main", "upstream", []testgit.File{{Path: "upstream.txt", Content: "u\n"}})
	must(t, err)

	tests := []struct {
		name    string
		opts    PushOptions
		wantErr error
		errText string
		want    string // branch head afterwards
	}{
		{name: "new branch", opts: PushOptions{Token: testToken, Commit: first, Branch: "agentgate/1-one"}, want: first},
		{name: "again is fine", opts: PushOptions{Token: testToken, Commit: first, Branch: "agentgate/1-one"}, want: first},
		{name: "read-only token", opts: PushOptions{Token: "read-only", Commit: first, Branch: "agentgate/2-ro"}, wantErr: transport.ErrAuthorizationFailed},
		{name: "wrong token", opts: PushOptions{Token: "bad", Commit: first, Branch: "agentgate/2-ro"}, wantErr: transport.ErrAuthorizationFailed},
		{name: "outside agentgate/", opts: PushOptions{Token: testToken, Commit: first, Branch: "main"}, errText: "not under agentgate/"},
		{name: "sneaky prefix", opts: PushOptions{Token: testToken, Commit: first, Branch: "agentgate/../main"}, errText: "branch"},
		{name: "invalid ref", opts: PushOptions{Token: testToken, Commit: first, Branch: "agentgate/a b"}, errText: "branch"},
		{name: "not a hash", opts: PushOptions{Token: testToken, Commit: "main", Branch: "agentgate/3"}, errText: "invalid object hash"},
		{name: "unknown commit", opts: PushOptions{Token: testToken, Commit: strings.Repeat("ab", 20), Branch: "agentgate/3"}, errText: "commit"},
		{name: "plain http elsewhere", opts: PushOptions{URL: "http://192.0.2.1/o/r.git", Token: testToken, Commit: first, Branch: "agentgate/3"}, errText: "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.URL == "" {
				tt.opts.URL = url
			}
			err := ws.Push(ctx, tt.opts)
			if tt.wantErr != nil || tt.errText != "" {
				if err == nil {
					t.Fatal("Push succeeded")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error %q lacks %q", err, tt.errText)
				}
				if _, err := s.Ref(ctx, testRepo, "refs/heads/agentgate/2-ro"); err == nil {
					t.Fatal("refused push created a branch")
				}
				return
			}
			must(t, err)
			if got, err := s.Ref(ctx, testRepo, "refs/heads/"+tt.opts.Branch); err != nil || got != tt.want {
				t.Fatalf("branch = %q, %v; want %s", got, err, tt.want)
			}
		})
	}

	// A follow-up run from a fresh clone replaces the branch only with Force.
	ws2 := cloneWS(t, s)
	second := harvestCommit(t, ws2, "two.txt", "2\n")
	err = ws2.Push(ctx, PushOptions{URL: url, Token: testToken, Commit: second, Branch: "agentgate/1-one"})
	if err == nil {
		t.Fatal("non-fast-forward push without Force succeeded")
	}
	must(t, ws2.Push(ctx, PushOptions{URL: url, Token: testToken, Commit: second, Branch: "agentgate/1-one", Force: true}))
	if got, _ := s.Ref(ctx, testRepo, "refs/heads/agentgate/1-one"); got != second {
		t.Fatalf("forced branch = %s, want %s", got, second)
	}
	mustGit(t, s, "fsck", "--strict")
}

func TestPushLocalPath(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ws, err := Clone(ctx, CloneOptions{URL: s.Path(testRepo), Root: t.TempDir()})
	must(t, err)
	c := harvestCommit(t, ws, "local.txt", "l\n")
	must(t, ws.Push(ctx, PushOptions{URL: s.Path(testRepo), Commit: c, Branch: "agentgate/5-local"}))
	if got, _ := s.Ref(ctx, testRepo, "refs/heads/agentgate/5-local"); got != c {
		t.Fatalf("branch = %q, want %s", got, c)
	}
}
