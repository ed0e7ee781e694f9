package policy

import (
	"strings"
	"testing"
)

func TestMergeMode(t *testing.T) {
	tests := []struct {
		name      string
		org, repo string
		want      string
		wantErr   string // in the error, "" for none
	}{
		{"default", "", "", ModeDirect, ""},
		{"repo asks for plan", "", "mode: plan\n", ModePlan, ""},
		{"org plan applies", "mode: plan\n", "", ModePlan, ""},
		{"repo repeats plan", "mode: plan\n", "mode: plan\n", ModePlan, ""},
		{"repo cannot lift the org's plan", "mode: plan\n", "draft: true\nmode: direct\n", "", `repo.yml:2: mode: "direct" would lift the org's "plan"`},
		{"repo may gate under a direct org", "mode: direct\n", "mode: plan\n", ModePlan, ""},
		{"repo direct under direct org", "mode: direct\n", "mode: direct\n", ModeDirect, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := mergeYAML(t, tt.org, tt.repo)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Mode != tt.want {
				t.Errorf("Mode = %q, want %q", e.Mode, tt.want)
			}
		})
	}
	for _, bad := range []string{"mode: yolo\n", "mode: true\n", "mode: [plan]\n"} {
		if _, err := Parse("repo.yml", []byte(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// The mode is part of the policy hash: approving a plan under one mode
// and running under another is detectable.
func TestModeChangesHash(t *testing.T) {
	direct, err := Merge(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Merge(nil, mustParse(t, "repo.yml", "mode: plan\n"))
	if err != nil {
		t.Fatal(err)
	}
	if direct.Hash() == plan.Hash() {
		t.Error("mode: plan does not change the policy hash")
	}
}
