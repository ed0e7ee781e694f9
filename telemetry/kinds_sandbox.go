package telemetry

// Event kinds of the sandbox's steps before the agent (package sandbox).
const (
	KindSetupStarted         = "setup.started"         // attrs: command, image, allow, secrets (names), timeout
	KindSetupExited          = "setup.exited"          // attrs: exit_code, timed_out, duration_ms, output_tail
	KindInstructionsRestored = "instructions.restored" // attrs: from, paths
	KindBaselineTaken        = "workspace.baseline"    // attrs: paths (count)
	// KindSetupTrust records whether the setup phase got its secrets.
	// attrs: decision (with-secrets, without-secrets, stop), reason,
	// changed (setup inputs that differ from the default branch), secrets
	// (names).
	KindSetupTrust = "setup.trust"
)

// Event kinds of the verification.
const (
	KindVerifyStarted  = "verify.started"  // attrs: commit, command, image, network
	KindVerifyFinished = "verify.finished" // attrs: commit, exit_code, timed_out, conclusion, duration_ms, output_tail, stopped
)

// Event kinds of the run's network beyond its requests (network.go).
const (
	// KindNetPreflight is the pre-flight probe's decision: recorded for
	// the audit trail, left out of the run's network table.
	KindNetPreflight = "net.preflight"
	// KindEgressExfiltration: a request (egress, LLM gateway, setup or
	// verify) carried one of the run's secrets; the run was stopped.
	// attrs: path ("egress" or "gateway"), phase, host, method, url_path,
	// where, secret (its name), form.
	KindEgressExfiltration = "egress.exfiltration"
)
