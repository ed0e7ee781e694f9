package runner

import (
	"fmt"
	"time"
)

// Defaults applied to zero Limits fields.
const (
	DefaultTimeout     = 30 * time.Minute
	DefaultMemoryBytes = 2 << 30
	DefaultNanoCPUs    = 1_000_000_000
	DefaultPids        = 256
	DefaultTmpfsBytes  = 256 << 20
	DefaultOutputBytes = 1 << 20
	// DefaultUserID is the uid:gid the agent runs as when Spec.User is empty.
	DefaultUserID = "65532:65532"
	// DefaultRelayImage is the relay image when Network.RelayImage is empty.
	DefaultRelayImage = "agentgate/relay:dev"
	// DefaultProbeDeniedHost is the pre-flight's never-allowed host when
	// Network.ProbeDeniedHost is empty.
	DefaultProbeDeniedHost = "preflight.agentgate.invalid"
)

// Bounds of the relay container: it only copies bytes.
const (
	relayMemoryBytes = 64 << 20
	relayPids        = 32
	relayNanoCPUs    = 1_000_000_000
	// RelayReadyTimeout bounds the wait for the relay's pre-flight.
	RelayReadyTimeout = 15 * time.Second
)

// minMemoryBytes is the smallest memory limit Docker accepts.
const minMemoryBytes = 6 << 20

// withDefaults fills zero limits with their defaults and rejects negative ones.
func (l Limits) withDefaults() (Limits, error) {
	if l.Timeout < 0 || l.MemoryBytes < 0 || l.NanoCPUs < 0 || l.Pids < 0 || l.TmpfsBytes < 0 || l.OutputBytes < 0 {
		return l, fmt.Errorf("limits must not be negative: %+v", l)
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.MemoryBytes < minMemoryBytes {
		return l, fmt.Errorf("memory limit %d is below Docker's minimum of %d bytes", l.MemoryBytes, minMemoryBytes)
	}
	if l.NanoCPUs == 0 {
		l.NanoCPUs = DefaultNanoCPUs
	}
	if l.Pids == 0 {
		l.Pids = DefaultPids
	}
	if l.TmpfsBytes == 0 {
		l.TmpfsBytes = DefaultTmpfsBytes
	}
	if l.OutputBytes == 0 {
		l.OutputBytes = DefaultOutputBytes
	}
	return l, nil
}
