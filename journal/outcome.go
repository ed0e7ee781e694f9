package journal

// Outcome is how a run ended, as its last audit event ("outcome"), its
// progress comment and its check say.
type Outcome string

// Outcomes of a run.
const (
	Succeeded    Outcome = "succeeded"
	Failed       Outcome = "failed"
	TimedOut     Outcome = "timed out"
	NoChange     Outcome = "no change"
	Rejected     Outcome = "rejected by policy"
	SandboxError Outcome = "sandbox error"
	// Exfiltration: the gateway stopped a request carrying a secret.
	Exfiltration Outcome = "stopped: secret in a request"
	// Planned: the run made its plan and waits for its approval.
	Planned Outcome = "planned"
)
