package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Default limits, used when a Policy field is zero.
const (
	DefaultMaxBytes    int64 = 1 << 30 // 1 GiB, both directions summed
	DefaultMaxConns          = 32
	DefaultMaxRequests       = 10000
)

// Policy is what one run may reach, and which hosts' requests are
// inspected (Inspect).
//
// Allow entries are "host" or "*.suffix", each optionally followed by
// ":port". A wildcard matches names below the suffix ("*.example.com"
// matches "a.example.com" and "a.b.example.com"), never the suffix itself:
// list "example.com" too if it is wanted. The suffix of a wildcard must
// have at least two labels ("*.com" is refused). Without a port an entry
// allows ports 443 and 80. Matching is on the lower-cased name without its
// trailing dot. IP literals are not valid entries: they are always refused.
//
// AllowPrivate lists destinations the operator allows to resolve to
// private addresses (an internal package mirror): host patterns with the
// syntax of Allow (ports ignored), CIDRs such as "10.1.0.0/16", or single
// addresses. It exempts nothing by itself: the host must also be allowed
// by Allow. Metadata, multicast and unspecified addresses are never
// exempted.
type Policy struct {
	Allow        []string
	AllowPrivate []string
	MaxBytes     int64 // per-run byte budget, both directions summed (0 = DefaultMaxBytes)
	MaxConns     int   // concurrent client connections (0 = DefaultMaxConns)
	MaxRequests  int   // CONNECTs plus plain requests per run (0 = DefaultMaxRequests)

	// Inspect lists the hosts whose HTTPS the proxy ends and inspects
	// (Options.CA must be set); see Inspection. When several entries
	// match a host (the org's and the repository's), a request must pass
	// the rules of each, and the first entry with a credential adds it.
	Inspect []Inspection
	// InspectAll inspects every allowed host, also those no Inspect entry
	// names (an org can require it): no byte leaves through a tunnel the
	// proxy cannot read.
	InspectAll bool
}

// pattern is one parsed Allow entry.
type pattern struct {
	host     string // lower case; for a wildcard, the suffix without "*."
	wildcard bool
	ports    []int // sorted; nil means the default ports
}

var defaultPorts = []int{80, 443}

func (pt pattern) portList() []int {
	if pt.ports == nil {
		return defaultPorts
	}
	return pt.ports
}

func (pt pattern) matchHost(h string) bool {
	if pt.wildcard {
		return strings.HasSuffix(h, "."+pt.host)
	}
	return h == pt.host
}

func (pt pattern) match(h string, port int) bool {
	return pt.matchHost(h) && slices.Contains(pt.portList(), port)
}

// strings renders the pattern in Allow syntax; a pattern with several
// non-default ports is rendered by strings, one per port.
func (pt pattern) strings() []string {
	h := pt.host
	if pt.wildcard {
		h = "*." + h
	}
	if pt.ports == nil {
		return []string{h}
	}
	out := make([]string, 0, len(pt.ports))
	for _, p := range pt.ports {
		out = append(out, h+":"+strconv.Itoa(p))
	}
	return out
}

// parsePattern parses one Allow entry.
func parsePattern(s string) (pattern, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(s))
	var pt pattern
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		port, err := parsePort(s[i+1:])
		if err != nil {
			return pattern{}, fmt.Errorf("allow entry %q: %w", orig, err)
		}
		pt.ports = []int{port}
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	if rest, ok := strings.CutPrefix(s, "*."); ok {
		pt.wildcard = true
		s = rest
		if !strings.Contains(s, ".") {
			return pattern{}, fmt.Errorf("allow entry %q: a wildcard needs a suffix of at least two labels", orig)
		}
	}
	if isIPLiteral(s) {
		return pattern{}, fmt.Errorf("allow entry %q: IP literals are always refused; use a host name", orig)
	}
	if err := checkHostName(s); err != nil {
		return pattern{}, fmt.Errorf("allow entry %q: %w", orig, err)
	}
	pt.host = s
	if pt.ports != nil && slices.Equal(pt.ports, defaultPorts) {
		pt.ports = nil
	}
	return pt, nil
}

// parsePort parses a decimal port 1-65535, digits only.
func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("bad port %q", s)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q out of range", s)
	}
	return n, nil
}

// compiled is a validated Policy.
type compiled struct {
	allow       []pattern
	privNames   []pattern
	privNets    []netip.Prefix
	maxBytes    int64
	maxConns    int
	maxRequests int
	inspect     []inspection
	inspectAll  bool
}

// Validate reports every invalid entry of p, joined.
func (p Policy) Validate() error {
	_, err := compile(p)
	return err
}

func compile(p Policy) (compiled, error) {
	c := compiled{maxBytes: p.MaxBytes, maxConns: p.MaxConns, maxRequests: p.MaxRequests, inspectAll: p.InspectAll}
	var errs []error
	for _, in := range p.Inspect {
		ci, err := compileInspection(in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.inspect = append(c.inspect, ci)
	}
	for _, s := range p.Allow {
		pt, err := parsePattern(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.allow = append(c.allow, pt)
	}
	for _, s := range p.AllowPrivate {
		s = strings.TrimSpace(s)
		if pfx, err := netip.ParsePrefix(s); err == nil {
			c.privNets = append(c.privNets, pfx.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			c.privNets = append(c.privNets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		if strings.Contains(s, "/") {
			errs = append(errs, fmt.Errorf("allow_private entry %q: bad CIDR", s))
			continue
		}
		pt, err := parsePattern(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("allow_private: %w", err))
			continue
		}
		c.privNames = append(c.privNames, pt)
	}
	if p.MaxBytes < 0 || p.MaxConns < 0 || p.MaxRequests < 0 {
		errs = append(errs, errors.New("limits must not be negative"))
	}
	if c.maxBytes == 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.maxConns == 0 {
		c.maxConns = DefaultMaxConns
	}
	if c.maxRequests == 0 {
		c.maxRequests = DefaultMaxRequests
	}
	if len(errs) > 0 {
		return compiled{}, fmt.Errorf("egress policy: %w", errors.Join(errs...))
	}
	return c, nil
}

func (c compiled) allows(host string, port int) bool {
	for _, pt := range c.allow {
		if pt.match(host, port) {
			return true
		}
	}
	return false
}

// inspections returns the entries that inspect host:port, and whether
// the host is inspected at all.
func (c compiled) inspections(host string, port int) ([]inspection, bool) {
	var out []inspection
	for _, in := range c.inspect {
		if in.host.match(host, port) {
			out = append(out, in)
		}
	}
	return out, len(out) > 0 || c.inspectAll
}

// privateExempt reports whether the operator allowed host to resolve to a.
func (c compiled) privateExempt(host string, a netip.Addr) bool {
	for _, pt := range c.privNames {
		if pt.matchHost(host) {
			return true
		}
	}
	for _, n := range c.privNets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Allows reports whether p's allowlist admits host and port (normalised as
// the proxy does: lower case, no trailing dot). IP literals and invalid
// entries never match. It does not resolve anything; a learning-mode
// summary can use it to keep proposals within what the org allows.
func (p Policy) Allows(host string, port int) bool {
	h, ok := normalHost(host)
	if !ok || isIPLiteral(h) {
		return false
	}
	for _, s := range p.Allow {
		if pt, err := parsePattern(s); err == nil && pt.match(h, port) {
			return true
		}
	}
	return false
}

// Narrow returns p (the org's policy) narrowed by a repository's policy:
// the result allows a host and port only when both allow it, so a repo can
// remove destinations and never add one.
//
// Allow is the pairwise intersection of the entries: two exact names meet
// when equal; an exact name and a wildcard meet in the name when the
// wildcard matches it; two wildcards meet in the narrower one when one
// suffix lies under the other ("*.example.com" and "*.cdn.example.com" give
// "*.cdn.example.com"); ports meet in their common ports. A nil repo.Allow
// means the repo does not narrow hosts; an empty non-nil one removes them
// all. Invalid repo entries are dropped (they remove, never add).
//
// AllowPrivate is the operator's alone: repo.AllowPrivate is ignored (an
// exemption only applies to hosts Allow admits). Limits are the smaller of
// the two effective values. Inspect entries add up (a request must pass
// every matching entry's rules) and InspectAll holds when either sets it:
// a repository can add inspection and rules, never remove them. Which
// credentials a repository may bind is the caller's to check.
func (p Policy) Narrow(repo Policy) Policy {
	out := Policy{
		AllowPrivate: slices.Clone(p.AllowPrivate),
		Inspect:      slices.Concat(p.Inspect, repo.Inspect),
		InspectAll:   p.InspectAll || repo.InspectAll,
		MaxBytes:     minLimit(p.MaxBytes, repo.MaxBytes, DefaultMaxBytes),
		MaxConns:     int(minLimit(int64(p.MaxConns), int64(repo.MaxConns), DefaultMaxConns)),
		MaxRequests:  int(minLimit(int64(p.MaxRequests), int64(repo.MaxRequests), DefaultMaxRequests)),
	}
	if repo.Allow == nil {
		out.Allow = slices.Clone(p.Allow)
		return out
	}
	out.Allow = []string{}
	for _, os := range p.Allow {
		o, err := parsePattern(os)
		if err != nil {
			continue
		}
		for _, rs := range repo.Allow {
			r, err := parsePattern(rs)
			if err != nil {
				continue
			}
			if x, ok := intersect(o, r); ok {
				for _, s := range x.strings() {
					if !slices.Contains(out.Allow, s) {
						out.Allow = append(out.Allow, s)
					}
				}
			}
		}
	}
	slices.Sort(out.Allow)
	return out
}

// minLimit returns the smaller effective limit (0 means def), or 0 when
// both are zero.
func minLimit(a, b, def int64) int64 {
	if a == 0 && b == 0 {
		return 0
	}
	if a == 0 || a < 0 {
		a = def
	}
	if b == 0 || b < 0 {
		b = def
	}
	return min(a, b)
}

// intersect returns the set of names and ports both patterns allow, when
// it is not empty and expressible as one pattern (it always is).
func intersect(a, b pattern) (pattern, bool) {
	var x pattern
	switch {
	case !a.wildcard && !b.wildcard:
		if a.host != b.host {
			return pattern{}, false
		}
		x.host = a.host
	case !a.wildcard:
		if !b.matchHost(a.host) {
			return pattern{}, false
		}
		x.host = a.host
	case !b.wildcard:
		if !a.matchHost(b.host) {
			return pattern{}, false
		}
		x.host = b.host
	default:
		x.wildcard = true
		switch {
		case a.host == b.host || strings.HasSuffix(a.host, "."+b.host):
			x.host = a.host
		case strings.HasSuffix(b.host, "."+a.host):
			x.host = b.host
		default:
			return pattern{}, false
		}
	}
	if a.ports == nil && b.ports == nil {
		return x, true
	}
	for _, p := range a.portList() {
		if slices.Contains(b.portList(), p) {
			x.ports = append(x.ports, p)
		}
	}
	if len(x.ports) == 0 {
		return pattern{}, false
	}
	return x, true
}
