package policy

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of the verification, CI and commit settings.
const (
	DefaultVerifyTimeout = 10 * time.Minute
	DefaultCommitMethod  = "auto"
)

// Verify is a command run on the pushed commit in a fresh sandbox with no
// agent and no model access; its result is the check run agentgate/verify.
type Verify struct {
	Command Command   `json:"command,omitempty"` // e.g. "go test ./..."
	Image   string    `json:"image,omitempty"`   // default: the agent's image
	Timeout *Duration `json:"timeout,omitempty"` // default 10m
	Allow   []string  `json:"allow,omitempty"`   // egress allowlist; default none at all
}

// CI says how the repository's own CI treats agentgate's commits.
type CI struct {
	// Hold marks agentgate's commits with "[skip ci]" until a maintainer
	// approves; the approval pushes the same tree unmarked. Default true.
	Hold *bool `json:"hold,omitempty"`
}

// Commits says how commits reach GitHub.
type Commits struct {
	// Method is auto (the Git Data API, which GitHub signs, when the
	// change is small enough; a git push otherwise), api or git.
	Method string `json:"method,omitempty"`
}

// EffectiveVerify is the verification in force; an empty Command means none.
type EffectiveVerify struct {
	Command []string      `json:"command"`
	Image   string        `json:"image"`
	Timeout time.Duration `json:"timeout_ns"`
	Allow   []string      `json:"allow"`
}

// verify: the repository's command replaces the org's (a repository may
// not drop an org's verification: an org command stays when the
// repository names none); the timeout may only be lowered; the image must
// be one of the org's images when the org lists them; every allow entry
// must be covered by the org's verify.allow when the org sets one.
func (m *merger) verify(e *EffectiveConfig) {
	e.Verify = EffectiveVerify{Timeout: DefaultVerifyTimeout}
	o, r := m.org.Verify, m.repo.Verify
	for _, v := range []*Verify{o, r} {
		if v == nil {
			continue
		}
		if v.Command != nil {
			e.Verify.Command = slices.Clone([]string(v.Command))
		}
		if v.Image != "" {
			e.Verify.Image = v.Image
		}
		if v.Allow != nil {
			e.Verify.Allow = slices.Clone(v.Allow)
		}
	}
	if o != nil && o.Timeout != nil {
		e.Verify.Timeout = time.Duration(*o.Timeout)
	}
	if r != nil && r.Timeout != nil {
		if o != nil && o.Timeout != nil && *r.Timeout > *o.Timeout {
			m.widen("verify/timeout", "%s is longer than the org's %s; a repository can only shorten it", r.Timeout, o.Timeout)
		}
		e.Verify.Timeout = time.Duration(*r.Timeout)
	}
	if r != nil {
		if r.Image != "" && len(m.org.Images) > 0 && !slices.Contains(m.org.Images, r.Image) {
			m.widen("verify/image", "%q is not one of the org's images (%s)", r.Image, strings.Join(m.org.Images, ", "))
		}
		if o != nil && o.Allow != nil {
			for i, a := range r.Allow {
				if !coveredBy(o.Allow, a) {
					m.widen("verify/allow/"+strconv.Itoa(i), "%q is not allowed by the org's verify.allow (%s)", a, strings.Join(o.Allow, ", "))
				}
			}
		}
	}
	e.Verify.Allow = sortedSet(e.Verify.Allow, false)
}

// ci: holding CI is the safe default; where the org holds it a repository
// cannot release it. commits.method is a preference either file may set.
func (m *merger) ci(e *EffectiveConfig) {
	e.CIHold = true
	hold := func(c *Config) *bool {
		if c.CI == nil {
			return nil
		}
		return c.CI.Hold
	}
	if h := hold(m.org); h != nil {
		e.CIHold = *h
	}
	if h := hold(m.repo); h != nil {
		if o := hold(m.org); o != nil && *o && !*h {
			m.widen("ci/hold", "the org sets ci.hold: true; a repository cannot release it")
		}
		e.CIHold = *h
	}
	e.CommitMethod = DefaultCommitMethod
	for _, c := range []*Config{m.org, m.repo} {
		if c.Commits != nil && c.Commits.Method != "" {
			e.CommitMethod = c.Commits.Method
		}
	}
}
