package sandbox

import (
	"slices"
	"testing"

	"github.com/agentgate/agentgate/policy"
)

func TestProtectedChanges(t *testing.T) {
	p := &RunPolicy{Protected: policy.Defaults().ProtectedPaths}
	p.Protected = append(p.Protected, "deploy/**")
	files := []ChangedFile{
		{Path: ".github/workflows/ci.yml"}, {Path: ".github/workflows/sub/x.yaml"}, {Path: "CODEOWNERS"},
		{Path: ".github/agentgate.yml"}, {Path: "deploy/prod/k8s.yml"}, {Path: "main.go"}, {Path: ".github/workflowsX"},
	}
	wf, prot := p.ProtectedChanges(files)
	if !slices.Equal(wf, []string{".github/workflows/ci.yml", ".github/workflows/sub/x.yaml"}) {
		t.Errorf("workflows = %q", wf)
	}
	if !slices.Equal(prot, []string{"CODEOWNERS", ".github/agentgate.yml", "deploy/prod/k8s.yml"}) {
		t.Errorf("protected = %q", prot)
	}
	// Protected paths are no violation any more; the other rules stand.
	if v := p.Violations(files); len(v) != 0 {
		t.Errorf("violations = %q", v)
	}
	p.MaxFiles = 2
	if v := p.Violations(append(files, ChangedFile{Path: "b.bin", Binary: true})); len(v) != 2 {
		t.Errorf("violations = %q, want binary and file count", v)
	}
}
