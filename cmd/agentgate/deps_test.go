package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductDeps keeps the stand-ins and test helpers out of the product
// binary: the GitHub stand-in, the git test server, the harness that wires
// them, the scripted model, the test images' programs, the bench and the
// OpenAPI validator the stand-in uses (and the standard library's test
// servers) are the demo's (cmd/agentgate-demo) and the tests', never
// agentgate's.
func TestProductDeps(t *testing.T) {
	deps := goListDeps(t, ".")
	const mod = "github.com/agentgate/agentgate/"
	forbidden := []string{
		mod + "internal/testgh",
		mod + "internal/testgit",
		mod + "internal/harness",
		mod + "internal/fakellm",
		mod + "internal/stubagent",
		mod + "internal/adversarial",
		mod + "internal/dockertest",
		mod + "internal/pgtest",
		mod + "internal/testagent/cmd",
		mod + "bench",
		mod + "cmd/agentgate-demo",
		"github.com/getkin/kin-openapi",
		"net/http/httptest",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("go list -deps ./cmd/agentgate has %s (%s is not the product's)", d, f)
			}
		}
	}
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), deps)
	}
	t.Logf("go list -deps ./cmd/agentgate: %d packages", len(deps))
}

// goListDeps is `go list -deps PKG`: the import paths of the packages the
// binary is built from (its tests excluded), standard library included.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
	}
	return strings.Fields(string(out))
}
