package egress

import (
	"slices"
	"strings"
	"testing"
)

func TestPolicyAllows(t *testing.T) {
	allow := []string{"api.example.com", "*.pkg.test", "Mixed.Case.test", "git.test:9418", "both.test:443", "dot.test."}
	tests := []struct {
		host string
		port int
		want bool
	}{
		{"api.example.com", 443, true},
		{"api.example.com", 80, true},
		{"api.example.com", 8443, false},
		{"API.Example.COM.", 443, true},      // case, trailing dot
		{"example.com", 443, false},          // not the parent
		{"x.api.example.com", 443, false},    // exact does not cover subdomains
		{"a.pkg.test", 443, true},            // wildcard
		{"a.b.pkg.test", 80, true},           // deep wildcard
		{"pkg.test", 443, false},             // wildcard excludes the suffix itself
		{"evilpkg.test", 443, false},         // label boundary
		{"a.pkg.test.evil.test", 443, false}, // allowed name as a prefix
		{"evil.test.a.pkg.test", 443, true},  // ... but any name below the suffix is fine
		{"mixed.case.test", 443, true},
		{"git.test", 9418, true},
		{"git.test", 443, false}, // an explicit port replaces the defaults
		{"both.test", 443, true},
		{"both.test", 80, false},
		{"dot.test", 80, true},
		{"127.0.0.1", 443, false},
		{"", 443, false},
	}
	p := Policy{Allow: allow}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if got := p.Allows(tt.host, tt.port); got != tt.want {
			t.Errorf("Allows(%q, %d) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
}

func TestPolicyAllowsEvilSuffix(t *testing.T) {
	p := Policy{Allow: []string{"allowed.com"}}
	for _, h := range []string{"evil.com.allowed.com", "allowed.com.evil.com", "allowed.com-evil.com", "xallowed.com"} {
		if p.Allows(h, 443) {
			t.Errorf("%q allowed by exact allowed.com", h)
		}
	}
	w := Policy{Allow: []string{"*.allowed.com"}}
	if !w.Allows("evil.com.allowed.com", 443) || w.Allows("allowed.com.evil.com", 443) {
		t.Error("wildcard must match names below allowed.com only")
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       Policy
		wantErr string
	}{
		{"ok", Policy{Allow: []string{"a.test", "*.b.test:8080"}, AllowPrivate: []string{"10.0.0.0/8", "mirror.test", "fd00::1"}}, ""},
		{"wildcard tld", Policy{Allow: []string{"*.com"}}, "two labels"},
		{"bare star", Policy{Allow: []string{"*"}}, "allow entry"},
		{"ip literal", Policy{Allow: []string{"10.0.0.1"}}, "IP literals"},
		{"ipv6 literal", Policy{Allow: []string{"[::1]:443"}}, "IP literals"},
		{"port zero", Policy{Allow: []string{"a.test:0"}}, "out of range"},
		{"port big", Policy{Allow: []string{"a.test:70000"}}, "out of range"},
		{"port sign", Policy{Allow: []string{"a.test:+80"}}, "bad port"},
		{"space", Policy{Allow: []string{"a b.test"}}, "unexpected character"},
		{"empty", Policy{Allow: []string{""}}, "length"},
		{"mid wildcard", Policy{Allow: []string{"a.*.test"}}, "unexpected character"},
		{"bad cidr", Policy{AllowPrivate: []string{"10.0.0.0/99"}}, "bad CIDR"},
		{"negative", Policy{MaxBytes: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
			if _, err := New(tt.p, Options{}); err == nil {
				t.Fatal("New accepted an invalid policy")
			}
		})
	}
}

func TestNarrow(t *testing.T) {
	tests := []struct {
		name      string
		org, repo []string
		want      []string
	}{
		{"nil repo keeps org", []string{"a.test", "*.b.test"}, nil, []string{"a.test", "*.b.test"}},
		{"empty repo removes all", []string{"a.test"}, []string{}, []string{}},
		{"repo removes", []string{"a.test", "c.test"}, []string{"a.test"}, []string{"a.test"}},
		{"repo cannot add", []string{"a.test"}, []string{"a.test", "evil.test"}, []string{"a.test"}},
		{"repo wildcard cannot widen", []string{"api.b.test"}, []string{"*.b.test"}, []string{"api.b.test"}},
		{"repo narrows wildcard to name", []string{"*.b.test"}, []string{"x.b.test"}, []string{"x.b.test"}},
		{"wildcard meets narrower wildcard", []string{"*.b.test"}, []string{"*.cdn.b.test"}, []string{"*.cdn.b.test"}},
		{"wildcard does not give its suffix", []string{"*.b.test"}, []string{"b.test"}, []string{}},
		{"disjoint wildcards", []string{"*.b.test"}, []string{"*.c.test"}, []string{}},
		{"ports meet", []string{"a.test"}, []string{"a.test:443"}, []string{"a.test:443"}},
		{"ports cannot widen", []string{"a.test:443"}, []string{"a.test"}, []string{"a.test:443"}},
		{"ports disjoint", []string{"a.test:443"}, []string{"a.test:8443"}, []string{}},
		{"invalid repo entry dropped", []string{"a.test"}, []string{"*", "a.test"}, []string{"a.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Policy{Allow: tt.org}.Narrow(Policy{Allow: tt.repo}).Allow
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if tt.repo == nil {
				want = tt.want // unchanged order
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Narrow = %q, want %q", got, want)
			}
			// Property: nothing the result allows is refused by the org.
			n := Policy{Allow: got}
			for _, h := range []string{"a.test", "x.b.test", "api.b.test", "y.cdn.b.test", "b.test", "evil.test", "c.test"} {
				for _, port := range []int{80, 443, 8443} {
					if n.Allows(h, port) && !(Policy{Allow: tt.org}).Allows(h, port) {
						t.Errorf("narrowed policy allows %s:%d that the org refuses", h, port)
					}
				}
			}
		})
	}
}

func TestNarrowLimitsAndPrivate(t *testing.T) {
	org := Policy{Allow: []string{"a.test"}, AllowPrivate: []string{"mirror.test"}, MaxBytes: 100, MaxConns: 0, MaxRequests: 50}
	got := org.Narrow(Policy{AllowPrivate: []string{"10.0.0.0/8"}, MaxBytes: 1000, MaxConns: 4, MaxRequests: 0})
	if got.MaxBytes != 100 || got.MaxConns != 4 || got.MaxRequests != 50 {
		t.Errorf("limits = %d/%d/%d, want 100/4/50 (repo may lower, never raise)", got.MaxBytes, got.MaxConns, got.MaxRequests)
	}
	if !slices.Equal(got.AllowPrivate, []string{"mirror.test"}) {
		t.Errorf("AllowPrivate = %q: the repo must not add private destinations", got.AllowPrivate)
	}
}
