package policy

import (
	"fmt"
	"path"
	"strings"
)

// DefaultProtectedPaths are protected in every repository; a file can add
// globs, never remove these.
var DefaultProtectedPaths = []string{".github/workflows/**", ".github/agentgate.yml", "CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"}

// checkGlob reports a glob MatchPath cannot use.
func checkGlob(g string) error {
	if strings.HasPrefix(g, "/") || strings.Contains(g, "\\") {
		return fmt.Errorf("%q: use a path relative to the repository root with / separators", g)
	}
	for _, seg := range strings.Split(g, "/") {
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return fmt.Errorf("%q: ** must be a whole path segment", g)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("%q: bad glob", g)
		}
	}
	return nil
}

// MatchPath reports whether the slash-separated repository path p matches
// glob g: segments match with path.Match (*, ?, [...]), and a "**"
// segment matches any number of segments, none included. A glob without
// a slash also matches the base name at any depth, as .gitignore does
// ("*.pem" matches "a/b/key.pem"). Matching is case-sensitive.
func MatchPath(g, p string) bool {
	p = strings.TrimPrefix(p, "/")
	if !strings.Contains(g, "/") && g != "**" {
		g = "**/" + g
	}
	return matchSegs(strings.Split(g, "/"), strings.Split(p, "/"))
}

// MatchAny reports whether p matches any of the globs.
func MatchAny(globs []string, p string) bool {
	for _, g := range globs {
		if MatchPath(g, p) {
			return true
		}
	}
	return false
}

func matchSegs(g, p []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for len(g) > 1 && g[1] == "**" {
				g = g[1:]
			}
			if len(g) == 1 {
				return true
			}
			for i := 0; i <= len(p); i++ {
				if matchSegs(g[1:], p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, err := path.Match(g[0], p[0]); err != nil || !ok {
			return false
		}
		g, p = g[1:], p[1:]
	}
	return len(p) == 0
}
