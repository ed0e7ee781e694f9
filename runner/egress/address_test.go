package egress

import (
	"net/netip"
	"testing"
)

func TestIsIPLiteral(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"10.0.0.1", true},
		{"::1", true},
		{"fe80::1%eth0", true},
		{"::ffff:127.0.0.1", true},
		{"2130706433", true},   // decimal 127.0.0.1
		{"0x7f.1", true},       // hex + short form
		{"0x7f000001", true},   // hex
		{"017700000001", true}, // octal
		{"0177.0.0.1", true},
		{"127.1", true},
		{"1.2.3.4.5", true}, // numeric last label: never a real name
		{"0x", true},
		{"example.com", false},
		{"1.example.com", false},
		{"a1", false},
		{"0xfg.test", false},
		{"xn--bcher-kva.test", false},
	}
	for _, tt := range tests {
		h, _ := normalHost(tt.host)
		if got := isIPLiteral(h); got != tt.want {
			t.Errorf("isIPLiteral(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		addr       string
		name       string
		exemptable bool
	}{
		{"93.184.216.34", "", false},
		{"2606:4700::1111", "", false},
		{"127.0.0.1", "loopback", true},
		{"127.8.9.10", "loopback", true},
		{"::1", "loopback", true},
		{"10.1.2.3", "private", true},
		{"172.16.0.1", "private", true},
		{"172.31.255.255", "private", true},
		{"172.32.0.1", "", false},
		{"192.168.1.1", "private", true},
		{"fc00::1", "private", true},
		{"fd12::1", "private", true},
		{"169.254.1.1", "link-local", true},
		{"fe80::1", "link-local", true},
		{"169.254.169.254", "metadata", false},
		{"169.254.170.2", "metadata", false},
		{"fd00:ec2::254", "metadata", false},
		{"100.100.100.200", "metadata", false},
		{"::ffff:169.254.169.254", "metadata", false},
		{"::ffff:10.0.0.1", "private", true},
		{"100.64.0.1", "reserved", true},
		{"0.1.2.3", "reserved", true},
		{"0.0.0.0", "unspecified", false},
		{"::", "unspecified", false},
		{"255.255.255.255", "reserved", true},
		{"224.0.0.1", "multicast", false},
		{"ff02::1", "multicast", false},
		{"64:ff9b::a00:1", "private (embedded in IPv6)", false},
		{"64:ff9b::5db8:d822", "", false},
		{"2002:7f00:1::", "loopback (embedded in IPv6)", false},
		{"::127.0.0.1", "reserved", true},
		{"2001::1", "reserved", true},
	}
	for _, tt := range tests {
		c := classify(netip.MustParseAddr(tt.addr))
		if c.name != tt.name || c.exemptable != tt.exemptable {
			t.Errorf("classify(%s) = %+v, want %q exemptable=%v", tt.addr, c, tt.name, tt.exemptable)
		}
	}
}
