package policy_test

import (
	"testing"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/egress"
)

// policy.HostAllowed (org/repo narrowing, learning mode) and the egress
// proxy decide with the same rules: a destination one admits, the other
// admits too. The two implementations must not drift.
func TestHostAllowedAgreesWithEgress(t *testing.T) {
	allows := [][]string{
		{"proxy.golang.org"},
		{"*.golang.org"},
		{"*.golang.org:443"},
		{"registry.npmjs.org:8443", "pypi.org"},
		{"Example.COM."},
		{"*.a.example", "b.example:80"},
	}
	hosts := []string{"proxy.golang.org", "sum.golang.org", "golang.org", "evil.com.golang.org.evil", "x.proxy.golang.org",
		"registry.npmjs.org", "pypi.org", "example.com", "EXAMPLE.com.", "a.example", "x.a.example", "b.example", "10.0.0.1", ""}
	ports := []int{80, 443, 8443, 22}
	for _, allow := range allows {
		eg := egress.Policy{Allow: allow}
		for _, h := range hosts {
			for _, p := range ports {
				if got, want := policy.HostAllowed(allow, h, p), eg.Allows(h, p); got != want {
					t.Errorf("allow %q, %s:%d: policy says %v, egress says %v", allow, h, p, got, want)
				}
			}
		}
	}
}
