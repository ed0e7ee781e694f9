package runner

import "errors"

// ErrPreflight marks a run whose network pre-flight failed: the agent was
// never started. It is the sandbox's verdict, not a passing fault, so it
// is reported to the requester rather than retried.
var ErrPreflight = errors.New("network pre-flight failed, the run does not start")

// ErrInvalidSpec marks a Spec the runner refuses (a bad image name, path,
// limit or environment). Retrying the same spec cannot help.
var ErrInvalidSpec = errors.New("spec")
