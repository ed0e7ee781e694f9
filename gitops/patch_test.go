package gitops

import (
	"context"
	"strings"
	"testing"
)

func TestPatchInfoReadBlob(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ws := cloneWS(t, s)
	write(t, ws.WorkTree, ".github/workflows/ci.yml", "on: push\n", 0o644)
	write(t, ws.WorkTree, "README.md", "hello\nthere\n", 0o644)
	ch, err := ws.Harvest(ctx, HarvestOptions{})
	must(t, err)
	sha, err := ws.Commit(ctx, ch, "subject\n\nbody\n", Signature{Name: "bot", Email: "bot@example.test"})
	must(t, err)

	p, err := ws.Patch(ctx, sha)
	must(t, err)
	for _, want := range []string{"diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml", "+on: push", "-world", "+there"} {
		if !strings.Contains(p, want) {
			t.Errorf("patch lacks %q:\n%s", want, p)
		}
	}
	info, err := ws.Info(sha)
	must(t, err)
	if info.Parent != ws.BaseCommit || len(info.Tree) != 40 || len(info.ParentTree) != 40 || info.ParentTree == info.Tree || info.Message != "subject\n\nbody\n" {
		t.Errorf("info = %+v (base %s)", info, ws.BaseCommit)
	}
	for _, f := range ch.Files {
		if f.Path != "README.md" {
			continue
		}
		b, err := ws.ReadBlob(f.Blob, 100)
		must(t, err)
		if string(b) != "hello\nthere\n" {
			t.Errorf("blob = %q", b)
		}
		if _, err := ws.ReadBlob(f.Blob, 3); err == nil {
			t.Error("ReadBlob ignored its limit")
		}
	}
	if _, err := ws.Patch(ctx, "HEAD"); err == nil {
		t.Error("Patch accepted a name that is not a hash")
	}
}
