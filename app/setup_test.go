package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindSecret(t *testing.T) {
	const secret = "s3cr3t-token-value"
	secrets := []string{"SHORT=abc", "NPM_TOKEN=" + secret}
	cases := []struct {
		name  string
		make  func(t *testing.T, dir string)
		where string // "" = not found
	}{
		{"clean tree", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "a.txt"), "abc is too short to count\n")
		}, ""},
		{"in a file", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "cache", ".npmrc"), "//registry/:_authToken="+secret+"\n")
		}, "cache/.npmrc"},
		{"across read chunks", func(t *testing.T, dir string) {
			pad := strings.Repeat("x", 64<<10+10) // the first read ends inside the secret
			mustWrite(t, filepath.Join(dir, "big.bin"), pad+secret+pad)
		}, "big.bin"},
		{"in the throwaway .git", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, ".git", "config"), "[http]\n\textraheader = "+secret+"\n")
		}, ".git/config"},
		{"in a file name", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "x-"+secret), "")
		}, "x-" + secret},
		{"as a link target", func(t *testing.T, dir string) {
			if err := os.Symlink("/nowhere/"+secret, filepath.Join(dir, "l")); err != nil {
				t.Fatal(err)
			}
		}, "l (a link target)"},
		{"a link is not followed", func(t *testing.T, dir string) {
			outside := t.TempDir()
			mustWrite(t, filepath.Join(outside, "f"), secret)
			if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
				t.Fatal(err)
			}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.make(t, dir)
			name, where, err := findSecret(dir, secrets)
			if err != nil {
				t.Fatal(err)
			}
			if where != tc.where || (tc.where != "" && name != "NPM_TOKEN") || (tc.where == "" && name != "") {
				t.Errorf("found %q in %q, want NPM_TOKEN in %q", name, where, tc.where)
			}
		})
	}
}

func mustWrite(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
