package gitops

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCommitRejects(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ws := cloneWS(t, s)
	write(t, ws.WorkTree, "ok.txt", "ok\n", 0o644)
	ch, err := ws.Harvest(ctx, HarvestOptions{})
	must(t, err)
	good := ch.Files[0]
	sig := Signature{Name: "bot", Email: "bot@example.test"}
	with := func(f func(*FileChange)) *Change {
		fc := good
		f(&fc)
		return &Change{Files: []FileChange{fc}}
	}
	tests := []struct {
		name    string
		ch      *Change
		msg     string
		sig     Signature
		wantErr error
		errText string
	}{
		{name: "nil change", ch: nil, msg: "m", sig: sig, wantErr: ErrNoChange},
		{name: "empty change", ch: &Change{}, msg: "m", sig: sig, wantErr: ErrNoChange},
		{name: "empty message", ch: ch, msg: " \n", sig: sig, errText: "empty message"},
		{name: "no author", ch: ch, msg: "m", sig: Signature{Email: "x@y"}, errText: "no name"},
		{name: ".git path", ch: with(func(f *FileChange) { f.Path = ".git/config" }), msg: "m", sig: sig, errText: ".git"},
		{name: "nested .GIT", ch: with(func(f *FileChange) { f.Path = "a/.GIT/hooks/x" }), msg: "m", sig: sig, errText: ".git"},
		{name: "dot dot", ch: with(func(f *FileChange) { f.Path = "a/../b" }), msg: "m", sig: sig, errText: "reserved"},
		{name: "absolute", ch: with(func(f *FileChange) { f.Path = "/etc/passwd" }), msg: "m", sig: sig, errText: "reserved"},
		{name: "newline in path", ch: with(func(f *FileChange) { f.Path = "a\nb" }), msg: "m", sig: sig, errText: "control"},
		{name: "gitlink mode", ch: with(func(f *FileChange) { f.Mode = "160000" }), msg: "m", sig: sig, errText: "mode"},
		{name: "missing blob", ch: with(func(f *FileChange) { f.Blob = strings.Repeat("0", 39) + "1" }), msg: "m", sig: sig, errText: "blob"},
		{name: "bad blob", ch: with(func(f *FileChange) { f.Blob = "HEAD" }), msg: "m", sig: sig, errText: "invalid object hash"},
		{name: "listed twice", ch: &Change{Files: []FileChange{good, good}}, msg: "m", sig: sig, errText: "twice"},
		{name: "file below a file", ch: with(func(f *FileChange) { f.Path = "README.md/x" }), msg: "m", sig: sig, errText: "not a directory"},
		{name: "file over a directory", ch: with(func(f *FileChange) { f.Path = "docs" }), msg: "m", sig: sig, errText: "directory"},
		{name: "no-op", ch: &Change{Files: []FileChange{{Path: "README.md", Op: "modified", Mode: "100644", Blob: blobOf(t, "hello\nworld\n")}}}, msg: "m", sig: sig, wantErr: ErrNoChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ws.Commit(ctx, tt.ch, tt.msg, tt.sig)
			if err == nil {
				t.Fatal("Commit succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("error %q lacks %q", err, tt.errText)
			}
		})
	}
}

func TestCommitIdentityCannotInjectHeaders(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ws := cloneWS(t, s)
	write(t, ws.WorkTree, "x", "x\n", 0o644)
	ch, err := ws.Harvest(ctx, HarvestOptions{})
	must(t, err)
	c, err := ws.Commit(ctx, ch, "m", Signature{Name: "a>\ncommitter evil <e@x> 0 +0000\n", Email: "b@c>\n"})
	must(t, err)
	raw := gitCLI(t, ws.Root+"/repo.git", "cat-file", "commit", c)
	header, _, _ := strings.Cut(raw, "\n\n")
	if n := strings.Count(header, "\ncommitter "); n != 1 {
		t.Fatalf("header has %d committer lines:\n%s", n, header)
	}
	gitCLI(t, ws.Root+"/repo.git", "fsck", "--strict", "--no-dangling")
}
