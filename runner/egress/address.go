package egress

import (
	"errors"
	"net/netip"
	"strings"
)

// normalHost lower-cases h, strips one trailing dot and the brackets of an
// IPv6 literal. ok is false for an empty result.
func normalHost(h string) (string, bool) {
	h = strings.ToLower(h)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	h = strings.TrimSuffix(h, ".")
	return h, h != ""
}

// isIPLiteral reports whether h (normalised) is, or could be taken by some
// resolver or C library for, an IP address: any IPv6 form (anything with a
// colon or a zone), dotted quads, and the inet_aton forms whose last label
// is a decimal, octal or hex number ("2130706433", "0x7f.1", "017700000001").
// No real top-level domain is numeric, so refusing those names loses
// nothing.
func isIPLiteral(h string) bool {
	if strings.ContainsAny(h, ":%[]") {
		return true
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// checkHostName accepts a normalised DNS host name: labels of letters,
// digits, '-' and '_' (1-63 bytes, no leading or trailing '-'), 253 bytes in
// all.
func checkHostName(h string) error {
	if h == "" || len(h) > 253 {
		return errors.New("bad host name length")
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("bad host name: empty or long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("bad host name: label starts or ends with '-'")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return errors.New("bad host name: unexpected character")
			}
		}
	}
	return nil
}

// addrClass says why an address may not be dialled, and whether an
// operator's AllowPrivate entry can lift that.
type addrClass struct {
	name       string // "" for a public address
	exemptable bool
}

var (
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack ...
		netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
		netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud
		netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6
	}
	// reservedV4 are special-purpose IPv4 ranges that net/netip's
	// predicates do not cover.
	reservedV4 = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("100.64.0.0/10"), // CGNAT
		netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("240.0.0.0/4"), // reserved and broadcast
	}
	reservedV6 = []netip.Prefix{
		netip.MustParsePrefix("::/96"),     // IPv4-compatible (deprecated)
		netip.MustParsePrefix("100::/64"),  // discard
		netip.MustParsePrefix("2001::/32"), // Teredo
		netip.MustParsePrefix("2001:db8::/32"),
	}
	// embedsV4 are IPv6 ranges that carry an IPv4 address a gateway may
	// reach: NAT64 (last 32 bits) and 6to4 (bits 16-48).
	nat64     = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// classify returns why a may not be dialled ("" when it is public).
func classify(a netip.Addr) addrClass {
	a = a.Unmap()
	for _, m := range metadataAddrs {
		if a == m {
			return addrClass{name: "metadata"}
		}
	}
	switch {
	case a.IsUnspecified():
		return addrClass{name: "unspecified"}
	case a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return addrClass{name: "multicast"}
	case a.IsLoopback():
		return addrClass{name: "loopback", exemptable: true}
	case a.IsPrivate():
		return addrClass{name: "private", exemptable: true}
	case a.IsLinkLocalUnicast():
		return addrClass{name: "link-local", exemptable: true}
	}
	if a.Is4() {
		for _, p := range reservedV4 {
			if p.Contains(a) {
				return addrClass{name: "reserved", exemptable: true}
			}
		}
		return addrClass{}
	}
	for _, p := range nat64 {
		if p.Contains(a) {
			b := a.As16()
			return classifyEmbedded(netip.AddrFrom4([4]byte(b[12:16])))
		}
	}
	if sixToFour.Contains(a) {
		b := a.As16()
		return classifyEmbedded(netip.AddrFrom4([4]byte(b[2:6])))
	}
	for _, p := range reservedV6 {
		if p.Contains(a) {
			return addrClass{name: "reserved", exemptable: true}
		}
	}
	return addrClass{}
}

// classifyEmbedded classifies an IPv4 address carried inside IPv6; only
// public ones pass, and none can be exempted through the wrapping.
func classifyEmbedded(a netip.Addr) addrClass {
	if c := classify(a); c.name != "" {
		return addrClass{name: c.name + " (embedded in IPv6)"}
	}
	return addrClass{}
}
