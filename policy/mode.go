package policy

// Run modes: how an authorized trigger proceeds.
const (
	// ModeDirect runs the agent on the task at once (the default).
	ModeDirect = "direct"
	// ModePlan runs the agent first in a read-only plan phase; its plan is
	// posted and the run goes on only once a user with the trigger
	// permission approves it.
	ModePlan = "plan"
)

// mode resolves the run mode: the repository's choice, except that an
// org's plan gate cannot be lifted. A repository that asks for direct
// under an org's plan gets an error rather than a silent clamp.
func (m *merger) mode(e *EffectiveConfig) {
	e.Mode = ModeDirect
	if m.org.Mode != "" {
		e.Mode = m.org.Mode
	}
	if m.repo.Mode == "" {
		return
	}
	if m.org.Mode == ModePlan && m.repo.Mode != ModePlan {
		m.widen("mode", "%q would lift the org's %q: a repository cannot skip the plan gate", m.repo.Mode, m.org.Mode)
		return
	}
	e.Mode = m.repo.Mode
}
