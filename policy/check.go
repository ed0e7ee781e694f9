package policy

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// check finds what the schema cannot say: allowlist entries the egress
// proxy would refuse, bad globs, and an org file whose own agent is not in
// its own lists.
func (c *Config) check() error {
	if c.Network != nil {
		for i, a := range c.Network.Allow {
			if _, err := parseHostPattern(a); err != nil {
				p := "network/allow/" + strconv.Itoa(i)
				return c.src.errorAt(p, prefix(p, err.Error()))
			}
		}
		for _, h := range c.Network.Hosts() {
			rules := h.Rules
			if h.Inject != nil {
				rules = append(slices.Clone(rules), h.Inject.Rules...)
			}
			for _, r := range rules {
				if err := checkRule(r); err != nil {
					p := "network/allow"
					return c.src.errorAt(p, prefix(p, h.Host+": "+err.Error()))
				}
			}
		}
	}
	if c.Setup != nil {
		for i, a := range c.Setup.Allow {
			if _, err := parseHostPattern(a); err != nil {
				p := "setup/allow/" + strconv.Itoa(i)
				return c.src.errorAt(p, prefix(p, err.Error()))
			}
		}
		for i, g := range c.Setup.Inputs {
			if err := checkGlob(g); err != nil {
				p := "setup/inputs/" + strconv.Itoa(i)
				return c.src.errorAt(p, prefix(p, err.Error()))
			}
		}
	}
	for i, g := range c.ProtectedPaths {
		if err := checkGlob(g); err != nil {
			p := "protected_paths/" + strconv.Itoa(i)
			return c.src.errorAt(p, prefix(p, err.Error()))
		}
	}
	if c.Verify != nil {
		for i, a := range c.Verify.Allow {
			if _, err := parseHostPattern(a); err != nil {
				p := "verify/allow/" + strconv.Itoa(i)
				return c.src.errorAt(p, prefix(p, err.Error()))
			}
		}
		if c.Verify.Image != "" && len(c.Images) > 0 && !slices.Contains(c.Images, c.Verify.Image) {
			return c.src.errorAt("verify/image", fmt.Sprintf("verify.image: %q is not in images", c.Verify.Image))
		}
	}
	if c.Agent != nil {
		if c.Agent.Preset != "" && len(c.Presets) > 0 && !slices.Contains(c.Presets, c.Agent.Preset) {
			return c.src.errorAt("agent/preset", fmt.Sprintf("agent.preset: %q is not in presets", c.Agent.Preset))
		}
		if c.Agent.Image != "" && len(c.Images) > 0 && !slices.Contains(c.Images, c.Agent.Image) {
			return c.src.errorAt("agent/image", fmt.Sprintf("agent.image: %q is not in images", c.Agent.Image))
		}
	}
	return nil
}

// checkRule checks a method and path rule beyond what the schema's pattern
// does ("**" only as a whole segment; segment patterns valid); the egress
// proxy parses the same syntax.
func checkRule(r string) error {
	f := strings.Fields(r)
	if len(f) != 2 {
		return fmt.Errorf("rule %q: want \"METHOD PATH\"", r)
	}
	if f[1] == "*" {
		return nil
	}
	for _, sg := range strings.Split(strings.TrimPrefix(f[1], "/"), "/") {
		if sg != "**" && strings.Contains(sg, "**") {
			return fmt.Errorf("rule %q: \"**\" must be a whole segment", r)
		}
		if _, err := path.Match(sg, ""); err != nil {
			return fmt.Errorf("rule %q: bad pattern %q", r, sg)
		}
	}
	return nil
}
