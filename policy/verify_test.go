package policy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMergeVerifyCICommits(t *testing.T) {
	tests := []struct {
		name      string
		org, repo string
		check     func(t *testing.T, e EffectiveConfig)
		wantErr   string
	}{
		{
			name: "defaults",
			check: func(t *testing.T, e EffectiveConfig) {
				if len(e.Verify.Command) != 0 || e.Verify.Timeout != DefaultVerifyTimeout || !e.CIHold || e.CommitMethod != "auto" {
					t.Errorf("defaults: %+v hold=%v method=%q", e.Verify, e.CIHold, e.CommitMethod)
				}
			},
		},
		{
			name: "repo sets verify",
			repo: "verify:\n  command: go test ./...\n  timeout: 5m\n  allow: [proxy.golang.org]\nci:\n  hold: false\ncommits:\n  method: git\n",
			check: func(t *testing.T, e EffectiveConfig) {
				if !slices.Equal(e.Verify.Command, []string{"go", "test", "./..."}) || e.Verify.Timeout != 5*time.Minute ||
					!slices.Equal(e.Verify.Allow, []string{"proxy.golang.org"}) || e.CIHold || e.CommitMethod != "git" {
					t.Errorf("got %+v hold=%v method=%q", e.Verify, e.CIHold, e.CommitMethod)
				}
			},
		},
		{
			name: "org command stays when repo names none",
			org:  "verify:\n  command: [make, test]\n",
			repo: "verify:\n  timeout: 1m\n",
			check: func(t *testing.T, e EffectiveConfig) {
				if !slices.Equal(e.Verify.Command, []string{"make", "test"}) || e.Verify.Timeout != time.Minute {
					t.Errorf("got %+v", e.Verify)
				}
			},
		},
		{name: "longer timeout", org: "verify:\n  timeout: 2m\n", repo: "verify:\n  timeout: 3m\n", wantErr: "verify.timeout"},
		{name: "wider allow", org: "verify:\n  allow: [proxy.golang.org]\n", repo: "verify:\n  allow: [evil.example]\n", wantErr: "verify.allow[0]"},
		{name: "release org hold", org: "ci:\n  hold: true\n", repo: "ci:\n  hold: false\n", wantErr: "ci.hold"},
		{name: "image not the org's", org: "images: [a/b:1]\n", repo: "verify:\n  image: c/d:2\n", wantErr: "verify.image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := mergeYAML(t, tt.org, tt.repo)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, e)
		})
	}
}

func TestParseRejectsBadVerify(t *testing.T) {
	for _, in := range []string{"verify:\n  allow: ['1.2.3.4']\n", "commits:\n  method: ftp\n", "verify:\n  timeout: soon\n", "ci:\n  hold: maybe\n"} {
		if _, err := Parse("f.yml", []byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

// A changed verify command changes the policy hash, so approvals given
// under the old one are void.
func TestHashCoversVerify(t *testing.T) {
	a, _ := Merge(nil, mustParse(t, "r", "verify:\n  command: go test ./...\n"))
	b, _ := Merge(nil, mustParse(t, "r", "verify:\n  command: go vet ./...\n"))
	if a.Hash() == b.Hash() {
		t.Error("hash ignores verify.command")
	}
}
