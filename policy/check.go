package policy

import (
	"fmt"
	"slices"
	"strconv"
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
