package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// hostPattern is one network.allow entry: "host" or "*.suffix", with an
// optional ":port" (without one, ports 80 and 443). The syntax is the
// egress proxy's (runner/egress), re-implemented here so that policy does
// not depend on the runner.
type hostPattern struct {
	host     string // lower case, no trailing dot; a wildcard's suffix
	wildcard bool
	port     int // 0 = the default ports
}

var defaultPorts = []int{80, 443}

// parseHostPattern parses one allow entry.
func parseHostPattern(s string) (hostPattern, error) {
	var p hostPattern
	v := strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		n, err := strconv.Atoi(v[i+1:])
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(v[i+1:], "0123456789") != "" {
			return p, fmt.Errorf("%q: bad port", s)
		}
		p.port, v = n, v[:i]
	}
	v = strings.TrimSuffix(v, ".")
	if rest, ok := strings.CutPrefix(v, "*."); ok {
		p.wildcard, v = true, rest
		if !strings.Contains(v, ".") {
			return p, fmt.Errorf("%q: a wildcard needs a suffix of at least two labels", s)
		}
	}
	if _, err := netip.ParseAddr(v); err == nil || isNumericHost(v) {
		return p, fmt.Errorf("%q: IP addresses are always refused; use a host name", s)
	}
	if v == "" || len(v) > 253 || strings.ContainsAny(v, "*/ ") {
		return p, fmt.Errorf("%q is not a host name", s)
	}
	p.host = v
	return p, nil
}

// isNumericHost reports names made only of digits and dots (e.g. 10.1),
// which resolvers may read as addresses.
func isNumericHost(h string) bool {
	return h != "" && strings.Trim(h, "0123456789.") == ""
}

func (p hostPattern) ports() []int {
	if p.port == 0 {
		return defaultPorts
	}
	return []int{p.port}
}

// matchHost reports whether the pattern admits the name h (lower case).
func (p hostPattern) matchHost(h string) bool {
	if p.wildcard {
		return strings.HasSuffix(h, "."+p.host)
	}
	return h == p.host
}

// covers reports whether everything q admits, p admits too.
func (p hostPattern) covers(q hostPattern) bool {
	for _, port := range q.ports() {
		if !slices.Contains(p.ports(), port) {
			return false
		}
	}
	switch {
	case !q.wildcard:
		return p.matchHost(q.host)
	case !p.wildcard:
		return false // a name never covers a wildcard
	default:
		return q.host == p.host || strings.HasSuffix(q.host, "."+p.host)
	}
}

// HostAllowed reports whether the allowlist admits host on port, with the
// egress proxy's matching rules. Invalid entries admit nothing.
func HostAllowed(allow []string, host string, port int) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, s := range allow {
		p, err := parseHostPattern(s)
		if err == nil && p.matchHost(h) && slices.Contains(p.ports(), port) {
			return true
		}
	}
	return false
}

// coveredBy reports whether some entry of org admits everything entry does.
func coveredBy(org []string, entry string) bool {
	q, err := parseHostPattern(entry)
	if err != nil {
		return false
	}
	for _, s := range org {
		if p, err := parseHostPattern(s); err == nil && p.covers(q) {
			return true
		}
	}
	return false
}
