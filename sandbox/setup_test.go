package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/policy"
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
		{"base64 in a file", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "cache", "blob"), "data: "+base64.StdEncoding.EncodeToString([]byte("{\"token\":\""+secret+"\"}"))+"\n")
		}, "cache/blob (base64)"},
		{"hex in a file", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "h.txt"), hex.EncodeToString([]byte(secret)))
		}, "h.txt (hex)"},
		{"percent-encoded in a file", func(t *testing.T, dir string) {
			var pct strings.Builder
			for _, c := range []byte(secret) {
				fmt.Fprintf(&pct, "%%%02X", c)
			}
			mustWrite(t, filepath.Join(dir, "u.txt"), "https://x/?t="+pct.String())
		}, "u.txt (url-encoded)"},
		{"reversed in a file", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "r.txt"), "eulav-nekot-t3rc3s")
		}, "r.txt (reversed)"},
		{"base64url as a file name", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, base64.RawURLEncoding.EncodeToString([]byte(secret))), "")
		}, base64.RawURLEncoding.EncodeToString([]byte(secret)) + " (base64)"},
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
			name, where, err := findSecret(context.Background(), dir, secrets)
			if err != nil {
				t.Fatal(err)
			}
			if where != tc.where || (tc.where != "" && name != "NPM_TOKEN") || (tc.where == "" && name != "") {
				t.Errorf("found %q in %q, want NPM_TOKEN in %q", name, where, tc.where)
			}
		})
	}
}

// TestFindSecretSparseFile: a huge sparse file (`truncate -s 8E`) left in
// the tree is scanned in what its blocks hold, not byte by byte: the scan
// returns at once, and still finds a secret written past a hole.
// Positive control: the same file without the secret is clean.
func TestFindSecretSparseFile(t *testing.T) {
	const secret = "s3cr3t-token-value"
	for _, withSecret := range []bool{true, false} {
		dir := t.TempDir()
		p := filepath.Join(dir, "huge.bin")
		mustWrite(t, p, "")
		var size int64
		for _, sz := range []int64{1<<63 - 1, 1 << 50, 1<<44 - 1<<12, 1 << 40} {
			if os.Truncate(p, sz) == nil {
				size = sz
				break
			}
		}
		if size == 0 {
			t.Skip("no sparse file of 1 TiB here")
		}
		if withSecret {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte(secret), size/2); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		var name, where string
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			name, where, err = findSecret(context.Background(), dir, []string{"NPM_TOKEN=" + secret})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("secret written: %v: the scan still runs after 10s", withSecret)
		}
		if err != nil {
			t.Fatalf("secret written: %v: %v", withSecret, err)
		}
		want := ""
		if withSecret {
			want = "huge.bin"
		}
		if where != want || (want != "") != (name == "NPM_TOKEN") {
			t.Errorf("secret written: %v: found %q in %q, want %q", withSecret, name, where, want)
		}
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

func TestDecideSetupTrust(t *testing.T) {
	plan := func(inputs []string, on string) *SetupPlan {
		return &SetupPlan{Secrets: []string{"NPM_TOKEN=x"}, SecretNames: []string{"NPM_TOKEN"}, Inputs: inputs, OnUntrusted: on}
	}
	agentChanged := []string{"package.json", "src/app.js"}
	cases := []struct {
		name      string
		plan      *SetupPlan
		onDefault bool
		changed   []string
		decision  string
		bad       []string
	}{
		{"the default branch", plan(nil, policy.SetupWithoutSecrets), true, nil, setupWithSecrets, nil},
		{"a branch with the default branch's tree", plan(nil, policy.SetupWithoutSecrets), false, nil, setupWithSecrets, nil},
		{"any change is an input by default", plan(nil, policy.SetupWithoutSecrets), false, agentChanged, policy.SetupWithoutSecrets, agentChanged},
		{"a changed input withholds the secrets", plan([]string{"package.json", "package-lock.json"}, policy.SetupWithoutSecrets), false, agentChanged, policy.SetupWithoutSecrets, []string{"package.json"}},
		{"or stops the run", plan([]string{"package.json"}, policy.SetupStop), false, agentChanged, policy.SetupStop, []string{"package.json"}},
		{"changes outside the inputs keep them", plan([]string{"package.json", "scripts/**"}, policy.SetupStop), false, []string{"src/app.js", "README.md"}, setupWithSecrets, nil},
		{"a glob covers a nested script", plan([]string{"package.json", "scripts/**"}, policy.SetupWithoutSecrets), false, []string{"scripts/ci/post.js"}, policy.SetupWithoutSecrets, []string{"scripts/ci/post.js"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := decideSetupTrust(tc.plan, tc.onDefault, tc.changed)
			if d.Decision != tc.decision || !slices.Equal(d.Changed, tc.bad) || d.Reason == "" {
				t.Errorf("decision %q (%s), changed %q; want %q, %q", d.Decision, d.Reason, d.Changed, tc.decision, tc.bad)
			}
		})
	}
}
